"""Every message says what to do next: errors on stderr with a non-zero exit, the fix named in the message."""

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.record.hypothesis import Criterion, criterion_check
from jupyter_mlexp.core.record.journal import TAGS
from jupyter_mlexp.frontdoors.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_status_of_an_unknown_experiment_is_an_error_that_says_how_to_make_one(workspace, capsys):
    assert main(["status", "nope"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("mlexp: error: no experiment 'nope'") and "mlexp hypothesis nope" in err
    Experiment("empty").path.mkdir(parents=True)  # a folder without a hypothesis: still an error, with the fix
    assert main(["status", "empty"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "no registered hypothesis" in err and "%%hypothesis" in err


def test_several_experiments_the_message_names_the_option(workspace, capsys):
    for name in ("alpha", "beta"):
        Experiment(name).register("A claim on acc.\nsuccess: acc >= 0.9\nmetrics: acc\n")
    for argv in (["status"], ["runs"], ["journal"], ["report"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "several experiments here (alpha, beta)" in err and "--experiment NAME" in err, argv
    # and the option the message names works for the commands that take a positional name too
    assert main(["status", "--experiment", "beta"]) == 0
    assert "experiment beta" in capsys.readouterr().out
    assert main(["status", "alpha", "--experiment", "beta"]) == 2
    assert "two experiments named" in capsys.readouterr().err


def test_a_second_ignore_needs_replace_and_keeps_the_history(experiment, capsys):
    run = experiment.start_run("quick", params={"lr": 0.1})
    run.log_metric("val_acc", 0.91)
    experiment.finish_run(run, "completed")
    assert main(["ignore", run.run_id, "--reason", "bad shard"]) == 0
    capsys.readouterr()
    assert main(["ignore", run.run_id, "--reason", "wrong labels"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "already ignored: 'bad shard'" in err and "--replace" in err
    assert experiment.ignored()[0][0].reason == "bad shard"  # refused: nothing changed
    assert main(["ignore", run.run_id, "--reason", "wrong labels", "--replace"]) == 0
    capsys.readouterr()
    (now,), _ = experiment.ignored()
    assert now.reason == "wrong labels"
    text = experiment.ignored_md.read_text()
    assert "bad shard" in text and "wrong labels" in text  # both lines kept, the last one counts
    events = [e for e in experiment.events() if e.get("event") == "run_ignored"]
    assert [e["reason"] for e in events] == ["bad shard", "wrong labels"]
    assert events[-1]["replaces"] == "bad shard"


def test_unknown_journal_tags_are_refused_with_the_list(experiment, capsys):
    before = len(experiment.journal().entries)
    assert main(["journal", "--tag", "BOGUS", "loss", "spikes"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "unknown journal tag BOGUS" in err and ", ".join(TAGS) in err
    assert len(experiment.journal().entries) == before  # nothing written
    assert main(["journal", "--tag", "BOGUS"]) == 2  # listing by an unknown tag: the same refusal
    assert ", ".join(TAGS) in capsys.readouterr().err
    assert main(["journal", "--tag", "weird", "loss", "spikes"]) == 0  # known tags, any case
    assert main(["journal", "--tag", "WEIRD"]) == 0
    assert "loss spikes" in capsys.readouterr().out


def test_a_script_run_that_never_logs_the_criterion_metric_is_marked_and_warned(experiment, capsys):
    code = main(["run", "--seeds", "0,1", "--", sys.executable, "-c", "print('loss: 0.5')"])
    out, err = capsys.readouterr()
    assert code == 0
    warnings = [line for line in err.splitlines() if "never logged" in line]
    assert len(warnings) == 1, err  # one line at the end, not one per run
    assert warnings[0].startswith("mlexp: warning: 2 of 2 completed runs") and "'val_acc'" in warnings[0]
    assert "mlexp.log_metric('val_acc', value)" in warnings[0] and "val_acc: VALUE" in warnings[0]
    for info in experiment.runs():
        manifest = json.loads((info.path / "run.json").read_text())
        assert manifest["criterion_check"] == "not measured"
        assert any("'val_acc' was never logged" in w for w in manifest["warnings"])
    # a run that logs it is not warned about
    assert main(["run", "--", sys.executable, "-c", "print('val_acc: 0.93')"]) == 0
    assert "never logged" not in capsys.readouterr().err


@pytest.mark.slow
def test_a_notebook_run_that_never_logs_the_criterion_metric_is_warned_once(experiment, capsys, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('loss: 0.5')")]
    path = tmp_path / "train.ipynb"
    nbformat.write(nb, path)
    assert main(["run", str(path), "--experiment", "digits", "--seeds", "0,1"]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "never logged" in line] == [
        "mlexp: warning: 2 of 2 completed runs: the success criterion's metric 'val_acc' was never logged "
        "(no finite value): call mlexp.log_metric('val_acc', value) or print a line 'val_acc: VALUE'"
    ]
    for info in experiment.runs():
        assert "never logged" in " ".join(json.loads((info.path / "run.json").read_text())["warnings"])


def test_a_measured_relative_criterion_is_not_called_not_measured(experiment, capsys):
    relative = Criterion.parse("val_acc >= baseline + 0.01")
    assert criterion_check(relative, 0.93) == "compared with the baseline by the verdict"
    assert criterion_check(relative, None) == "not measured"
    experiment.register(
        "Dropout 0.2 improves validation accuracy on digits.\nsuccess: val_acc >= baseline + 0.01\n"
        "metrics: val_acc, loss\nbaseline: dropout=0.0\n",
        reason="relative",
    )
    assert main(["run", "--", sys.executable, "-c", "print('val_acc: 0.93')"]) == 0
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["criterion_check"]["result"] == "compared with the baseline by the verdict"
    (info,) = experiment.runs()
    assert json.loads((info.path / "run.json").read_text())["criterion_check"] != "not measured"


def _grids(text: str) -> set[str]:
    return set(re.findall(r"--grid\s+(\S+?)`?(?:\s|$)", text))


def test_readme_demo_and_notebook_name_the_same_grid():
    notebook = nbformat.read(REPO / "notebooks" / "digits.ipynb", as_version=4)
    in_notebook = _grids("\n".join(c.source for c in notebook.cells if c.cell_type == "markdown"))
    in_readme = _grids((REPO / "README.md").read_text())
    in_demo = _grids((REPO / ".ci" / "demo.sh").read_text())
    assert len(in_notebook) == 1 and in_readme == in_notebook and in_demo == in_notebook


def test_readme_says_allow_root_for_jupyter_lab_as_root():
    readme = (REPO / "README.md").read_text()
    assert "--allow-root" in readme and "make lab" in readme
