"""The audit of issue 9: every surface of the report agrees with the one verdict, and what it must not trust."""

import json

import nbformat
import pytest
from report_factory import make_experiment, seeds
from scipy import stats as sps

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.report.build import build_report
from jupyter_mlexp.report.load import load_experiment
from jupyter_mlexp.report.report_verdict import judge

BODY = "Warm-up raises validation accuracy\nmetrics: val_acc, loss\nstage: full\n"


def _markdown(exp) -> str:
    nb = nbformat.read(build_report(exp), as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _current(exp) -> dict:
    h = exp.hypothesis
    return {"hypothesis_version": h.version, "hypothesis_sha256": h.content_sha256}


def _two_versions(workspace):
    """v1 runs at 0.80-0.82, then v2 (a stricter criterion, with a reason) and its runs at 0.95-0.97."""
    exp = make_experiment(workspace, success="val_acc >= 0.9")
    seeds(exp, "old", [0.80, 0.81, 0.82], params={"lr": 0.1}, **_current(exp))
    exp.register(BODY + "success: val_acc >= 0.92\nreason: stricter\n")
    seeds(exp, "new", [0.95, 0.96, 0.97], params={"lr": 0.1}, **_current(exp))
    return exp


# -- 1. the report's descriptive results use the runs the verdict judges -------------------------


def test_earlier_version_runs_stay_out_of_the_figure_and_tables(workspace):
    exp = _two_versions(workspace)
    v = judge_experiment(exp)
    assert v.decision == "supported" and sorted(v.earlier_runs) == ["old-s0", "old-s1", "old-s2"]
    text = _markdown(exp)
    fig = json.loads((exp.path / "figures" / "comparison_full_val_acc.json").read_text())
    (row,) = fig["configurations"]
    assert row["n"] == 3 and row["values"] == [0.95, 0.96, 0.97]
    assert row["interval"][0] == pytest.approx(v.judged[0].bound)  # the figure's end is the verdict's bound
    results = text[text.index("## Results") : text.index("## Discussion")]
    current = results[: results.index("earlier hypothesis versions")]
    assert "(n = 3)" in current and "(n = 6)" not in results and "0.96 ± 0.01 (n = 3)" in current
    earlier = results[results.index("earlier hypothesis versions") :]
    assert "exploratory" in earlier and "0.81 ± 0.01 (n = 3)" in earlier


# -- 2. hand edits of idea.json ----------------------------------------------------------------------


def test_a_deleted_hash_with_an_edited_criterion_is_not_trusted(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.99")
    seeds(exp, "a", [0.95, 0.96, 0.97], params={"lr": 0.1}, **_current(exp))
    data = json.loads(exp.idea_json.read_text())
    del data["content_sha256"]
    data["success"] = "val_acc >= 0.5"
    exp.idea_json.write_text(json.dumps(data))
    for v in (judge_experiment(exp), judge(load_experiment(exp))):
        assert v.decision == "inconclusive" and "edited by hand" in v.reason and "reason" in v.reason, v.reason
    exp.register(BODY + "success: val_acc >= 0.5\nreason: lowered by hand, now on record\n")
    v = judge_experiment(exp)  # on record now; the runs were made under v1, so they are exploratory
    assert "edited by hand" not in v.reason and len(v.earlier_runs) == 3


def test_a_hand_edited_version_does_not_make_old_runs_current(workspace):
    exp = _two_versions(workspace)
    data = json.loads(exp.idea_json.read_text())
    data["version"] = 1  # content (and its hash) unchanged: only the version number moved
    exp.idea_json.write_text(json.dumps(data))
    for v in (judge_experiment(exp), judge(load_experiment(exp))):
        assert v.decision == "inconclusive" and "version" in v.reason and "edited by hand" in v.reason, v.reason
        assert "re-register" in v.reason
    reg = exp.register(BODY + "success: val_acc >= 0.92\nreason: restore the version after a hand edit\n")
    assert reg.hypothesis.version == 3
    v = judge_experiment(exp)
    assert v.decision == "inconclusive" and len(v.earlier_runs) == 6  # v3 has no run of its own yet


def test_runs_are_matched_to_the_hypothesis_by_their_hash(workspace):
    exp = _two_versions(workspace)
    # a run that names the current version but was made under other content (its hash says so)
    seeds(exp, "odd", [0.99, 0.99, 0.98], params={"lr": 0.5}, hypothesis_version=2, hypothesis_sha256="0" * 64)
    v = judge_experiment(exp)
    assert {"odd-s0", "odd-s1", "odd-s2"} <= set(v.earlier_runs)
    assert [a.label for a in v.candidates] == ["lr=0.1 [full]"]


# -- 3. Holm: the bound shown agrees with the adjusted decision ---------------------------------------


def _values(p_target: float, n: int = 3, threshold: float = 0.9, sd: float = 0.01) -> list[float]:
    """n values around a mean whose one-sided one-sample p against ``threshold`` is ``p_target``."""
    t = sps.t.isf(p_target, n - 1)
    m = threshold + t * sd / n**0.5
    return [m - sd, m, m + sd]


def test_holm_bounds_after_the_first_non_rejected_step_agree_with_the_adjusted_p(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.9")
    seeds(exp, "a", _values(0.03), params={"c": 1})
    seeds(exp, "b", _values(0.04), params={"c": 2})
    v = judge_experiment(exp)
    assert v.decision == "inconclusive"
    for a in v.candidates:
        assert a.p_adjusted == pytest.approx(0.06, abs=1e-6)  # max(2 × 0.03, 1 × 0.04)
        assert a.bound < 0.9  # neither bound clears: p̃ ≥ α for both
        assert a.bound_level == pytest.approx(0.975)  # the level of Holm's first, non-rejected step


def test_holm_bound_clears_exactly_when_the_adjusted_p_is_below_alpha(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.9")
    for c, p in enumerate([0.001, 0.011, 0.02, 0.03, 0.2]):
        seeds(exp, f"c{c}", _values(p), params={"c": c})
    v = judge_experiment(exp)
    for a in v.candidates:
        assert (a.bound >= 0.9) == (a.p_adjusted < 0.05), a.to_dict()
    assert sorted(a.label for a in v.judged) == ["c=0 [full]", "c=1 [full]"]


def test_an_absolute_criterion_flags_no_seed_count_of_the_untested_baseline(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.9")
    seeds(exp, "base", [0.5, 0.5, 0.51, 0.52, 0.5], params={"model": "majority"}, stage="baselines")
    seeds(exp, "t", [0.95, 0.96, 0.97], params={"model": "mlp"})
    v = judge_experiment(exp)
    assert v.decision == "supported" and not v.flags, v.flags


# -- 5. --baseline cannot move the verdict --------------------------------------------------------


def test_report_baseline_is_refused_when_one_is_registered(workspace, capsys):
    from jupyter_mlexp.frontdoors.cli import main

    exp = make_experiment(workspace, success="val_acc >= baseline + 0.01", baseline="lr=0.1")
    seeds(exp, "b", [0.80, 0.81, 0.82], params={"lr": 0.1})
    seeds(exp, "t", [0.90, 0.91, 0.92], params={"lr": 0.2})
    with pytest.raises(MlexpError, match="baseline is registered"):
        build_report(exp, baseline="lr=0.2")
    assert main(["report", exp.name, "--baseline", "lr=0.2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "baseline is registered" in err and len(err.splitlines()) == 1


def test_report_baseline_without_a_registered_one_is_descriptive_only(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.9")
    seeds(exp, "b", [0.80, 0.81, 0.82], params={"lr": 0.1})
    seeds(exp, "t", [0.93, 0.95, 0.97], params={"lr": 0.2})
    before = judge_experiment(exp).to_dict()
    data = load_experiment(exp, baseline="lr=0.1")
    assert judge(data).to_dict() == before
    build_report(exp, baseline="lr=0.1")
    nb = nbformat.read(exp.path / "report.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "chosen after the runs" in text
    assert nb.metadata["mlexp"]["verdict"] == before["decision"]


# -- 6. the relative criterion's figure shows the decisive difference ------------------------------


def test_relative_figure_draws_the_difference_with_the_verdicts_interval(workspace):
    exp = make_experiment(
        workspace, success="val_acc >= baseline + 0.01", baseline="warmup=0", treatments=[{"warmup": 5}]
    )
    seeds(exp, "b", [0.80, 0.83, 0.81], params={"warmup": 0})
    seeds(exp, "t", [0.83, 0.87, 0.84], params={"warmup": 5})
    v = judge_experiment(exp)
    build_report(exp)
    fig = json.loads((exp.path / "figures" / "comparison_full_val_acc.json").read_text())
    (diff,) = fig["difference"]["configurations"]
    assert fig["difference"]["threshold"] == pytest.approx(0.01)
    assert diff["per_seed_differences"] == pytest.approx([0.03, 0.04, 0.03])
    assert diff["estimate"] == pytest.approx(v.judged[0].estimate)
    assert diff["interval"][0] == pytest.approx(v.judged[0].bound)  # the verdict's one-sided lower bound
    assert "paired" in diff["test"]


def test_more_than_twelve_configurations_stay_distinct(workspace):
    from jupyter_mlexp.report.figures import styles

    exp = make_experiment(workspace, success="val_acc >= 0.9")
    for c in range(14):
        seeds(exp, f"c{c}", [0.9, 0.91, 0.92], params={"c": c})
    data = load_experiment(exp)
    got = styles(data, "full")
    assert len(got) == 14 and len(set(got.values())) == 14


# -- 7. zero variance leads ---------------------------------------------------------------------------


def test_zero_variance_reason_leads_with_the_note(workspace):
    exp = make_experiment(workspace)
    seeds(exp, "z", [0.95, 0.95, 0.95], params={"lr": 0.1})
    v = judge_experiment(exp)
    assert "straddles" not in v.reason and v.reason.startswith(f"{v.selection}: zero variance"), v.reason


# -- 8. other changes after runs are called out -------------------------------------------------------


@pytest.mark.parametrize(
    "before, after, expected",
    [
        ("level: 0.99\n", "level: 0.9\n", "level lowered: changed from 0.99 to 0.9"),
        ("seeds: 5\n", "seeds: 3\n", "seeds per configuration lowered: changed from 5 to 3"),
        ("treatment: lr=0.1\n", "treatment: lr=0.2\n", "treatment changed"),
        ("baseline: lr=0.01\n", "baseline: lr=0.05\n", "baseline changed"),
    ],
)
def test_lowered_level_seeds_or_changed_arms_are_called_out(workspace, before, after, expected):
    exp = make_experiment(workspace)
    exp.register(BODY + "success: val_acc >= 0.9\n" + before + "reason: first\n")
    seeds(exp, "a", [0.95, 0.96, 0.97], params={"lr": 0.1}, **_current(exp))
    with pytest.raises(MlexpError, match="needs a reason"):
        exp.register(BODY + "success: val_acc >= 0.9\n" + after)
    exp.register(BODY + "success: val_acc >= 0.9\n" + after + "reason: second thoughts\n")
    v = judge_experiment(exp)
    assert any(expected in c and "after 3 runs" in c for c in v.criterion_changes), v.criterion_changes
    text = _markdown(exp)
    intro = text[text.index("## Introduction") : text.index("## Methods")]
    assert expected in intro and expected in text[text.index("## Conclusion") :]
