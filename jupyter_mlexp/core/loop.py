"""The keep/discard decision of the loop: beat the best kept attempt beyond seed noise, or go.

With several seeds on both sides the attempt is compared with the best kept one by a
one-sided t test, the verdict's (:func:`.verdict_arms.estimate`: paired over shared seeds, else Welch)
at the loop's level; with one seed on a side, by a least improvement that defaults to
the noise floor (2 sd of the repeated baseline). Then the simplicity rule: a small gain
that adds many lines is discarded, an equal result that removes lines is kept.
Plain numbers in, a :class:`Decision` out; git and running live elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jupyter_mlexp.core.inference import mean_sd, p_greater
from jupyter_mlexp.core.loop_state import CRASH, DISCARD, KEEP, Attempt, LoopState, Settings
from jupyter_mlexp.core.verdict_arms import Arm, estimate


@dataclass
class Comparison:
    """The attempt against the best kept one; ``delta`` > 0 is better, whatever the direction."""

    delta: float
    p: float | None
    test: str
    better: bool
    not_worse: bool


@dataclass
class Decision:
    status: str
    reason: str
    delta: float | None = None
    p: float | None = None
    test: str = ""
    #: better by the numbers (before the simplicity rule): what ``--confirm`` re-runs
    promising: bool = False


def noise_floor(state: LoopState) -> float | None:
    """2 sd of the repeated baseline's seeds (None when the baseline ran one seed)."""
    base = next((a for a in state.attempts if a.baseline and a.status == KEEP), None)
    if base is None or base.sd is None:
        return None
    return 2.0 * base.sd


def threshold(settings: Settings, floor: float | None) -> float:
    """The least improvement a one-seed decision needs: configured, else the noise floor, else 0."""
    if settings.min_delta is not None:
        return settings.min_delta
    return floor or 0.0


def compare(
    seeds: list[int],
    values: list[float],
    best_seeds: list[int],
    best_values: list[float],
    settings: Settings,
    floor: float | None,
) -> Comparison:
    """The attempt's values against the best kept attempt's, signed so that better is positive.

    The estimate is the verdict's (:func:`.verdict_arms.estimate`: paired over shared seeds, else
    Welch), on the best kept attempt's values restricted to the attempt's seeds when it ran them all
    (it may have more: fresh seeds from ``--confirm``). With no spread at all (the verdict's "zero
    variance") there is no t test: the sign of the difference decides, and ``p`` is None.
    """
    sign = 1.0 if settings.higher_is_better else -1.0
    a = [sign * v for v in values]
    b = [sign * v for v in best_values]
    tol = threshold(settings, floor)
    if len(a) < 2 or len(b) < 2:
        delta = mean_sd(a)[0] - mean_sd(b)[0]
        return Comparison(delta, None, f"Δ vs least improvement {tol:.4g}", delta > tol, delta >= -tol)
    by_b = dict(zip(best_seeds, b))
    if len(set(seeds)) == len(seeds) and set(seeds) <= set(by_b):
        base = _arm(seeds, [by_b[s] for s in seeds])
    else:
        base = _arm(best_seeds, b)
    est = estimate(_arm(seeds, a), base)
    assert est is not None  # n >= 2 on both sides
    if est.se == 0.0:
        return Comparison(est.value, None, est.test, est.value > 0, est.value >= 0)
    alpha = 1.0 - settings.level
    p = p_greater(est, 0.0)
    p_worse = 1.0 - p  # one-sided p that it is worse
    return Comparison(est.value, p, est.test, p < alpha, p_worse >= alpha and est.value >= -tol)


def _arm(seeds: list[int], values: list[float]) -> Arm:
    return Arm("attempt", "loop", {}, "", values=list(values), seeds=list(seeds))


def decide(attempt: Attempt, best: Attempt | None, settings: Settings, floor: float | None) -> Decision:
    """keep or discard a finished, measured attempt (crashes are decided before this)."""
    if best is None:
        return Decision(KEEP, "the baseline: the reference for every later attempt")
    c = compare(attempt.seeds, attempt.values, best.seeds, best.values, settings, floor)
    d = Decision(DISCARD, "", c.delta, c.p, c.test, promising=c.better)
    net = attempt.lines_added - attempt.lines_removed
    gain_needed = settings.simplicity_gain if settings.simplicity_gain is not None else (floor or 0.0)
    versus = f"attempt {best.n}"
    if c.better:
        if settings.simplicity_lines and net > settings.simplicity_lines and c.delta < gain_needed:
            d.reason = f"simplicity: +{net} lines for a gain of {c.delta:.4g} (< {gain_needed:.4g})"
            return d
        d.status, d.reason = KEEP, f"better than {versus} by {c.delta:.4g}{_p(c.p)}"
        return d
    if c.not_worse and net < 0:
        d.status, d.reason = KEEP, f"simpler: {net} lines for a result equal to {versus} (Δ {c.delta:.4g}{_p(c.p)})"
        return d
    d.reason = f"not better than {versus} beyond seed noise (Δ {c.delta:.4g}{_p(c.p)})"
    return d


def confirmed(fresh_seeds: list[int], fresh: list[float], best: Attempt, settings: Settings, floor: float | None):
    """The re-run of a promising win on fresh seeds: does it still beat the best kept attempt?"""
    return compare(fresh_seeds, fresh, best.seeds, best.values, settings, floor)


def _p(p: float | None) -> str:
    return "" if p is None else f", p = {p:.3g}"


def fresh_seeds(state: LoopState, n: int) -> list[int]:
    """``n`` seeds no attempt of the loop has used yet (for ``--confirm``)."""
    used = {s for a in state.attempts for s in a.seeds} | set(state.settings.seeds)
    start = max(used, default=-1) + 1
    return list(range(start, start + n))


def finite(values: list[float | None]) -> bool:
    return bool(values) and all(v is not None and math.isfinite(v) for v in values)


def summary(state: LoopState) -> dict:
    """``mlexp loop status``: the best so far and its commit, the counts, the noise floor."""
    best = state.best()
    floor = noise_floor(state)
    s = state.settings
    return {
        "tag": s.tag,
        "branch": s.branch,
        "experiment": s.experiment,
        "metric": s.metric,
        "direction": "higher is better" if s.higher_is_better else "lower is better",
        "attempts": len(state.attempts),
        "counts": state.counts(),
        "noise_floor": floor,
        "least_improvement": threshold(s, floor),
        "best": None
        if best is None
        else {
            "attempt": best.n,
            "commit": best.commit,
            "mean": best.mean,
            "sd": best.sd,
            "seeds": best.seeds,
            "description": best.description,
        },
        "pending": None if state.pending is None else {"attempt": state.pending.n, "commit": state.pending.commit},
        "next": "the unmodified baseline" if best is None else "a change to try",
    }


__all__ = ["CRASH", "DISCARD", "KEEP", "Comparison", "Decision", "compare", "decide", "noise_floor", "summary"]
