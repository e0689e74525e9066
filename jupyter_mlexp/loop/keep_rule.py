"""The statistics of the loop's keep rule: the loop's seed noise, its two tests, its error budget.

A loop decides many times on a handful of seeds, so a rule that tests each attempt at the
level keeps about one null change in twenty. This rule bounds the false keeps over the loop's
life instead (``docs/loop.md`` states it and the rates measured):

- **the loop's noise**: one seed sd pooled over every group of runs of one commit the loop has
  measured (an attempt's seeds, a reference re-run beside a confirmation), with its degrees of
  freedom; every attempt runs the same script, so their spreads estimate one noise, and a test
  on it has the df of the whole loop, not of three seeds;
- **screen**: the attempt's mean against the best kept attempt's, a one-sided t test on the
  pooled sd at ``2α`` (``α = 1 − level``), divided by the number of candidates of a batch;
- **confirmation**: a screened win and the best kept commit re-run side by side on fresh seeds;
  kept only if that fresh difference alone passes a one-sided t test at ``α / 2`` (the attempt's
  arm on its own variance when that is larger than the loop's beyond chance). The two stages use
  disjoint runs (they share only the pooled sd), so a change with no effect is kept with
  probability about ``2α · α/2 = α²`` (0.0025 at level 0.95: 0.075 per 30 attempts);
- **equal** (the simplicity rule): a non-inferiority test, the one-sided ``level`` upper bound of
  the harm below the margin (default half the loop's sd);
- **no spread** (a script that ignores its seed): no test exists; a gain must exceed
  ``--min-delta``, else 1 % of the reference's mean, and the loop says so.

Plain numbers in, plain numbers out; the t distribution is :mod:`.inference`'s, the F quantile
``scipy.special.fdtri``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jupyter_mlexp.core.stats.inference import Estimate, bound, mean_sd, p_greater

TEST_POOLED = "t on the loop's pooled seed sd (one-sided)"
TEST_FLOOR = "Δ vs a floor (the seeds show no spread)"
#: the screen tests at SCREEN_FACTOR · α, the confirmation at α / CONFIRM_DIVISOR: α² per null attempt
SCREEN_FACTOR = 2.0
CONFIRM_DIVISOR = 2.0
#: the non-inferiority margin, in the loop's seed sd, when ``--margin`` is not given
MARGIN_SD = 0.5
#: with no measured spread, a gain must exceed this fraction of the reference's mean (or --min-delta)
REL_FLOOR = 0.01
#: a confirmed attempt's own spread replaces the loop's when larger beyond this F quantile
NOISIER_F = 0.9
#: the baseline and the default confirmation run twice the loop's seeds, at least this many
MIN_EXTRA_SEEDS = 4


@dataclass(frozen=True)
class Noise:
    """The loop's seed sd pooled over groups of runs of one commit: √(Σ SS / Σ (n − 1)), df = Σ (n − 1)."""

    sd: float
    df: int

    @property
    def measured(self) -> bool:
        """A spread was seen: a t test exists."""
        return self.df > 0 and self.sd > 0.0


def pooled(groups: Iterable[Sequence[float]]) -> Noise:
    """Pool the within-group spread of ``groups`` (each: the values of one commit run together)."""
    ss: list[float] = []
    df = 0
    for values in groups:
        n = len(values)
        if n < 2:
            continue
        m = math.fsum(values) / n
        within = math.fsum((x - m) ** 2 for x in values)
        # identical seeds (up to rounding of the mean) have no spread at all, as in inference.mean_sd
        if within <= (1e-12 * max(map(abs, values))) ** 2 * (n - 1):
            within = 0.0
        ss.append(within)
        df += n - 1
    if df == 0:
        return Noise(0.0, 0)
    return Noise(math.sqrt(math.fsum(ss) / df), df)


def alphas(level: float, confirm: bool, candidates: int = 1) -> tuple[float, float | None]:
    """(screen α, confirmation α): ``2α/k`` then ``α/2``; without a confirmation one test at ``α/k``."""
    alpha = 1.0 - level
    k = max(1, candidates)
    if not confirm:
        return alpha / k, None
    return min(0.5, SCREEN_FACTOR * alpha) / k, alpha / CONFIRM_DIVISOR


def false_keep_bound(level: float, confirm: bool) -> float:
    """The chance that one attempt with no effect is kept (screen α × confirmation α)."""
    screen, conf = alphas(level, confirm)
    return screen * (conf if conf is not None else 1.0)


def default_extra_seeds(loop_seeds: int) -> int:
    """How many seeds the baseline and a confirmation run by default: twice the loop's, at least 4."""
    return max(2 * loop_seeds, MIN_EXTRA_SEEDS)


def arm_variance(values: Sequence[float], noise: Noise) -> float:
    """The variance a confirmation uses for the attempt's arm: the loop's, unless the arm's own spread
    is larger beyond chance (F test at ``NOISIER_F``: own / pooled above the F quantile), then its own,
    so that a change that makes the noise larger is not judged on the quieter loop's."""
    from scipy import special  # lazily: scipy.special is ~0.3 s of every command that imports the verdict

    var = noise.sd**2
    if len(values) < 2:
        return var
    own = (mean_sd(values)[1] or 0.0) ** 2
    if own > var * float(special.fdtri(len(values) - 1, noise.df, NOISIER_F)):
        return own
    return var


@dataclass
class Comparison:
    """One comparison: ``delta`` > 0 is better; ``harm_bound`` the ``level`` upper bound of −delta."""

    delta: float
    se: float
    df: int
    p: float | None
    test: str
    #: the least delta this comparison keeps (its critical value), for the one-line reasons
    needed: float
    passed: bool
    harm_bound: float


def difference(
    a: Sequence[float],
    b: Sequence[float],
    noise: Noise,
    alpha: float,
    level: float,
    floor: float,
    own_spread: bool = False,
) -> Comparison:
    """``mean(a) − mean(b)`` (already signed so that higher is better) against seed noise.

    With a measured noise: t = Δ / (sd · √(1/n_a + 1/n_b)) on the pooled df, passed when its
    one-sided p < ``alpha`` and Δ > ``floor`` (``--min-delta``, 0 by default). With none (no spread
    anywhere, or no group of two runs): passed when Δ > ``floor``, no p.
    """
    delta = mean_sd(a)[0] - mean_sd(b)[0]
    if not noise.measured:
        return Comparison(delta, 0.0, noise.df, None, TEST_FLOOR, floor, delta > floor, -delta)
    var = noise.sd**2
    if own_spread:
        se = math.sqrt(arm_variance(a, noise) / len(a) + var / len(b))
    else:
        se = noise.sd * math.sqrt(1.0 / len(a) + 1.0 / len(b))
    est = Estimate(delta, se, float(noise.df), TEST_POOLED)
    p = p_greater(est, 0.0)
    needed = max(floor, bound(Estimate(0.0, se, float(noise.df), TEST_POOLED), 1.0 - alpha, lower=False))
    harm = bound(Estimate(-delta, se, float(noise.df), TEST_POOLED), level, lower=False)
    return Comparison(delta, se, noise.df, p, TEST_POOLED, needed, p < alpha and delta > floor, harm)
