"""The keep/discard decision of the loop: beat the best kept attempt beyond seed noise twice, or go.

An attempt is first **screened** against the best kept attempt's recorded values (a one-sided t
test on the loop's pooled seed sd at ``2α``, the level's α divided among a batch's candidates);
a screened win is **confirmed** on fresh seeds run side by side with the best kept commit (the
fresh difference alone, at ``α/2``), so a change with no effect is kept with probability at most
``α²`` (:mod:`.loop_rule` has the statistics, ``docs/loop.md`` the rates measured). Then the
simplicity rule: a small gain that adds many lines is discarded; a result within the margin
(a non-inferiority bound at the loop's level) that removes lines is kept.
Plain numbers in, a :class:`Decision` out; git and running live elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from jupyter_mlexp.core.stats.inference import mean_sd
from jupyter_mlexp.loop.keep_rule import (
    MARGIN_SD,
    REL_FLOOR,
    Noise,
    alphas,
    default_extra_seeds,
    difference,
    false_keep_bound,
    pooled,
)
from jupyter_mlexp.loop.loop_state import CRASH, DISCARD, KEEP, Attempt, LoopState, Settings


@dataclass
class Decision:
    status: str
    reason: str
    delta: float | None = None
    p: float | None = None
    test: str = ""
    #: better by the screen (before the simplicity rule)
    promising: bool = False
    #: kept by the screen, to be confirmed on fresh seeds before it is final (the α to confirm at)
    confirm_alpha: float | None = None


def noise(state: LoopState, *extra: Sequence[float]) -> Noise:
    """The loop's seed noise: the spread within every group of runs of one commit it measured.

    The groups: each measured attempt's values (its seeds and its confirmation's: one commit), each
    reference re-run beside a confirmation or a batch (once, however many candidates it served),
    and ``extra`` (the attempt being decided, a confirmation's fresh runs).
    """
    groups: list[Sequence[float]] = []
    seen: set[tuple] = set()
    for a in state.attempts:
        if a.status == CRASH:
            continue
        groups.append(a.values)
        key = (tuple(a.reference_seeds), tuple(a.reference_values))
        if a.reference_values and key not in seen:
            seen.add(key)
            groups.append(a.reference_values)
    return pooled([*groups, *extra])


def _signed(settings: Settings, values: Sequence[float]) -> list[float]:
    sign = 1.0 if settings.higher_is_better else -1.0
    return [sign * v for v in values]


def floor(settings: Settings, loop_noise: Noise, reference: Sequence[float]) -> float:
    """The least gain that counts: ``--min-delta``; else 0 with a measured noise; else (no spread
    at all) 1 % of the reference's mean, so that a script that ignores its seed is not ruled by
    rounding."""
    if settings.min_delta is not None:
        return settings.min_delta
    if loop_noise.measured or not reference:
        return 0.0
    return REL_FLOOR * abs(mean_sd(reference)[0])


def margin(settings: Settings, loop_noise: Noise) -> float:
    """The harm a simpler change may have and still count as equal: ``--margin``, else half the sd."""
    if settings.margin is not None:
        return settings.margin
    return MARGIN_SD * loop_noise.sd if loop_noise.measured else 0.0


def noise_floor(state: LoopState) -> float | None:
    """2 sd of the loop's pooled seed noise; with no spread measured, the floor a gain must pass
    instead (``--min-delta``, else 1 % of the best's mean); None before the baseline."""
    n = noise(state)
    if n.measured:
        return 2.0 * n.sd
    best = state.best()
    if best is None:
        return None
    return floor(state.settings, n, best.values)


def decide(
    attempt: Attempt, best: Attempt | None, settings: Settings, loop_noise: Noise, candidates: int = 1
) -> Decision:
    """The screen: keep, discard, or keep-if-confirmed (``confirm_alpha`` set) a measured attempt.

    ``loop_noise`` includes the attempt's own values (:func:`noise`); ``candidates``: the attempts of
    a batch judged at once (the screen's α is divided among them).
    """
    if best is None:
        return Decision(KEEP, "the baseline: the reference for every later attempt")
    confirm = settings.confirm_n > 0
    a_screen, a_confirm = alphas(settings.level, confirm, candidates)
    a = _signed(settings, attempt.values)
    b = _signed(settings, best.values)
    least = floor(settings, loop_noise, b)
    t = difference(a, b, loop_noise, a_screen, settings.level, least)
    d = Decision(DISCARD, "", t.delta, t.p, t.test)
    net = attempt.lines_added - attempt.lines_removed
    versus = f"attempt {best.n}"
    nf = 2.0 * loop_noise.sd if loop_noise.measured else least
    gain_needed = settings.simplicity_gain if settings.simplicity_gain is not None else nf
    unmeasured = "" if loop_noise.measured else _no_spread(least)
    if t.passed:
        d.promising = True
        if settings.simplicity_lines and net > settings.simplicity_lines and t.delta < gain_needed:
            d.reason = f"simplicity: +{net} lines for a gain of {t.delta:.4g} (< {gain_needed:.4g})"
            return d
        d.status = KEEP
        d.reason = f"better than {versus} by {t.delta:.4g}{_p(t.p)}{_at(t.p, a_screen)}{unmeasured}"
        d.confirm_alpha = a_confirm
        return d
    m = margin(settings, loop_noise)
    if net < 0 and t.harm_bound <= m:
        how = f"harm ≤ {t.harm_bound:.4g} at level {settings.level:g}" if t.p is not None else f"Δ {t.delta:.4g}"
        d.status = KEEP
        d.reason = f"simpler: {net} lines for a result within {m:.4g} of {versus} ({how}){unmeasured}"
        return d
    d.reason = f"not better than {versus} beyond seed noise (Δ {t.delta:.4g}{_p(t.p)}; needs > {t.needed:.4g})"
    return d


def confirm(
    attempt: Attempt,
    best_n: int,
    fresh: Sequence[float],
    reference: Sequence[float],
    alpha: float,
    settings: Settings,
    loop_noise: Noise,
) -> None:
    """The confirmation: ``fresh`` (the attempt) against ``reference`` (the best kept commit), run
    side by side on the same fresh seeds; ``attempt`` stays kept only if that difference alone
    passes at ``alpha``. ``loop_noise`` includes the fresh groups."""
    a, b = _signed(settings, fresh), _signed(settings, reference)
    least = floor(settings, loop_noise, b)
    t = difference(a, b, loop_noise, alpha, settings.level, least, own_spread=True)
    where = f"fresh seeds {list(attempt.confirm_seeds)} beside attempt {best_n} re-run"
    if t.passed:
        extra = "" if loop_noise.measured else _no_spread(least)
        attempt.reason += f"; confirmed on {where} (Δ {t.delta:.4g}{_p(t.p)}{_at(t.p, alpha)}){extra}"
    else:
        attempt.status = DISCARD
        attempt.reason = (
            f"not confirmed on {where} (Δ {t.delta:.4g}{_p(t.p)}; needs > {t.needed:.4g}) after: {attempt.reason}"
        )


def _no_spread(least: float) -> str:
    return f" [no seed spread measured: kept on Δ > {least:.4g}, not on a test; see mlexp loop status]"


def _p(p: float | None) -> str:
    return "" if p is None else f", p = {p:.3g}"


def _at(p: float | None, alpha: float) -> str:
    return "" if p is None else f" < {alpha:.3g}"


def fresh_seeds(state: LoopState, n: int) -> list[int]:
    """``n`` seeds no attempt of the loop (nor a reference re-run) has used yet."""
    attempts = state.attempts + state.batch + ([state.pending] if state.pending else [])
    used = {s for a in attempts for s in (*a.seeds, *a.reference_seeds)} | set(state.settings.seeds)
    start = max(used, default=-1) + 1
    return list(range(start, start + n))


def baseline_seeds(state: LoopState, seeds: Sequence[int]) -> list[int]:
    """The baseline's seeds: ``seeds`` and fresh ones up to twice the loop's seeds (at least 4), so
    the loop's noise is measured from the start."""
    want = default_extra_seeds(len(state.settings.seeds))
    out = list(dict.fromkeys(int(s) for s in seeds))
    start = max([*out, *state.settings.seeds], default=-1) + 1
    return out + list(range(start, start + max(0, want - len(out))))


def least_gain(state: LoopState) -> float | None:
    """The least improvement an attempt on the loop's seeds needs to pass the screen now."""
    best = state.best()
    if best is None or not best.values:
        return None
    s = state.settings
    n = noise(state)
    b = _signed(s, best.values)
    screen, _ = alphas(s.level, s.confirm_n > 0)
    mean_b = mean_sd(b)[0]
    probe = [mean_b] * max(1, len(s.seeds))
    return difference(probe, b, n, screen, s.level, floor(s, n, b)).needed


def warnings(state: LoopState) -> list[str]:
    """What the rule cannot see: attempts whose seeds all gave one value, a loop with no spread."""
    same = [a.n for a in state.attempts if a.status != CRASH and len(a.values) >= 2 and len(set(a.values)) == 1]
    out = []
    if same:
        which = ", ".join(map(str, same[:10])) + (" …" if len(same) > 10 else "")
        out.append(
            f"attempt {which}: every seed gave the same value: does the command use its seed (MLEXP_SEED)? "
            "Such attempts add no measure of the noise"
        )
    n = noise(state)
    if state.best() is not None and not n.measured:
        nf = noise_floor(state)
        out.append(
            "no seed spread measured in this loop: a keep is decided on a gain above "
            f"{nf:.4g} (--min-delta, else 1 % of the best's mean), not on a test"
        )
    return out


def finite(values: list[float | None]) -> bool:
    return bool(values) and all(v is not None and math.isfinite(v) for v in values)


def rule(settings: Settings) -> dict:
    """The keep rule's numbers for this loop: the screen's and the confirmation's α, its seeds."""
    confirm = settings.confirm_n > 0
    screen, conf = alphas(settings.level, confirm)
    return {
        "level": settings.level,
        "screen_alpha": screen,
        "confirm_alpha": conf,
        "confirm_seeds": settings.confirm_n,
        "false_keep_per_attempt": false_keep_bound(settings.level, confirm),
    }


def summary(state: LoopState) -> dict:
    """``mlexp loop status``: the best so far and its commit, the counts, the noise floor, warnings."""
    best = state.best()
    n = noise(state)
    s = state.settings
    return {
        "tag": s.tag,
        "branch": s.branch,
        "experiment": s.experiment,
        "metric": s.metric,
        "direction": "higher is better" if s.higher_is_better else "lower is better",
        "attempts": len(state.attempts),
        "counts": state.counts(),
        "noise_sd": n.sd if n.df else None,
        "noise_df": n.df,
        "noise_floor": noise_floor(state),
        "least_improvement": least_gain(state),
        "rule": rule(s),
        "warnings": warnings(state),
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


__all__ = ["CRASH", "DISCARD", "KEEP", "Decision", "confirm", "decide", "noise", "noise_floor", "summary"]
