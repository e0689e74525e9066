"""CLI, %mlexp subcommands, conclude, lessons, and re-executing the report notebook."""

import nbformat
import pytest
from report_factory import make_experiment, seeds, write_run

import jupyter_mlexp.frontdoors.magics.report_magics  # noqa: F401  (registers %mlexp report, conclude)
from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record import lessons
from jupyter_mlexp.frontdoors.cli import main
from jupyter_mlexp.frontdoors.magics.experiment_magics import SUBCOMMANDS
from jupyter_mlexp.report.conclude import conclude, expected_value
from jupyter_mlexp.report.report_errors import ReportError


@pytest.fixture
def exp(workspace):
    exp = make_experiment(workspace, expected="val_acc about 0.93")
    seeds(exp, "base", [0.80, 0.81, 0.82], stage="baselines", params={"warmup": 0})
    seeds(exp, "wu", [0.93, 0.94, 0.95], params={"warmup": 5}, duration=10.0)
    return exp


def test_cli_report_conclude_lesson(exp, capsys):
    assert main(["report", "exp", "--html"]) == 0
    assert (exp.path / "report.ipynb").exists() and (exp.path / "report.html").exists()
    assert main(["report", "exp", "--baseline", "nope=1"]) == 2
    assert "no counted run has the baseline parameters" in capsys.readouterr().err
    assert main(["lesson", "Warm-up", "matters", "--experiment", "exp", "--run", "wu-s0"]) == 0
    (lesson,) = lessons.read_lessons()
    assert lesson.text == "Warm-up matters" and lesson.experiment == "exp" and lesson.run_id == "wu-s0"
    assert lesson.timestamp and lesson.line
    assert main(["conclude", "exp", "--learning", "warm-up pays off", "--next", "try cosine"]) == 0
    text = exp.journal_md.read_text()
    assert "[COMPLETED]" in text and "Learning: warm-up pays off" in text and "Next step: try cosine" in text
    # the report links the lesson and shows the conclusion
    main(["report", "exp"])
    nb = nbformat.read(exp.path / "report.ipynb", as_version=4)
    body = "\n".join(c.source for c in nb.cells)
    assert "`../lessons.md:" in body and "Warm-up matters" in body and "warm-up pays off" in body


def test_conclude_computes_outcome_and_pairs_planned(exp):
    with pytest.raises(ReportError, match="learning"):
        conclude(exp, "  ")
    text = conclude(exp, "warm-up pays off")
    planned = next(e for e in exp.journal().entries if "PLANNED" in e.tags)
    assert f"Pairs the PLANNED entry at JOURNAL.md:{planned.line}" in text
    assert "Actual outcome: val_acc = 0.94 ± 0.01 (n = 3)" in text
    assert "Delta vs expectation ('val_acc about 0.93'): +0.01" in text
    assert "Delta vs baseline `warmup=0`" in text and "+0.13" in text
    assert "Total run time: 36.0 s over 6 runs" in text
    assert "Next step: (not given)" in text
    entry = exp.journal().entries[-1]
    assert "COMPLETED" in entry.tags
    assert expected_value("about 93%", "val_acc") == pytest.approx(0.93)


def test_lessons_without_experiment(workspace):
    lessons.add_lesson("Seeds before conclusions")
    (one,) = lessons.read_lessons()
    assert one.experiment is None and one.text == "Seeds before conclusions"
    with pytest.raises(RecordError, match="empty lesson"):
        lessons.add_lesson("   ")


class FakeMagics:
    def __init__(self, exp):
        self.exp = exp

    def experiment(self, name=None):
        return self.exp


def test_magic_subcommands(exp, capsys):
    from IPython.core.error import UsageError

    SUBCOMMANDS["report"](FakeMagics(exp), ["--html"])
    assert "report written to" in capsys.readouterr().out
    with pytest.raises(UsageError):
        SUBCOMMANDS["conclude"](FakeMagics(exp), [])
    SUBCOMMANDS["conclude"](FakeMagics(exp), ["--learning", "it", "works", "--next", "ablate"])
    assert "Learning: it works" in exp.journal_md.read_text()


def _execute(path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) + o.get("text", "") for o in outputs)
    return outputs, text


@pytest.mark.slow
def test_report_code_cells_reexecute(exp):
    write_run(exp, "nan", seed=9, params={"warmup": 5}, metrics={"val_acc": [float("nan")]})
    path = exp.path / "report.ipynb"
    main(["report", "exp"])
    # re-run as the first cell invites: every result is recomputed, and nothing is shown twice
    outputs, text = _execute(path)
    for what in ("Methods table", "Results tables", "Comparison (full runs)", "Verdict"):
        assert f"{what}: unchanged since the report was built" in text
    assert "Figure comparison_full_val_acc: unchanged" in text
    assert not [o for o in outputs if {"text/markdown", "image/webp"} & set(o.get("data", {}))]
    # a run added after the report was built: the re-run shows what changed, marked as recomputed
    write_run(exp, "late", seed=3, params={"warmup": 5}, metrics={"val_acc": [0.96]})
    outputs, text = _execute(path)
    assert "Results tables: changed since the report was built, recomputed now" in text
    assert "0.945 ± 0.01291 (n = 4)" in text and "Methods table: changed" in text
    assert any("image/webp" in o.get("data", {}) for o in outputs)
