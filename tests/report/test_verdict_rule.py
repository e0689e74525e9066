"""The one verdict (core.verdict.judge) on records with known numbers, written file by file."""

import json
import random

import pytest
from report_factory import make_experiment, seeds, write_run
from scipy import stats as sps

from jupyter_mlexp.core.errors import HypothesisError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.hypothesis import Criterion, parse_body
from jupyter_mlexp.core.stats.inference import holm
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.report.build import build_report
from jupyter_mlexp.report.load import load_experiment
from jupyter_mlexp.report.report_verdict import judge

DEMO = [0.9644, 0.9622, 0.9489]


def test_the_demo_seeds_are_not_supported_at_the_default_level(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.95")
    seeds(exp, "demo", DEMO, params={"model": "mlp"})
    v = judge_experiment(exp)
    ref = sps.ttest_1samp(DEMO, 0.95, alternative="greater")
    lower = sps.t.interval(0.90, 2, loc=sps.tmean(DEMO), scale=sps.sem(DEMO))[0]  # one-sided 95% = two-sided 90%
    assert v.decision == "inconclusive" and v.decision != "supported"
    (arm,) = v.candidates
    assert arm.p == pytest.approx(ref.pvalue) and arm.bound == pytest.approx(lower) and arm.bound < 0.95
    assert f"lower bound {lower:.4g}" in v.reason and "one-sample t" in v.reason
    assert v.would_decide and "seeds per configuration" in v.would_decide
    # the report shows the same verdict, computed by the same function on the same numbers
    assert judge(load_experiment(exp)).to_dict() == v.to_dict()
    # a lower level decides it: 0.8 → t_{0.8,2} = 1.06, bound 0.9534 ≥ 0.95
    exp2 = make_experiment(workspace, name="lenient", success="val_acc >= 0.95", level=0.8)
    seeds(exp2, "demo", DEMO, params={"model": "mlp"})
    assert judge_experiment(exp2).decision == "supported"


def _noise(exp, lucky=7, k=10):
    rng = random.Random(3)
    for c in range(k):
        values = [0.88 + rng.gauss(0, 0.02) for _ in range(3)]
        if c == lucky:
            values = [0.93, 0.92, 0.915]  # one-sided p ≈ 0.02 against 0.9 alone; × 10 after Holm
        seeds(exp, f"c{c}", values, params={"c": c})


def test_one_lucky_configuration_of_ten_needs_a_registered_treatment(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.9")
    _noise(exp)
    v = judge_experiment(exp)
    lucky = next(a for a in v.candidates if a.params == {"c": 7})
    assert 0.005 < lucky.p < 0.05 and lucky.p_adjusted >= 0.05  # survives alone, not over k = 10
    assert v.decision != "supported" and not v.confirmatory and "exploratory" in v.reason
    assert len(v.candidates) == 10 and "k = 10" in v.reason

    pre = make_experiment(workspace, name="pre", success="val_acc >= 0.9", treatments=[{"c": 7}])
    _noise(pre)
    v = judge_experiment(pre)
    assert v.decision == "supported" and v.confirmatory and v.configurations == ["c=7 [full]"]
    assert "confirmatory" in v.reason and len(v.candidates) == 1
    assert v.candidates[0].p == pytest.approx(lucky.p)


def test_holm_matches_the_textbook_step_down():
    assert holm([0.01, 0.04, 0.03, None]) == pytest.approx([0.04, 0.09, 0.09, None], nan_ok=True)
    assert holm([0.5]) == [0.5]


def test_relative_criterion_paired_and_welch(workspace):
    exp = make_experiment(
        workspace, success="val_acc >= baseline + 0.01", baseline="warmup=0", treatments=[{"warmup": 5}]
    )
    base, treat = [0.80, 0.83, 0.81], [0.83, 0.87, 0.84]  # the same seeds: paired differences 0.03, 0.04, 0.03
    seeds(exp, "b", base, params={"warmup": 0})
    seeds(exp, "t", treat, params={"warmup": 5})
    v = judge_experiment(exp)
    diffs = [t - b for t, b in zip(treat, base)]
    ref = sps.ttest_1samp(diffs, 0.01, alternative="greater")
    (arm,) = v.candidates
    assert arm.test.startswith("paired") and arm.p == pytest.approx(ref.pvalue)
    assert v.baseline.params == {"warmup": 0} and v.decision == ("supported" if ref.pvalue < 0.05 else "inconclusive")

    # different seed sets: Welch, flagged
    exp2 = make_experiment(workspace, name="welch", success="val_loss < baseline", metrics=("val_loss",))
    for i, x in enumerate([0.50, 0.52, 0.51]):
        write_run(exp2, f"b{i}", stage="baselines", params={"m": "base"}, seed=i, metrics={"val_loss": [x]})
    for i, x in enumerate([0.40, 0.42, 0.41, 0.43]):
        write_run(exp2, f"t{i}", params={"m": "new"}, seed=10 + i, metrics={"val_loss": [x]})
    v = judge_experiment(exp2)
    # the plan is 3 seeds (the default): the fourth is reported, not pooled
    ref = sps.ttest_ind([0.40, 0.42, 0.41], [0.50, 0.52, 0.51], equal_var=False, alternative="less")
    (arm,) = v.candidates
    assert arm.test.startswith("Welch") and arm.p == pytest.approx(ref.pvalue)
    assert v.decision == "supported" and "upper bound" in v.reason
    assert arm.extra_seeds == [13] and any("beyond the plan reported, not pooled" in f for f in v.flags)
    assert any("different seed sets" in f for f in v.flags)


@pytest.mark.parametrize(
    "case, expected",
    [
        ("no_baseline", "relative but no baseline"),
        ("treatment_never_run", "was never run"),
        ("metric_never_logged", "never logged `val_acc`"),
        ("zero_variance", "zero variance"),
        ("all_nan", "NaN/inf"),
    ],
)
def test_bad_input_is_inconclusive_with_a_reason(workspace, case, expected):
    kw = {}
    if case == "no_baseline":
        kw = {"success": "val_acc >= baseline + 0.01"}
    if case == "treatment_never_run":
        kw = {"treatments": [{"lr": 0.5}]}
    exp = make_experiment(workspace, **kw)
    if case == "metric_never_logged":
        for i in range(3):
            write_run(exp, f"m{i}", seed=i, params={"lr": 0.1}, metrics={"loss": [0.3]})
    elif case == "zero_variance":
        seeds(exp, "z", [0.95, 0.95, 0.95], params={"lr": 0.1})
    elif case == "all_nan":
        for i in range(3):
            write_run(exp, f"n{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [0.9, float("nan")]})
    else:
        seeds(exp, "r", [0.91, 0.92, 0.93], params={"lr": 0.1})
    v = judge_experiment(exp)
    assert v.decision == "inconclusive" and expected in v.reason, v.reason
    assert judge(load_experiment(exp)).reason == v.reason


EARLY, LATE = "2026-11-20T09:00:00.000+00:00", "2026-11-20T11:00:00.000+00:00"


def test_nan_seeds_are_excluded_and_counted(workspace):
    # A NaN/inf of a seed the plan judges is an outcome of the method: the plan lacks a value, so the verdict
    # cannot say supported (it said supported on the other three seeds before the plan was fixed).
    exp = make_experiment(workspace)
    seeds(exp, "a", [0.95, 0.96, 0.97], params={"lr": 0.1})
    write_run(exp, "a-nan", seed=3, params={"lr": 0.1}, metrics={"val_acc": [float("inf")]}, started=EARLY)
    v = judge_experiment(exp)
    (arm,) = v.candidates
    assert arm.n == 2 and arm.nonfinite == 1 and "1 NaN/inf excluded" in v.reason and v.decision == "inconclusive"
    assert "2 of the plan's 3 seeds" in v.reason and "NaN/inf at seed 3" in v.reason
    # a NaN beyond the plan's seeds is reported, not pooled, and does not change the verdict
    exp2 = make_experiment(workspace, name="late")
    seeds(exp2, "a", [0.95, 0.96, 0.97], params={"lr": 0.1})
    write_run(exp2, "a-nan", seed=3, params={"lr": 0.1}, metrics={"val_acc": [float("inf")]}, started=LATE)
    v = judge_experiment(exp2)
    assert v.decision == "supported" and v.candidates[0].n == 3


def test_a_loosened_criterion_needs_a_reason_and_is_called_out(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.99")
    seeds(exp, "a", [0.95, 0.96, 0.97], params={"lr": 0.1})
    loose = "Warm-up raises validation accuracy\nsuccess: val_acc >= 0.9\nmetrics: val_acc, loss\nstage: full\n"
    with pytest.raises(HypothesisError, match="needs a reason.*reason: WHY"):
        exp.register(loose)
    assert exp.hypothesis.version == 1 and exp.hypothesis.success == "val_acc >= 0.99"  # nothing re-registered
    reg = exp.register(loose + "reason: 0.99 was a typo\n")
    assert reg.changed and reg.hypothesis.version == 2 and reg.hypothesis.update_reason == "0.99 was a typo"
    v = judge_experiment(exp)
    assert v.criterion_changes and "loosened" in v.criterion_changes[0]
    assert "from `val_acc >= 0.99` to `val_acc >= 0.9` after 3 runs" in v.criterion_changes[0]
    import nbformat

    nb = nbformat.read(build_report(exp), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    intro = text[text.index("## Introduction") : text.index("## Methods")]
    concl = text[text.index("## Conclusion") :]
    assert "after 3 runs" in intro and "after 3 runs" in concl
    assert intro.count("⚠") == 1  # one rule calls it out (the verdict's), once


def test_runs_under_an_earlier_version_are_exploratory_only(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.9")
    seeds(exp, "old", [0.95, 0.96, 0.97], params={"lr": 0.1}, hypothesis_version=1)
    exp.register(
        "Warm-up raises validation accuracy\nsuccess: val_acc >= 0.92\nmetrics: val_acc, loss\nstage: full\n"
        "reason: stricter\n"
    )
    v = judge_experiment(exp)
    assert v.decision == "inconclusive" and sorted(v.earlier_runs) == ["old-s0", "old-s1", "old-s2"]
    assert "earlier versions are exploratory" in v.reason


def test_idea_json_edited_by_hand_is_not_trusted(workspace):
    exp = make_experiment(workspace)
    seeds(exp, "a", [0.95, 0.96, 0.97], params={"lr": 0.1})
    data = json.loads(exp.idea_json.read_text())
    data["success"] = "val_acc >= 0.5"
    exp.idea_json.write_text(json.dumps(data))
    v = judge_experiment(exp)
    assert v.decision == "inconclusive" and "edited by hand" in v.reason
    # re-registering the hand-edited content is a change like any other: it needs a reason
    body = "Warm-up raises validation accuracy\nsuccess: val_acc >= 0.5\nmetrics: val_acc, loss\nstage: full\n"
    with pytest.raises(HypothesisError, match="needs a reason"):
        exp.register(body)
    assert exp.register(body + "reason: lowered by hand, now on record\n").hypothesis.version == 2
    assert judge_experiment(exp).decision == "supported"


def test_parser_reads_the_new_lines():
    h = parse_body(
        "A forest beats logreg.\nsuccess: val_acc >= baseline + 0.01\nmetrics: val_acc\n"
        "baseline: model=logreg, C=1.0\ntreatment: model=forest, n=200\ntreatment: model=forest, n=400\n"
        "seeds: 5\nlevel: 99%\nreason: why not\n"
    )
    assert h.baseline_spec.params == {"model": "logreg", "C": 1.0}
    assert h.treatments == [{"model": "forest", "n": 200}, {"model": "forest", "n": 400}]
    assert h.seeds_needed == 5 and h.seeds == [] and h.level == pytest.approx(0.99) and h.update_reason == "why not"
    assert h.success_criterion == Criterion("val_acc", ">=", 0.01, relative=True)
    assert str(Criterion.parse("val_loss < baseline")) == "val_loss < baseline"
    assert str(Criterion.parse("val_loss <= baseline - 0.1%")) == "val_loss <= baseline - 0.001"
    assert Criterion.parse("val_acc >= baseline + 0.01").holds(0.99) is None  # no per-run check for relative
    free = parse_body("A claim.\nsuccess: acc > 0.5\nmetrics: acc\nbaseline: majority class, val_acc about 0.10\n")
    assert free.baseline_spec.note and free.baseline_spec.params is None and free.seeds_needed == 3
    assert parse_body("A claim.\nsuccess: acc > 0.5\nmetrics: acc\nbaseline: stage baselines\n").baseline_spec.stage
    with pytest.raises(HypothesisError, match="names no configuration"):
        parse_body("A claim.\nsuccess: acc > 0.5\nmetrics: acc\ntreatment: the big one\n")
    with pytest.raises(HypothesisError, match="confidence level"):
        parse_body("A claim.\nsuccess: acc > 0.5\nmetrics: acc\nlevel: 3\n")


def test_cli_builds_the_hypothesis_with_the_same_parser(workspace, capsys):
    from jupyter_mlexp.frontdoors.cli import main

    args = ["hypothesis", "x", "--statement", "Forests beat logreg.", "--success", "val_acc >= baseline + 0.01"]
    args += ["--metrics", "val_acc", "--baseline", "model=logreg", "--treatment", "model=forest", "--seeds", "4"]
    assert main(args) == 0
    h = Experiment("x").hypothesis
    assert h.treatments == [{"model": "forest"}] and h.seeds_needed == 4 and h.baseline_spec.params
    write_run(Experiment("x"), "r0", params={"model": "forest"}, metrics={"val_acc": [0.9]})
    changed = [*args[:-1], "5"]
    assert main(changed) == 2 and "needs a reason" in capsys.readouterr().err
    assert main([*changed, "--reason", "more seeds"]) == 0 and Experiment("x").hypothesis.seeds_needed == 5


def test_mlexp_run_refuses_a_changed_hypothesis_without_the_cells_reason(workspace):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from jupyter_mlexp.runner import run_notebook

    exp = make_experiment(workspace, name="own", success="val_acc >= 0.99", metrics=("val_acc",))
    seeds(exp, "a", [0.95, 0.96, 0.97], params={"lr": 0.1})
    cell = (
        "%%hypothesis own\nWarm-up raises validation accuracy\nsuccess: val_acc >= 0.9\nmetrics: val_acc\nstage: full"
    )
    nb = new_notebook(cells=[new_code_cell("%load_ext jupyter_mlexp"), new_code_cell(cell)])
    path = workspace / "own.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(HypothesisError, match="needs a reason.*reason: WHY"):
        run_notebook(path, mode="full", progress=False)
    assert Experiment("own").hypothesis.version == 1  # nothing re-registered, no run made
    assert len(list(Experiment("own").runs())) == 3


def test_the_report_shows_one_decisive_test_and_no_small_n_bootstrap(workspace):
    import nbformat

    exp = make_experiment(workspace, success="val_acc >= baseline + 0.01", stage="full")
    seeds(exp, "b", [0.80, 0.83, 0.81], params={"warmup": 0}, stage="baselines")
    seeds(exp, "t", [0.83, 0.87, 0.84], params={"warmup": 5})
    nb = nbformat.read(build_report(exp), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Descriptive statistics only, none of them decides" in text and "beyond seed noise" not in text
    assert "— (needs n ≥ 10 per arm)" in text  # a percentile bootstrap of 3 values per arm is not shown
    summary = json.loads((exp.path / "research_summary.json").read_text())
    assert summary["statistical_tests"][0]["bootstrap_ci95"] is None and summary["statistical_tests"][0]["descriptive"]
    assert summary["verdict"]["test"].startswith("Welch") or summary["verdict"]["test"].startswith("paired")

    big = make_experiment(workspace, name="big", success="val_acc >= baseline + 0.01")
    seeds(big, "b", [0.80 + 0.001 * i for i in range(10)], params={"warmup": 0}, stage="baselines")
    seeds(big, "t", [0.83 + 0.001 * i for i in range(10)], params={"warmup": 5})
    build_report(big)
    ci = json.loads((big.path / "research_summary.json").read_text())["statistical_tests"][0]["bootstrap_ci95"]
    assert ci is not None and ci[0] < 0.03 < ci[1]


def test_the_comparison_figure_draws_seeds_interval_and_threshold(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.95")
    seeds(exp, "demo", DEMO, params={"model": "mlp"})
    seeds(exp, "other", [0.90, 0.91, 0.92], params={"model": "cnn"})
    build_report(exp)
    fig = json.loads((exp.path / "figures" / "comparison_full_val_acc.json").read_text())
    curve = json.loads((exp.path / "figures" / "curve_full_val_acc.json").read_text())
    assert fig["threshold"]["value"] == 0.95 and "val_acc >= 0.95" in fig["threshold"]["label"]
    mlp = next(c for c in fig["configurations"] if c["configuration"] == "model=mlp [full]")
    assert mlp["values"] == DEMO  # every seed is drawn, not a zero-based bar
    # the interval's lower end is the verdict's one-sided 95% bound (k = 2 candidates: Holm moves only the level)
    lower = sps.t.interval(0.90, 2, loc=sps.tmean(DEMO), scale=sps.sem(DEMO))[0]
    assert mlp["interval"][0] == pytest.approx(lower)
    # one colour per configuration across figures
    colours = {c["configuration"]: c["colour"] for c in fig["configurations"]}
    assert len(set(colours.values())) == 2
    assert {c["configuration"]: c["colour"] for c in curve["curves"]} == colours


def test_the_methods_table_fits_and_names_no_absolute_path(workspace):
    from jupyter_mlexp.report.tables import methods_table

    exp = make_experiment(workspace)
    nb_path = workspace / "notebooks" / "train.ipynb"
    for i, x in enumerate([0.91, 0.92, 0.93]):
        write_run(exp, f"r{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [x]}, notebook=str(nb_path))
    write_run(exp, "elsewhere", seed=9, params={"lr": 0.2}, metrics={"val_acc": [0.9]}, notebook="/opt/x/nb.ipynb")
    text = methods_table(load_experiment(exp))
    assert "notebook notebooks/train.ipynb" in text and str(workspace) not in text
    assert "nb.ipynb (outside the workspace)" in text and "/opt/x" not in text
    main_table, env = text.split("**Environments**")
    assert "Python 3.11.7" not in main_table and "Python 3.11.7" in env  # environments in a table of their own
    assert "| 4 |" in env or "4" in env.splitlines()[-1]


def test_a_claim_about_the_baselines_themselves_names_no_baseline(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.95", stage="baselines")
    seeds(exp, "a", DEMO, params={"alpha": 0.0001}, stage="baselines")
    seeds(exp, "b", [0.9467, 0.9533, 0.9356], params={"alpha": 0.01}, stage="baselines")
    d = judge_experiment(exp).to_dict()
    assert d["baseline"] is None and len(d["candidates"]) == 2 and d["decision"] == "inconclusive"
    assert len(d["sources"]) == len(set(d["sources"])) == 3  # the judged configuration's three files, once each
