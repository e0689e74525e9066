"""The verdict names its model and checks it: seed noise near a metric's bound, and a registered transform."""

from __future__ import annotations

from jupyter_mlexp.core.stats.verdict import INCONCLUSIVE, SUPPORTED
from tests.stats.test_null_harness import Record, hypothesis


def _with(transform: str | None, success: str, n: int = 3):
    h = hypothesis(n_seeds=n, success=success)
    h.transform = transform
    h.content_sha256 = h.content_hash()
    return Record(h)


def test_an_accuracy_near_1_is_not_supported_on_the_normal_model():
    """0.97, 0.98, 0.99 against >= 0.9: the t test passes (p ≈ 0.004) but the mean is 2 sd from 1."""
    r = _with(None, "m >= 0.9")
    for s, x in enumerate([0.97, 0.98, 0.99]):
        r.run({"lr": 0.1}, s, x)
    v = r.judge()
    assert v.decision == INCONCLUSIVE
    assert "model does not hold" in v.reason and "2 sd from m's bound 1" in v.reason
    assert v.would_decide is not None and "register 'transform: logit'" in v.would_decide
    assert v.candidates[0].p is not None and v.candidates[0].p < 0.01  # the t test alone said supported
    # far from the bound (10 sd), the same spread is supported
    r = _with(None, "m >= 0.8")
    for s, x in enumerate([0.87, 0.88, 0.89]):
        r.run({"lr": 0.1}, s, x)
    assert r.judge().decision == SUPPORTED


def test_a_loss_near_0_is_not_supported_on_the_normal_model():
    r = _with(None, "m <= 2")
    for s, x in enumerate([0.2, 0.4, 0.3]):
        r.run({"lr": 0.1}, s, x)
    v = r.judge()
    assert v.decision == INCONCLUSIVE and "'transform: logit'" in v.reason  # values in [0, 1]: logit fits
    r = _with(None, "m <= 9")
    for s, x in enumerate([2.0, 4.0, 3.0]):
        r.run({"lr": 0.1}, s, x)
    assert "'transform: log'" in r.judge().reason


def test_a_registered_transform_judges_on_its_scale_and_names_its_model():
    r = _with("logit", "m >= 0.9")
    for s, x in enumerate([0.97, 0.98, 0.99]):
        r.run({"lr": 0.1}, s, x)
    v = r.judge()
    assert v.decision == SUPPORTED, v.reason
    assert "logit(m)" in v.model and "transform: logit" in v.model
    (arm,) = v.candidates
    assert arm.metric == "logit(m)" and abs(arm.threshold - 2.1972) < 1e-4  # logit(0.9)
    assert not any("bound 1" in f for f in v.flags)  # the near-bound rule is for the raw scale


def test_a_value_the_transform_cannot_take_makes_it_inconclusive():
    r = _with("logit", "m >= 0.9")
    for s, x in enumerate([0.97, 1.0, 0.99]):
        r.run({"lr": 0.1}, s, x)
    v = r.judge()
    assert v.decision == INCONCLUSIVE and "transform: logit cannot take seed 1" in v.reason


def test_the_report_table_shows_each_seed_raw_and_on_the_scale():
    from jupyter_mlexp.report.report_notebook import candidates_table

    r = _with("logit", "m >= 0.9")
    for s, x in enumerate([0.97, 0.98, 0.99]):
        r.run({"lr": 0.1}, s, x)
    table = candidates_table(r.judge())
    assert "0: 0.97 → 3.476" in table and "2: 0.99 → 4.595" in table


def _quick_then_full(scale: list[str]):
    """A quick run of the defaults with `epochs` scaled down, then the full runs of the defaults (epochs 15)."""
    h = hypothesis(n_seeds=3)
    h.scale = scale
    h.content_sha256 = h.content_hash()
    r = Record(h)
    r.run({"lr": 0.1, "epochs": 15}, 0, 0.5, mode="quick", overrides={"epochs": 1})
    for s, x in enumerate([0.5, 0.7, 0.6]):
        r.run({"lr": 0.1, "epochs": 15}, s, x)
    return r


def test_a_registered_scale_parameter_does_not_make_a_quick_run_a_configuration_of_its_own():
    assert _quick_then_full([]).judge().family_size == 2  # epochs is a parameter the full runs set: its own
    v = _quick_then_full(["epochs"]).judge()
    assert v.family_size == 1 and v.family == []
    # an override of a parameter not named under scale: still a configuration of its own
    r = _quick_then_full(["frac"])
    assert r.judge().family_size == 2


def test_exactly_4_sd_from_the_bound_is_not_near_it_whatever_the_rounding():
    r = _with(None, "m <= 0.1")
    for s, x in enumerate([0.05, 0.04, 0.03]):  # mean / sd computes to 3.999999999999999
        r.run({"lr": 0.1}, s, x)
    assert r.judge().decision == SUPPORTED
