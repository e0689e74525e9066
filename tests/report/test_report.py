"""The report's sections against hand-built records."""

import hashlib
import json
import math

import nbformat
import pytest
from report_factory import make_experiment, seeds, write_run
from scipy import stats as sps

from jupyter_mlexp.report import figures, stats
from jupyter_mlexp.report.build import build_report
from jupyter_mlexp.report.load import load_experiment
from jupyter_mlexp.report.report_errors import BaselineNotFoundError, MetricNotLoggedError
from jupyter_mlexp.report.report_verdict import judge


def sections(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    out, current = {}, None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
        if current:
            out[current] = out.get(current, "") + "\n" + cell.source
    return nb, out


def tree_digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def exp(workspace):
    exp = make_experiment(workspace, expected="val_acc about 0.93")
    seeds(exp, "base", [0.80, 0.81, 0.82], stage="baselines", params={"warmup": 0})
    seeds(exp, "wu", [0.93, 0.94, 0.95], params={"warmup": 5})
    seeds(exp, "q", [0.7], mode="quick", params={"warmup": 5})
    write_run(
        exp,
        "bad",
        status="failed",
        params={"warmup": 9},
        error={"name": "ValueError", "message": "loss diverged"},
        metrics={"val_acc": [0.2]},
    )
    write_run(exp, "late", status="timeout", params={"warmup": 9}, metrics={})
    # started after the plan's seeds 0-2 (ignored after its value was logged: the verdict is shown with it too)
    later = "2026-11-20T11:00:00.000+00:00"
    write_run(exp, "ig", params={"warmup": 5}, seed=7, metrics={"val_acc": [0.111], "loss": [9.0]}, started=later)
    write_run(
        exp,
        "ig2",
        params={"warmup": 5},
        seed=8,
        metrics={"val_acc": [0.222], "loss": [9.0]},
        under="ignored",
        started=later,
    )
    exp.ignore("ig", "GPU fell over mid-run")
    exp.add_journal("[WEIRD] loss spiked at step 2")
    exp.add_journal("[HUNCH] warm-up hides a bad init")
    exp.add_journal("[TODO] try 10 warm-up steps")
    return exp


def test_sections_in_order_and_content(exp):
    path = build_report(exp)
    nb, sec = sections(path)
    assert list(sec) == ["Abstract", "Introduction", "Methods", "Results", "Discussion", "Conclusion"]
    a = sec["Abstract"]
    assert "**Hypothesis v1:**" in a and "1 quick and 8 full runs" in a and "2 ignored" in a
    assert "val_acc = 0.94 ± 0.01 (n = 3)" in a and "`full/wu-s0/metrics.jsonl:3`" in a
    assert "**Verdict: supported**" in a
    i = sec["Introduction"]
    assert "`val_acc >= 0.9`" in i and "research_log.jsonl:1" in i and "val_acc about 0.93" in i
    m = sec["Methods"]
    assert "warmup=0" in m and "aaaaaaaaaaaa (main, clean)" in m and "data/train.csv: bbbbbbbbbbbbbbbb" in m
    assert "`full/base-s0/run.json`" in m and "Python 3.11.7" in m
    r = sec["Results"]
    assert "### Stage `baselines`, full runs" in r and "### Stage `full`, quick runs" in r
    assert "0.81 ± 0.01 (n = 3)" in r
    assert "0.7 (n = 1)" in r and "± 0 " not in r and "± 0 (" not in r
    assert "Welch's t-test" in r and "Hedges' g" in r and "bootstrap 95% CI" in r
    # ignored runs are in no statistic or figure
    assert "0.111" not in r and "0.222" not in r
    for f in (exp.path / "figures").glob("*.json"):
        text = f.read_text()
        assert "/ig/" not in text and "ig2" not in text
    d = sec["Discussion"]
    assert "loss spiked" in d and "JOURNAL.md:" in d and "**[HUNCH]** (1)" in d and "**[RESOLVED]** (0)" in d
    assert "ValueError: loss diverged" in d and "`full/bad/run.json`" in d
    assert "timeout" in d and "time budget of 60 s spent" in d
    assert "GPU fell over mid-run" in d and "IGNORED_RUNS.md:" in d
    assert "ig2" in d and "placed under ignored/full/" in d
    c = sec["Conclusion"]
    assert "The hypothesis is supported" in c and "idea.json" in c
    # figures embedded as WebP attachments, saved beside their data
    atts = [cell for cell in nb.cells if cell.get("attachments")]
    assert len(atts) == 4  # the verdict's forest plot, a comparison, two learning curves
    for cell in atts:
        ((name, bundle),) = cell.attachments.items()
        assert "image/webp" in bundle and (exp.path / "figures" / name).exists()
        assert (exp.path / "figures" / name).with_suffix(".json").exists()
    assert (exp.path / "figures" / "comparison_full_val_acc.webp").read_bytes()[8:12] == b"WEBP"


def test_every_number_names_a_file(exp):
    _, sec = sections(build_report(exp))
    for line in sec["Abstract"].splitlines():
        if any(ch.isdigit() for ch in line) and "Hypothesis v" not in line:
            assert "source:" in line, line


def test_summaries_computed_from_runs(exp):
    build_report(exp)
    base = json.loads((exp.path / "baseline_summary.json").read_text())
    assert base["methods"]["warmup=0"]["metrics"]["val_acc"]["n"] == 3
    assert base["methods"]["warmup=0"]["metrics"]["val_acc"]["mean"] == pytest.approx(0.81)
    assert base["best_method"]["configuration"] == "warmup=0"
    res = json.loads((exp.path / "research_summary.json").read_text())
    assert res["best_configuration"]["params"] == {"warmup": 5}
    assert res["statistical_tests"][0]["welch"]["test"].startswith("Welch")
    assert res["statistical_tests"][0]["effect_size"] == "Hedges' g"
    assert res["runs"]["ignored"] == 2 and res["runs"]["failed"] == 1 and res["runs"]["timeout"] == 1
    abl = json.loads((exp.path / "ablation_summary.json").read_text())
    assert abl["ablations"] == [] and abl["note"]


def test_ablation_summary_signs(workspace):
    exp = make_experiment(workspace)
    seeds(exp, "base", [0.80, 0.81, 0.82], stage="baselines", params={"warmup": 0, "aug": True})
    seeds(exp, "full", [0.93, 0.94, 0.95], params={"warmup": 5, "aug": True})
    seeds(exp, "abl", [0.90, 0.91, 0.92], stage="ablations", params={"warmup": 5, "aug": False})
    build_report(exp)
    abl = json.loads((exp.path / "ablation_summary.json").read_text())
    (one,) = abl["ablations"]
    assert one["changed"] == {"aug": {"from": True, "to": False}}
    assert one["effects"]["val_acc"]["sign"] == "-" and one["effects"]["val_acc"]["delta"] == pytest.approx(-0.03)
    assert one["effects"]["loss"]["sign"] == "+"


def test_rerun_replaces_atomically_and_never_touches_runs(exp):
    before = {p: tree_digest(p) for p in (exp.path / "full", exp.path / "quick", exp.path / "ignored")}
    first = build_report(exp)
    second = build_report(exp)
    assert first == second and nbformat.read(second, as_version=4)
    assert not list(exp.path.glob(".*.tmp")) and not list((exp.path / "figures").glob(".*.tmp"))
    assert {p: tree_digest(p) for p in before} == before
    assert not (exp.path / "full" / "wu-s0" / "figures").exists()


def test_html(exp):
    path = build_report(exp, html=True)
    html = path.with_suffix(".html").read_text()
    assert "data:image/webp;base64," in html and "Abstract" in html


def test_n_equals_one_is_inconclusive(workspace):
    exp = make_experiment(workspace)
    seeds(exp, "one", [0.95], params={"warmup": 5})
    v = judge(load_experiment(exp))
    assert v.outcome == "inconclusive" and "too few seeds" in v.reason and "(n = 1)" in v.reason
    _, sec = sections(build_report(exp))
    assert "0.95 (n = 1)" in sec["Results"] and "± 0" not in sec["Results"]


def test_missing_metric_nan_and_corrupt_line(workspace):
    exp = make_experiment(workspace)
    write_run(
        exp,
        "a",
        seed=0,
        metrics={"val_acc": [0.5, 0.9], "loss": [0.3]},
        corrupt_lines={1: '{"name": "val_acc", "value": 0.4'},
    )
    write_run(exp, "b", seed=1, metrics={"val_acc": [0.5, 0.91]})
    write_run(exp, "c", seed=2, metrics={"val_acc": [0.5, 0.92], "loss": [float("nan")]})
    data = load_experiment(exp)
    a = next(r for r in data.runs if r.run_id == "a")
    assert a.skipped == [(2, "not JSON")] and a.finals["val_acc"] == (0.9, "full/a/metrics.jsonl:3")
    _, sec = sections(build_report(exp))
    r, d = sec["Results"], sec["Discussion"]
    assert "0.3 (n = 1) [1 NaN/inf excluded; missing in 1 run]" in r
    assert "skipped corrupt line `full/a/metrics.jsonl:2: not JSON`" in d
    assert "`loss` ends non-finite in run `c` (`full/c/metrics.jsonl:3`)" in d
    assert "`loss` was logged by 2 of 3 counted runs" in d


def test_ignored_id_that_does_not_exist_is_warned(workspace):
    exp = make_experiment(workspace)
    seeds(exp, "x", [0.9, 0.91, 0.92])
    exp.ignored_md.write_text("# Ignored runs\n\n- `ghost-run`: typo in the id\n")
    _, sec = sections(build_report(exp))
    assert "⚠ IGNORED_RUNS.md:3: run 'ghost-run' does not exist" in sec["Discussion"]


def test_no_runs(workspace):
    exp = make_experiment(workspace)
    nb, sec = sections(build_report(exp))
    assert "0 quick and 0 full runs" in sec["Abstract"]
    assert "inconclusive" in sec["Conclusion"] and "no run was made" in sec["Conclusion"]
    assert "No statistics: no run was made" in sec["Results"]
    assert not list((exp.path / "figures").glob("*.webp")) if (exp.path / "figures").exists() else True


def test_only_failed_runs(workspace):
    exp = make_experiment(workspace)
    write_run(
        exp, "f1", status="failed", error={"name": "RuntimeError", "message": "CUDA OOM"}, metrics={"val_acc": [0.3]}
    )
    write_run(exp, "f2", status="failed", seed=1, error={"name": "KeyError", "message": "'x'"})
    _, sec = sections(build_report(exp))
    assert "no run completed" in sec["Conclusion"]
    assert "RuntimeError: CUDA OOM" in sec["Discussion"] and "KeyError" in sec["Discussion"]
    assert "0.3" not in sec["Results"]


def test_figure_of_unlogged_metric_is_an_error(workspace):
    exp = make_experiment(workspace, metrics=("val_acc", "f1"))
    seeds(exp, "x", [0.9, 0.91, 0.92])
    data = load_experiment(exp)
    out = exp.path / "figures" / "f1.webp"
    with pytest.raises(MetricNotLoggedError, match="f1"):
        figures.learning_curve(data, "f1", out=out)
    with pytest.raises(MetricNotLoggedError):
        figures.comparison_points(data, "f1", out=out)
    assert not out.exists()
    _, sec = sections(build_report(exp))
    assert "No figure: metric `f1` was never logged" in sec["Results"]
    assert not list((exp.path / "figures").glob("*f1*"))


def test_verdicts(workspace):
    exp = make_experiment(workspace)
    seeds(exp, "base", [0.90, 0.93, 0.96], stage="baselines", params={"warmup": 0})
    seeds(exp, "wu", [0.91, 0.94, 0.97], params={"warmup": 5})
    v = judge(load_experiment(exp))
    # mean 0.94, sd 0.03, n = 3: the one-sided 95% t lower bound 0.8894 straddles 0.9 (old rule: mean ± sd)
    assert v.outcome == "inconclusive" and "straddles" in v.reason and "lower bound 0.8894" in v.reason
    assert v.would_decide and "seeds per configuration" in v.would_decide

    exp2 = make_experiment(workspace, name="low")
    seeds(exp2, "wu", [0.5, 0.51, 0.52])
    assert judge(load_experiment(exp2)).outcome == "not supported"

    exp3 = make_experiment(workspace, name="straddle")
    seeds(exp3, "wu", [0.85, 0.9, 0.95])
    v3 = judge(load_experiment(exp3))
    assert v3.outcome == "inconclusive" and "straddles" in v3.reason

    exp4 = make_experiment(workspace, name="unmeasured")
    write_run(exp4, "r", metrics={"loss": [0.1]})
    assert "criterion not measured" in judge(load_experiment(exp4)).reason


def test_named_baseline(exp):
    data = load_experiment(exp, baseline="warmup=5")
    from jupyter_mlexp.report.groups import baseline_group

    base, how = baseline_group(data, "full")
    assert base.params == {"warmup": 5} and "named with --baseline" in how and "chosen after the runs" in how
    with pytest.raises(BaselineNotFoundError):
        judge(load_experiment(exp, baseline="warmup=123"))


def test_stats():
    a, b = [0.93, 0.94, 0.96], [0.80, 0.815, 0.82]
    w = stats.welch(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert w.t == pytest.approx(ref.statistic) and w.p == pytest.approx(ref.pvalue)
    assert stats.welch([1.0], b) is None
    lo, hi = stats.bootstrap_ci(a, b)
    assert lo < 0.13 < hi
    assert stats.bootstrap_ci(a, b) == (lo, hi)  # seeded: reproducible
    assert stats.hedges_g(a, b) > 5
    assert stats.fmt_summary(stats.summarize([0.5])) == "0.5 (n = 1)"
    assert stats.fmt_summary(stats.summarize([])) == "not measured"
    s = stats.summarize([1.0, float("nan"), 3.0])
    assert s.n == 2 and s.nonfinite == 1 and s.std == pytest.approx(math.sqrt(2))


def test_verdict_when_every_configuration_is_a_baseline(workspace):
    # A hypothesis about the baselines themselves (the digits example): the best configuration is
    # judged on the criterion, not compared with another baseline configuration.
    exp = make_experiment(workspace, stage="baselines")
    seeds(exp, "a", [0.95, 0.96, 0.97], stage="baselines", params={"alpha": 0.0001})
    seeds(exp, "b", [0.93, 0.94, 0.95], stage="baselines", params={"alpha": 0.01})
    v = judge(load_experiment(exp))
    # both are candidates, Holm over k = 2; each passes its one-sided bound
    assert v.outcome == "supported" and "alpha=0.0001" in v.reason and "k = 2" in v.reason
    assert len(v.candidates) == 2

    # With a configuration under test, it is the one judged; the baseline stage is not a candidate.
    seeds(exp, "c", [0.97, 0.975, 0.98], stage="full", params={"alpha": 0.001})
    v = judge(load_experiment(exp))
    assert v.configurations == ["alpha=0.001 [full]"] and v.baseline is not None and len(v.candidates) == 1


def test_a_metric_logged_once_per_run_gets_bars_not_a_curve(workspace):
    exp = make_experiment(workspace, metrics=("val_acc", "loss", "fit_seconds"))
    for i, seed in enumerate((0, 1, 2)):
        write_run(
            exp, f"r{i}", seed=seed, metrics={"val_acc": [0.9], "loss": [0.5, 0.4, 0.3], "fit_seconds": [1.0 + i]}
        )
    from jupyter_mlexp.report.figures import planned_figures

    plan = planned_figures(load_experiment(exp))
    assert plan == [("comparison", "val_acc"), ("learning curve", "loss"), ("comparison", "fit_seconds")]


def test_quick_overrides_are_part_of_the_configuration(workspace):
    exp = make_experiment(workspace)
    write_run(exp, "q1", mode="quick", metrics={"val_acc": [0.8]}, overrides={"epochs": 3})
    write_run(exp, "q2", mode="quick", metrics={"val_acc": [0.85]}, overrides={"epochs": 5})
    configs = {r.run_id: r.config for r in load_experiment(exp).counted}
    assert configs["q1"] != configs["q2"] and "epochs=3" in configs["q1"]
