"""The statistics of the verdict: one-sided t bounds, Holm's step-down correction, seeds for power.

Plain floats in, plain floats out; scipy's Student t (``scipy.special.stdtr`` /
``stdtrit``) and non-central t (``scipy.stats.nct``) do the distribution work.
``docs/report.md`` states every formula so a researcher can redo them by hand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

TEST_ONE_SAMPLE = "one-sample t (one-sided)"
TEST_WELCH = "Welch t (one-sided)"
TEST_PAIRED = "paired t over shared seeds (one-sided)"
POWER = 0.8
MAX_SEEDS = 1000


@dataclass
class Estimate:
    """A mean (or a difference of means) with its standard error and degrees of freedom."""

    value: float
    se: float
    df: float
    test: str


def mean_sd(xs: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (n - 1; None for n < 2), summed exactly."""
    n = len(xs)
    m = math.fsum(xs) / n
    if n < 2:
        return m, None
    sd = math.sqrt(math.fsum((x - m) ** 2 for x in xs) / (n - 1))
    # identical seeds (up to rounding of the mean, ~1e-16 relative) have no spread at all
    return m, 0.0 if sd <= 1e-12 * max(abs(x) for x in xs) else sd


def one_sample(xs: Sequence[float]) -> Estimate | None:
    if len(xs) < 2:
        return None
    m, sd = mean_sd(xs)
    return Estimate(m, (sd or 0.0) / math.sqrt(len(xs)), len(xs) - 1.0, TEST_ONE_SAMPLE)


def welch(a: Sequence[float], b: Sequence[float]) -> Estimate | None:
    """mean(a) - mean(b) with the Welch standard error and Welch–Satterthwaite df."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return None
    (ma, sa), (mb, sb) = mean_sd(a), mean_sd(b)
    va, vb = (sa or 0.0) ** 2 / na, (sb or 0.0) ** 2 / nb
    se2 = va + vb
    denom = va * va / (na - 1) + vb * vb / (nb - 1)
    df = se2 * se2 / denom if denom > 0 else float(na + nb - 2)
    return Estimate(ma - mb, math.sqrt(se2), df, TEST_WELCH)


def paired(a: Sequence[float], b: Sequence[float]) -> Estimate | None:
    """Mean of the per-seed differences a_i - b_i (same seeds, same order)."""
    est = one_sample([x - y for x, y in zip(a, b)])
    if est is not None:
        est.test = TEST_PAIRED
    return est


def quantile(level: float, df: float) -> float:
    """The Student t quantile t_{level, df}."""
    from scipy import special  # lazily: scipy.special is ~0.3 s of every command that imports the verdict

    return float(special.stdtrit(df, level))


def bound(est: Estimate, level: float, lower: bool) -> float:
    """The one-sided ``level`` confidence bound of ``est.value``: lower (value - t·se) or upper."""
    half = quantile(level, est.df) * est.se
    return est.value - half if lower else est.value + half


def p_greater(est: Estimate, threshold: float) -> float:
    """One-sided p of H1: true value > threshold (t = (value - threshold) / se, df)."""
    from scipy import special  # lazily: scipy.special is ~0.3 s of every command that imports the verdict

    if est.se == 0.0:
        return float("nan")
    return float(special.stdtr(est.df, -(est.value - threshold) / est.se))


def _p_or_one(p: float | None) -> float:
    return 1.0 if p is None else p


def holm(ps: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values; a None (untestable) p counts in k as p = 1."""
    k = len(ps)
    order = sorted(range(k), key=lambda i: _p_or_one(ps[i]))
    out: list[float | None] = [None] * k
    running = 0.0
    for rank, i in enumerate(order):
        p = ps[i]
        if p is None:
            continue
        running = max(running, min(1.0, (k - rank) * p))
        out[i] = running
    return out


def seeds_for_power(distance: float, sd: float, level: float, arms: int = 1, power: float = POWER) -> int | None:
    """Seeds per arm for ``power`` to show a true difference ``distance`` with one-sided ``level``.

    One arm: one-sample t (df = n - 1, se = sd/√n). Two arms: equal n, se = sd·√(2/n), df = 2n - 2,
    ``sd`` the pooled one. None when the distance is 0 or more than ``MAX_SEEDS`` would be needed.
    """
    import numpy as np  # lazily, as scipy.special: ~0.3 s of every command that imports the verdict
    from scipy import special

    if distance <= 0 or sd <= 0:
        return None
    n = np.arange(2, MAX_SEEDS + 1, dtype=float)
    df = arms * (n - 1)
    se = sd * np.sqrt(arms / n)
    crit = special.stdtrit(df, level)
    reached = 1.0 - special.nctdtr(df, distance / se, crit) >= power  # the non-central t's survival at crit
    return int(n[np.argmax(reached)]) if reached.any() else None


def detectable(est: Estimate, level: float, power: float = POWER) -> float:
    """Smallest true distance the current n detects with exactly ``power``: the non-centrality δ with
    P(T' > t_level) = power for the non-central t T' (df, δ), times se (bisection; (t_level + t_power)·se
    is the usual approximation and starts it)."""
    from scipy import special  # lazily: scipy.special is ~0.3 s of every command that imports the verdict

    crit = quantile(level, est.df)
    lo, hi = 0.0, 2 * (crit + quantile(power, est.df)) + 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 1.0 - float(special.nctdtr(est.df, mid, crit)) >= power:
            hi = mid
        else:
            lo = mid
    return hi * est.se
