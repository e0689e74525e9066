"""A verdict on quick runs alone is inconclusive: a scaled-down run measures another quantity than the claim.

The quick runs' own decision is kept (``quick_suggests``: decision, reason, what would decide it on them)
and said in the reason; what would decide the claim is a full run of the notebook on fresh seeds.
"""

from __future__ import annotations

import json

from jupyter_mlexp.core.record.hypothesis import Hypothesis
from jupyter_mlexp.core.stats.headline import headline
from jupyter_mlexp.core.stats.observations import Observation
from jupyter_mlexp.core.stats.verdict import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, judge


def _hypothesis(n_seeds: int = 3, success: str = "m >= 0.5") -> Hypothesis:
    h = Hypothesis(statement="The method reaches the bar", success=success, metrics=["m"], n_seeds=n_seeds)
    h.version = 1
    h.content_sha256 = h.content_hash()
    return h


def _runs(h: Hypothesis, values: list[float], mode: str, start: int = 0, ignored: str | None = None):
    out = []
    for s, x in enumerate(values):
        i = start + s
        out.append(
            Observation(
                run_id=f"r{i:03d}",
                mode=mode,
                stage="full",
                params={"lr": 0.1},
                seed=s,
                finals={"m": (x, f"r{i:03d}/metrics.jsonl:1")},
                version=h.version,
                started=f"2026-12-01T00:00:{i:02d}+00:00",
                sha256=h.content_sha256,
                ignored=ignored,
                overrides={"epochs": 1} if mode == "quick" else {},
            )
        )
    return out


CLEAR_PASS = [0.90, 0.91, 0.92]  # far above 0.5 with a small spread: supported if it were judged
CLEAR_MISS = [0.10, 0.11, 0.12]  # far below 0.5: not supported if it were judged


def test_quick_runs_alone_that_would_be_supported_are_inconclusive_with_what_they_suggest():
    h = _hypothesis()
    v = judge(_runs(h, CLEAR_PASS, "quick"), h)
    assert v.mode == "quick"
    assert v.decision == INCONCLUSIVE
    assert v.quick_suggests is not None and v.quick_suggests["decision"] == SUPPORTED
    assert "meets `m >= 0.5`" in v.quick_suggests["reason"]
    # the reason says what the quick runs suggest, and why they cannot decide
    assert "no full run counts yet" in v.reason and "scaled-down" in v.reason
    assert f"suggest {SUPPORTED}" in v.reason and v.quick_suggests["reason"] in v.reason
    # what would decide it: the notebook run full on fresh seeds
    assert v.would_decide and "mlexp run --full" in v.would_decide and "fresh:3" in v.would_decide
    # every surface shows it: the JSON answer, the text lines, the headline
    d = json.loads(json.dumps(v.to_dict()))
    assert d["decision"] == INCONCLUSIVE and d["quick_suggests"]["decision"] == SUPPORTED
    assert f"suggest {SUPPORTED}" in v.text() and "mlexp run --full" in v.text()
    assert headline(v).startswith("INCONCLUSIVE (quick runs only) · m 0.91")


def test_quick_runs_alone_that_would_be_not_supported_are_inconclusive_too():
    h = _hypothesis()
    v = judge(_runs(h, CLEAR_MISS, "quick"), h)
    assert v.decision == INCONCLUSIVE
    assert v.quick_suggests is not None and v.quick_suggests["decision"] == NOT_SUPPORTED
    assert f"suggest {NOT_SUPPORTED}" in v.reason and "mlexp run --full" in (v.would_decide or "")


def test_an_inconclusive_quick_verdict_keeps_its_reason_and_names_the_full_run():
    h = _hypothesis(n_seeds=5)
    v = judge(_runs(h, CLEAR_PASS, "quick"), h)  # 3 of the plan's 5 seeds
    assert v.decision == INCONCLUSIVE
    assert v.quick_suggests is not None and v.quick_suggests["decision"] == INCONCLUSIVE
    assert "too few seeds" in v.quick_suggests["reason"] and "too few seeds" in v.reason
    assert "mlexp run --full" in (v.would_decide or "") and "fresh:5" in (v.would_decide or "")


def test_once_a_full_run_counts_the_quick_runs_are_not_judged_and_nothing_is_suggested():
    h = _hypothesis()
    obs = _runs(h, CLEAR_MISS, "quick") + _runs(h, CLEAR_PASS, "full", start=10)
    v = judge(obs, h)
    assert v.mode == "full" and v.decision == SUPPORTED and v.quick_suggests is None
    assert "quick" not in v.reason and v.to_dict()["quick_suggests"] is None


def test_no_counted_run_suggests_nothing():
    h = _hypothesis()
    v = judge(_runs(h, CLEAR_PASS, "quick", ignored="broken data"), h)  # ignored before they were judged
    assert v.decision == INCONCLUSIVE and v.quick_suggests is None


def test_a_quick_run_ignored_after_its_value_was_seen_is_still_called_out():
    h = _hypothesis()
    obs = _runs(h, [0.10], "quick", ignored="looked broken") + _runs(h, CLEAR_PASS, "quick", start=1)
    for i, o in enumerate(obs):
        o.seed = i  # seeds 0 (ignored after its value was logged), 1, 2, 3
    v = judge(obs, h)
    assert v.decision == INCONCLUSIVE and v.quick_suggests is not None
    assert [d["run_id"] for d in v.ignored_after_seen] == ["r000"]
    assert v.with_ignored is not None and v.with_ignored["decision"] == INCONCLUSIVE  # capped as well
    assert "suggest" in v.with_ignored["reason"] and any("ignored after its value was logged" in f for f in v.flags)
