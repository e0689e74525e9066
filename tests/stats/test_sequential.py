"""A registered sequential plan (`looks: 3, 5, 10`): the boundary, and the verdict at each look."""

from __future__ import annotations

import pytest
from scipy.special import ndtri

from jupyter_mlexp.core.record.hypothesis import parse_body
from jupyter_mlexp.core.stats.inference import obrien_fleming
from jupyter_mlexp.core.stats.verdict import INCONCLUSIVE, SUPPORTED
from tests.stats.test_null_harness import Record, hypothesis


def test_the_boundary_is_lan_demets_obrien_fleming():
    """Three equally spaced looks, one-sided α = 0.025: z = 3.7103, 2.5114, 1.9930 (gsDesign's sfLDOF)."""
    z = [float(ndtri(1 - p)) for p in obrien_fleming((1, 2, 3), 0.025)]
    assert z == pytest.approx([3.7103, 2.5114, 1.9930], abs=2e-4)
    # unequal looks: the last boundary is a little below α (α spent early is small), each above the previous
    ps = obrien_fleming((3, 5, 10), 0.05)
    assert ps[0] < ps[1] < ps[2] < 0.05 and ps[2] > 0.045


def _sequential(values, looks=(3, 5, 10)):
    h = hypothesis(n_seeds=looks[-1])
    h.looks, h.n_seeds = list(looks), None
    h.content_sha256 = h.content_hash()
    r = Record(h)
    for s, x in enumerate(values):
        r.run({"lr": 0.1}, s, x)
    return r.judge()


def test_the_verdict_says_which_look_and_its_boundary():
    v = _sequential([1.0, 1.2, 0.8, 1.1])  # 4 seeds: look 1 (n = 3); the 4th is reported, not pooled
    assert v.look == 1 and v.plan == 3 and v.candidates[0].n == 3 and v.candidates[0].extra_seeds == [3]
    assert "3 of look 1's 3 seeds; 1 seed(s) beyond look 1 reported, not pooled" in " ".join(v.flags)
    assert v.decision == INCONCLUSIVE and "look 1 of 3" in v.reason and "not crossed" in v.reason
    assert v.would_decide is not None and "n = 5 per configuration (look 2 of 3" in v.would_decide
    assert ("plan", v.look_text()) in v.summary() and "O'Brien–Fleming boundary p < 0.000346" in v.look_text()
    v = _sequential([1.0, 1.2, 0.8, 1.1, 0.9])  # look 2: p ≈ 7e-5 < 0.00545
    assert v.look == 2 and v.decision == SUPPORTED and "at look 2 of 3 (n = 5 of 3, 5, 10)" in v.reason


def test_seeds_beyond_the_last_look_are_reported_not_pooled():
    xs = [0.5, -0.4, 0.3, -0.2, 0.1, 0.2, -0.3, 0.4, -0.1, 0.0, 3.0, 3.0]
    v = _sequential(xs)
    (arm,) = v.candidates
    assert v.look == 3 and arm.n == 10 and arm.extra_seeds == [10, 11] and v.decision != SUPPORTED


def test_looks_are_registered_with_the_hypothesis():
    h = parse_body("A claim.\nsuccess: m >= 0.95\nmetrics: m\nlooks: 3, 5, 10\n")
    assert h.looks == [3, 5, 10] and h.seeds_needed == 10 and h.content()["looks"] == [3, 5, 10]


def test_changing_the_looks_or_the_transform_after_runs_is_called_out():
    from jupyter_mlexp.core.stats.verdict_history import _rule_changes

    old = {"success": "m >= 0", "looks": [3, 5, 10]}
    assert _rule_changes(old, {"success": "m >= 0", "looks": [3, 5, 20]}) == [
        "seeds per configuration raised: changed from 10 to 20",
        "sequential plan changed: from `3, 5, 10` to `3, 5, 20`",
    ]
    assert _rule_changes({"success": "m >= 0"}, {"success": "m >= 0", "transform": "logit"}) == [
        "transform changed: from `none` to `logit`"
    ]
    assert _rule_changes({"success": "m >= 0"}, {"success": "m >= 0", "looks": [], "transform": None}) == []
