"""The evidence the verdict counts, through the real record: each (configuration, seed) once, the family
of everything run under the hypothesis, fresh seeds for a confirmation, the plan's seeds, no run left out
in silence, and the configuration a script's arguments name."""

from __future__ import annotations

import json
import sys

import pytest
from report_factory import make_experiment, write_run

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.record.hypothesis import Hypothesis
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.frontdoors.cli import main

# val_acc by seed: deterministic, so a re-run of a seed gives the same value again
SCRIPT = (
    "import os; s = int(os.environ['MLEXP_SEED']); print('val_acc:', [0.92, 0.94, 0.905, 0.93, 0.915, 0.925][s % 6])"
)


def _register(name: str = "det", **kw) -> Experiment:
    exp = Experiment(name)
    exp.register(
        Hypothesis(statement="Warm-up raises validation accuracy", success="val_acc >= 0.9", metrics=["val_acc"], **kw)
    )
    return exp


def _run(capsys, seeds: str, *extra: str) -> str:
    code = main(["run", "--experiment", "det", "--full", "--seeds", seeds, *extra, "--", sys.executable, "-c", SCRIPT])
    assert code == 0
    return capsys.readouterr().err


def test_rerunning_the_same_seeds_gives_the_same_verdict(workspace, capsys):
    """`mlexp run --full --seeds 0,1,2` twice of a deterministic script: n stays 3, the verdict is the one
    before the re-run (it became `supported`, n = 6 of copies, p 0.083 -> 0.010, when each run counted)."""
    exp = _register()
    assert _run(capsys, "0,1,2") == ""
    before = judge_experiment(exp)
    assert before.decision == "inconclusive" and before.candidates[0].n == 3
    err = _run(capsys, "0,1,2")
    assert "seed 0, 1, 2 already ran for this configuration" in err and "--seeds fresh:3" in err
    after = judge_experiment(exp)
    (arm,) = after.candidates
    assert after.decision == before.decision == "inconclusive" and arm.n == 3
    assert arm.p == before.candidates[0].p and after.reason == before.reason
    assert len(arm.duplicates) == 3 and not any(d["differs"] for d in arm.duplicates)
    assert any("not counted again" in f for f in after.flags)


def test_fresh_seeds_are_seeds_the_configuration_never_ran(workspace, capsys):
    exp = _register()
    _run(capsys, "0,2")
    _run(capsys, "fresh:3")
    seeds = sorted(r.manifest["seed"] for r in exp.runs())
    assert seeds == [0, 1, 2, 3, 4], seeds
    assert main(["run", "--experiment", "det", "--seeds", "fresh:x", "--", sys.executable, "-c", SCRIPT]) == 2
    assert "write fresh:N" in capsys.readouterr().err


def test_a_seed_that_gives_another_value_is_flagged_as_non_determinism(workspace):
    exp = make_experiment(workspace)
    for i, x in enumerate([0.95, 0.96, 0.97]):
        write_run(exp, f"a{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [x]})
    write_run(
        exp,
        "z-again",
        seed=1,
        params={"lr": 0.1},
        metrics={"val_acc": [0.91]},
        started="2026-11-21T10:00:00.000+00:00",
        git={"commit": "c" * 40, "branch": "main", "dirty": False, "diff_sha256": None},
    )
    v = judge_experiment(exp)
    (arm,) = v.candidates
    assert arm.n == 3 and sorted(arm.values) == [0.95, 0.96, 0.97]  # the earliest run of seed 1 counts
    (flag,) = [f for f in v.flags if f.startswith("non-determinism")]
    assert "seed 1" in flag and "0.96" in flag and "0.91" in flag and "git commit" in flag


def test_the_family_counts_quick_runs_under_the_version(workspace):
    """Ten configurations tried in quick mode, the best re-run in full: k is 10, not 1."""
    exp = make_experiment(workspace)
    for j in range(10):
        lr = round(0.01 * (j + 1), 2)
        write_run(
            exp,
            f"q{j}",
            mode="quick",
            params={"lr": lr, "epochs": 3},
            overrides={"epochs": 3},
            metrics={"val_acc": [0.9]},
        )
    for i, x in enumerate([0.93, 0.95, 0.94]):
        write_run(exp, f"f{i}", seed=i, params={"lr": 0.05}, metrics={"val_acc": [x]})
    v = judge_experiment(exp)
    assert v.family_size == 10 and len(v.family) == 9 and "k = 10" in v.text()
    (arm,) = v.candidates
    assert arm.p_adjusted == pytest.approx(min(1.0, 10 * arm.p))
    # a quick run of the defaults and a full run of the defaults are one configuration
    exp2 = make_experiment(workspace, name="defaults")
    write_run(exp2, "q", mode="quick", params={"epochs": 3}, overrides={"epochs": 3}, metrics={"val_acc": [0.9]})
    for i, x in enumerate([0.93, 0.95, 0.94]):
        write_run(exp2, f"f{i}", seed=i, metrics={"val_acc": [x]})
    assert judge_experiment(exp2).family_size == 1


def _versioned(exp: Experiment) -> dict:
    h = exp.hypothesis
    return {"hypothesis_version": h.version, "hypothesis_sha256": h.content_sha256}


def test_a_treatment_rerun_on_the_seeds_the_selection_saw_is_not_confirmatory(workspace):
    exp = make_experiment(workspace)
    for lr, xs in ((0.1, [0.95, 0.96, 0.97]), (0.2, [0.8, 0.85, 0.82])):
        for i, x in enumerate(xs):
            write_run(exp, f"v1-{lr}-{i}", seed=i, params={"lr": lr}, metrics={"val_acc": [x]}, **_versioned(exp))
    h = exp.hypothesis
    h.treatments = [{"lr": 0.1}]
    exp.register(h, reason="the best of the exploration, to confirm")
    for i, x in enumerate([0.95, 0.96, 0.97]):  # the same seeds again
        write_run(exp, f"v2-{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [x]}, **_versioned(exp))
    v = judge_experiment(exp)
    assert v.decision == "inconclusive" and "not confirmatory" in v.reason and "fresh:3" in v.reason
    assert v.candidates[0].reused_seeds == [0, 1, 2]
    for i, x in enumerate([0.95, 0.96, 0.97]):  # fresh seeds confirm
        write_run(exp, f"v2-f{i}", seed=10 + i, params={"lr": 0.1}, metrics={"val_acc": [x]}, **_versioned(exp))
    v = judge_experiment(exp)
    assert v.decision == "supported" and v.confirmatory and v.candidates[0].seeds == [10, 11, 12]


def test_crashed_nan_and_ignored_seeds_are_accounted_for(workspace):
    """Plan of 5 seeds: one crashes, one logs NaN, one unfavourable seed is ignored after its value was
    seen, and two more seeds are run: the verdict was `supported` with no word; now it counts the plan's
    seeds, is not supported, and shows the verdict with the ignored run."""
    exp = make_experiment(workspace, seeds=[], n_seeds=5)
    t = "2026-11-20T10:0{}:00.000+00:00"
    values = {0: 0.95, 1: 0.96, 3: 0.97, 5: 0.955, 6: 0.965}
    for seed, x in values.items():
        write_run(exp, f"r{seed}", seed=seed, params={"lr": 0.1}, metrics={"val_acc": [x]}, started=t.format(seed))
    write_run(exp, "r2", seed=2, params={"lr": 0.1}, status="failed", error={"message": "CUDA"}, started=t.format(2))
    write_run(exp, "r4", seed=4, params={"lr": 0.1}, metrics={"val_acc": [float("nan")]}, started=t.format(4))
    write_run(exp, "r7", seed=7, params={"lr": 0.1}, metrics={"val_acc": [0.5]}, started=t.format(7))
    exp.ignore("r3", "looked odd")
    v = judge_experiment(exp)
    (arm,) = v.candidates
    assert v.decision == "inconclusive" and "3 of the plan's 5 seeds" in v.reason
    assert arm.failed_seeds == [{"seed": 2, "status": "failed"}] and arm.nonfinite_seeds == [4]
    assert v.ignored_after_seen[0]["run_id"] == "r3" and v.with_ignored is not None
    assert any("ignored after its value was logged" in f and "r3" in f for f in v.flags)
    assert arm.extra_seeds == [6, 7]


def test_two_argument_lists_of_a_script_are_two_configurations(workspace):
    exp = make_experiment(workspace)
    for i, x in enumerate([0.95, 0.96, 0.97]):
        write_run(exp, f"a{i}", seed=i, params={"argv": ["0.1", "0.5"]}, metrics={"val_acc": [x]})
    for i, x in enumerate([0.6, 0.7, 0.65, 0.62]):
        write_run(exp, f"b{i}", seed=i, params={"argv": ["0.9", "0.5"]}, metrics={"val_acc": [x]})
    v = judge_experiment(exp)
    assert sorted(a.config for a in v.candidates) == [
        f"argv={json.dumps(['0.1', '0.5'])}",
        f"argv={json.dumps(['0.9', '0.5'])}",
    ]
    assert [a.n for a in v.candidates] == [3, 3] and v.family_size == 2


@pytest.mark.parametrize(
    "body, message",
    [
        ("A claim.\nsuccess: m >= 0.95\nsuccess: m >= 0.9\nmetrics: m\n", "two 'success:' lines"),
        ("A claim.\nsuccess: m >= 0.95\nmetrics: m\nlevel: 0.5\n", "too low"),
        ("A claim.\nsuccess: m >= 0.95\nfailure: m <= 0.97\nmetrics: m\n", "can both hold"),
        ("A claim.\nsuccess: loss < baseline\nfailure: loss < baseline + 0.1\nmetrics: loss\n", "can both hold"),
        ("LR reaches 0.95 accuracy and trains in under 1 second.\nsuccess: acc >= 0.95\nmetrics: acc\n", "bundles"),
        ("A claim.\nsuccess: m >= 0.95\nmetrics: m\nlooks: 5, 3\n", "two increasing numbers"),
        ("A claim.\nsuccess: m >= 0.95\nmetrics: m\nseeds: 5\nlooks: 3, 10\n", "disagree"),
    ],
)
def test_criteria_that_mean_one_thing(body, message):
    from jupyter_mlexp.core.errors import HypothesisError
    from jupyter_mlexp.core.record.hypothesis import parse_body

    with pytest.raises(HypothesisError, match=message):
        parse_body(body)
    # exclusive criteria, a level of 0.8, one claim with two numbers that are not two claims: accepted
    parse_body("A claim.\nsuccess: m >= 0.95\nfailure: m < 0.95\nmetrics: m\nlevel: 0.8\n")
    parse_body(
        "ResNet-18 with 5 epochs of warm-up reaches at least 0.93 accuracy.\nsuccess: acc >= 0.93\nmetrics: acc\n"
    )


def test_the_failure_criterion_is_judged_on_whatever_metric_it_names(workspace):
    exp = make_experiment(workspace, success="val_acc >= 0.9", failure="loss > 0.5")
    for i, (acc, loss) in enumerate([(0.85, 0.9), (0.93, 0.95), (0.88, 1.0)]):
        write_run(exp, f"r{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [acc], "loss": [loss]})
    v = judge_experiment(exp)
    assert v.decision == "not supported" and "failure criterion `loss > 0.5`" in v.reason
    # relative: loss worse than the baseline's by more than 0.1 at every seed
    exp2 = make_experiment(workspace, name="rel", success="val_acc >= 0.9", failure="loss > baseline + 0.1")
    h = exp2.hypothesis
    h.baseline = "lr=0.01"
    exp2.register(h, reason="name the baseline")
    for i, (acc, loss, base_loss) in enumerate([(0.85, 0.9, 0.3), (0.93, 0.95, 0.31), (0.88, 1.0, 0.32)]):
        write_run(exp2, f"t{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [acc], "loss": [loss]})
        write_run(
            exp2,
            f"b{i}",
            seed=i,
            params={"lr": 0.01},
            stage="baselines",
            metrics={"val_acc": [0.8], "loss": [base_loss]},
        )
    v = judge_experiment(exp2)
    assert v.decision == "not supported" and "loss > baseline + 0.1" in v.reason


def test_wording_matches_the_numbers(workspace):
    # not supported: what decided it is the opposite bound and the p that the criterion is met, not p = 1
    exp = make_experiment(workspace, success="val_acc >= 0.9")
    for i, x in enumerate([0.70, 0.72, 0.71]):
        write_run(exp, f"r{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [x]})
    v = judge_experiment(exp)
    assert v.decision == "not supported" and "95% upper bound" in v.reason and "p = 1" not in v.reason
    assert v.would_decide is None  # no power advice from the wrong side of the threshold
    # the interval line names the level of the bound it shows (a Holm step's, not the hypothesis' level)
    exp2 = make_experiment(workspace, name="holm")
    for lr, xs in ((0.1, [0.95, 0.96, 0.97]), (0.2, [0.95, 0.951, 0.952])):
        for i, x in enumerate(xs):
            write_run(exp2, f"r{lr}-{i}", seed=i, params={"lr": lr}, metrics={"val_acc": [x]})
    text = judge_experiment(exp2).text()
    (line,) = [ln for ln in text.splitlines() if ln.startswith("interval:") and "lr=0.2" in ln]
    assert "97.5% one-sided bound" in line
    # a constant paired difference is not "every seed gave the same value"
    exp3 = make_experiment(workspace, name="paired", success="val_acc >= baseline + 0.01", baseline="lr=0.01")
    for i, x in enumerate([0.90, 0.93, 0.91]):
        write_run(exp3, f"b{i}", seed=i, params={"lr": 0.01}, stage="baselines", metrics={"val_acc": [x]})
        write_run(exp3, f"t{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [x + 0.02]})
    v = judge_experiment(exp3)
    assert "the difference to the baseline was the same at every seed" in v.reason
    assert "every seed gave the same value" not in v.reason


def test_the_abstract_says_how_many_runs_the_verdict_judged(workspace):
    from jupyter_mlexp.report.build import build_report

    exp = make_experiment(workspace)
    write_run(
        exp, "q", mode="quick", params={"lr": 0.3, "epochs": 1}, overrides={"epochs": 1}, metrics={"val_acc": [0.9]}
    )
    for i, x in enumerate([0.95, 0.96, 0.97, 0.94]):
        write_run(exp, f"r{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [x]})
    nb = json.loads(build_report(exp).read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "**Evidence judged:** 3 runs (`lr=0.1 [full]` n = 3) of a plan of 3 seeds" in text
    assert "family size k = 2 configurations" in text
    assert "per seed (the plan's)" in text and "0: 0.95, 1: 0.96, 2: 0.97" in text


def test_a_result_that_holds_only_with_an_outlying_seed_is_not_supported(workspace):
    """Seven seeds, one far above the others (modified z 4.4): p = 0.042 with it, 0.063 without."""
    exp = make_experiment(workspace, seeds=[], n_seeds=7)
    xs = [0.151, 0.463, 0.106, 2.355, 1.037, -0.044, 3.768]
    for i, x in enumerate(xs):
        write_run(exp, f"r{i}", seed=i, params={"lr": 0.1}, metrics={"val_acc": [0.9 + x / 100]})
    v = judge_experiment(exp)
    assert v.candidates[0].p == pytest.approx(0.042, abs=0.001)
    assert v.decision == "inconclusive" and "only with seed 6, an outlier (modified z = 4.4" in v.reason
    assert "without it p = 0.063" in v.reason and "normal seed noise" in v.model


def test_holms_first_step_level_is_never_printed_as_1():
    from jupyter_mlexp.core.stats.verdict import level_text

    assert level_text(1 - 0.05 / 1000) == "0.99995"
    assert level_text(1 - 0.05 / 3) == "0.9833"
    assert level_text(0.95) == "0.95"
