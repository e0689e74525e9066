"""The statistics of the verdict: one-sided t bounds, Holm's step-down correction, seeds for power.

Plain floats in, plain floats out; scipy's Student t (``scipy.special.stdtr`` /
``stdtrit``) and non-central t (``scipy.stats.nct``) do the distribution work.
``docs/report.md`` states every formula so a researcher can redo them by hand.

numpy and scipy.special are imported by the functions that compute with them: together ~0.3 s of
every command that imports the verdict (``mlexp --help``, ``mlexp journal``, the magics, the server)
would otherwise be spent before any number is needed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

TEST_ONE_SAMPLE = "one-sample t (one-sided)"
TEST_WELCH = "Welch t (one-sided)"
TEST_PAIRED = "paired t over shared seeds (one-sided)"
POWER = 0.8
MAX_SEEDS = 1000
# n tried in chunks, smallest first, each stopping at the first n that reaches the power: the answer of one
# pass over 2..MAX_SEEDS, at the cost of the chunks up to it (the non-central t is slow: ~3 µs a value)
_POWER_CHUNKS = ((2, 64), (64, 128), (128, 256), (256, 512), (512, MAX_SEEDS + 1))


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
    sd = math.sqrt(math.fsum([(x - m) ** 2 for x in xs]) / (n - 1))
    # identical seeds (up to rounding of the mean, ~1e-16 relative) have no spread at all
    return m, 0.0 if sd <= 1e-12 * max(max(xs), -min(xs)) else sd


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
    from scipy import special

    return float(special.stdtrit(df, level))


def bound(est: Estimate, level: float, lower: bool) -> float:
    """The one-sided ``level`` confidence bound of ``est.value``: lower (value - t·se) or upper."""
    half = quantile(level, est.df) * est.se
    return est.value - half if lower else est.value + half


def p_greater(est: Estimate, threshold: float) -> float:
    """One-sided p of H1: true value > threshold (t = (value - threshold) / se, df)."""
    from scipy import special

    if est.se == 0.0:
        return float("nan")
    return float(special.stdtr(est.df, -(est.value - threshold) / est.se))


def p_greater_many(ests: Sequence[Estimate], threshold: float) -> list[float]:
    """:func:`p_greater` of each estimate (each se > 0), in one call of the t distribution (the same numbers)."""
    import numpy as np
    from scipy import special

    if not ests:
        return []
    df = np.array([e.df for e in ests], dtype=float)
    t = np.array([-(e.value - threshold) / e.se for e in ests], dtype=float)
    return special.stdtr(df, t).tolist()


def bounds_many(ests: Sequence[Estimate], levels: Sequence[float], lower: Sequence[bool]) -> list[float]:
    """:func:`bound` of each estimate at its level, in one call of the t quantile (the same numbers)."""
    import numpy as np
    from scipy import special

    if not ests:
        return []
    q = special.stdtrit(np.array([e.df for e in ests], dtype=float), np.array(levels, dtype=float)).tolist()
    return [e.value - qi * e.se if lo else e.value + qi * e.se for e, qi, lo in zip(ests, q, lower)]


def holm(ps: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values; a None (untestable) p counts in k as p = 1."""
    k = len(ps)
    order = sorted(range(k), key=[1.0 if p is None else p for p in ps].__getitem__)
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
    import numpy as np
    from scipy import special

    if distance <= 0 or sd <= 0:
        return None
    for start, stop in _POWER_CHUNKS:  # the smallest n first (same answer, less work)
        n = np.arange(start, stop, dtype=float)
        df = arms * (n - 1)
        se = sd * np.sqrt(arms / n)
        crit = special.stdtrit(df, level)
        reached = 1.0 - special.nctdtr(df, distance / se, crit) >= power  # the non-central t's survival at crit
        if reached.any():
            return int(n[np.argmax(reached)])
    return None


def detectable(est: Estimate, level: float, power: float = POWER) -> float:
    """Smallest true distance the current n detects with exactly ``power``: the non-centrality δ with
    P(T' > t_level) = power for the non-central t T' (df, δ), times se (bisection; (t_level + t_power)·se
    is the usual approximation and starts it)."""
    from scipy import special

    crit = quantile(level, est.df)
    lo, hi = 0.0, 2 * (crit + quantile(power, est.df)) + 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 1.0 - float(special.nctdtr(est.df, mid, crit)) >= power:
            hi = mid
        else:
            lo = mid
    return hi * est.se


def on_scale(transform: str, x: float) -> float | None:
    """``x`` on the registered ``transform``'s scale: ``logit`` (x in (0, 1)) or ``log`` (x > 0); None outside."""
    if transform == "logit":
        return math.log(x / (1.0 - x)) if 0.0 < x < 1.0 else None
    if transform == "log":
        return math.log(x) if x > 0.0 else None
    raise ValueError(f"unknown transform {transform!r}")


def from_scale(transform: str, y: float) -> float:
    """The inverse of :func:`on_scale`: a value on the transform's scale back on the metric's."""
    if transform == "logit":
        return 1.0 / (1.0 + math.exp(-y)) if y >= 0 else math.exp(y) / (1.0 + math.exp(y))
    return math.exp(y)


_GRID = 401  # points of the integration over the score at a look (Simpson; boundaries agree with gsDesign to 1e-4)


def _simpson(grid: np.ndarray) -> np.ndarray:
    """Simpson's weights of an evenly spaced grid of an odd number of points."""
    import numpy as np

    w = np.ones(len(grid))
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * (grid[1] - grid[0]) / 3


@functools.lru_cache(maxsize=64)
def obrien_fleming(looks: tuple[int, ...], alpha: float) -> tuple[float, ...]:
    """The one-sided nominal p-value boundary of each look of a group-sequential plan.

    Lan–DeMets O'Brien–Fleming-type alpha spending: by information fraction t = n / N (N the last look) the
    plan has spent α(t) = 2 − 2Φ(z_{1−α/2} / √t) in all (α(1) = α). Look j's boundary c_j solves
    P(Z₁ < c₁, …, Z_{j−1} < c_{j−1}, Z_j ≥ c_j) = α(t_j) − α(t_{j−1}) under the null for the standardized
    means Z_j = S_j / √n_j of independent normal increments (numerical integration over S on a grid, as
    Armitage, McPherson & Rowe 1969); the nominal p-value boundary is 1 − Φ(c_j). A look is crossed when the
    look's one-sided p is below it: at most α over every look (the t test at each look in place of z).
    """
    import numpy as np
    from scipy import special

    last = looks[-1]
    za = float(special.ndtri(1 - alpha / 2))
    spent = [2 - 2 * float(special.ndtr(za / math.sqrt(n / last))) for n in looks]
    c = [float(special.ndtri(1 - spent[0]))]
    sd = math.sqrt(looks[0])
    grid = np.linspace(-8 * math.sqrt(last), c[0] * sd, _GRID)
    dens = np.exp(-0.5 * (grid / sd) ** 2) / (sd * math.sqrt(2 * math.pi))  # the score's density, continuing
    for j in range(1, len(looks)):
        target = spent[j] - spent[j - 1]
        step = math.sqrt(looks[j] - looks[j - 1])
        root = math.sqrt(looks[j])
        mass = dens * _simpson(grid)
        lo, hi = 0.0, 12.0
        for _ in range(60):  # bisection: the probability of crossing falls as the boundary rises
            mid = (lo + hi) / 2
            crossing = float(np.sum(mass * (1 - special.ndtr((mid * root - grid) / step))))
            lo, hi = (mid, hi) if crossing > target else (lo, mid)
        c.append(hi)
        new = np.linspace(-8 * math.sqrt(last), hi * root, _GRID)
        kernel = np.exp(-0.5 * ((new[:, None] - grid[None, :]) / step) ** 2) / (step * math.sqrt(2 * math.pi))
        dens, grid = kernel @ mass, new
    return tuple(1 - float(special.ndtr(x)) for x in c)
