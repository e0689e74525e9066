"""Statistics of a report: mean ± std over seeds, Welch's t-test, bootstrap CI, Hedges' g.

Every function takes plain sequences of floats (the per-seed final values of one
metric) and says in its output which test or effect size it computed. A value
from a single seed has no spread: it is shown as ``n = 1``, never as ``± 0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from jupyter_mlexp.core.stats.verdict_arms import fmt_number, fmt_spread

TEST_WELCH = "Welch's t-test (two-sided)"
TEST_BOOTSTRAP = "bootstrap 95% CI of the difference of means"
EFFECT_SIZE = "Hedges' g"
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_MIN_N = 10  # a percentile bootstrap of fewer values per arm is far too narrow to trust


@dataclass
class Summary:
    """Mean, sample std (ddof = 1) and n of one metric over runs, with the files the values came from."""

    mean: float | None
    std: float | None
    n: int
    values: list[float] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    nonfinite: int = 0  # runs whose final value was NaN or inf: excluded from mean and std
    missing: int = 0  # runs of the group that never logged the metric

    def to_dict(self) -> dict:
        return {
            "mean": self.mean,
            "std": self.std,
            "n": self.n,
            "values": self.values,
            "nonfinite_excluded": self.nonfinite,
            "runs_missing_metric": self.missing,
            "sources": self.sources,
        }


def summarize(values: Sequence[float], sources: Sequence[str] = (), missing: int = 0) -> Summary:
    """Summary of finite ``values``; non-finite ones are counted and left out."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    kept = [s for v, s in zip(values, sources) if v is not None and math.isfinite(v)] if sources else []
    n = len(finite)
    nonfinite = len(values) - n
    if n == 0:
        return Summary(None, None, 0, [], kept, nonfinite, missing)
    mean = math.fsum(finite) / n
    std = None if n < 2 else math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1))
    return Summary(mean, std, n, finite, kept, nonfinite, missing)


def fmt_summary(s: Summary, digits: int = 4) -> str:
    """``0.912 ± 0.004 (n = 3)``; ``0.912 (n = 1)``; ``not measured`` — never ``± 0`` for one seed."""
    return fmt_spread(s.mean, s.std, s.n, s.nonfinite, s.missing, digits)


@dataclass
class Welch:
    t: float
    df: float
    p: float
    test: str = TEST_WELCH

    def to_dict(self) -> dict:
        return {"test": self.test, "t": self.t, "df": self.df, "p": self.p}


def _mean_var(xs: Sequence[float]) -> tuple[float, float]:
    """Mean and sample variance (n - 1), summed exactly."""
    n = len(xs)
    m = math.fsum(xs) / n
    return m, math.fsum((x - m) ** 2 for x in xs) / (n - 1)


def welch(a: Sequence[float], b: Sequence[float]) -> Welch | None:
    """Welch's unequal-variance t-test of mean(a) vs mean(b); None when either side has n < 2.

    Same statistic as ``scipy.stats.ttest_ind(a, b, equal_var=False)``, with the
    p-value from scipy's Student t CDF (``scipy.special.stdtr``) directly: the
    full ``ttest_ind`` costs ~0.7 ms a call, too much for hundreds of configurations.
    """
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return None
    (ma, va), (mb, vb) = _mean_var(a), _mean_var(b)
    sa, sb = va / na, vb / nb
    se2 = sa + sb
    if se2 == 0.0:
        if ma == mb:
            return Welch(float("nan"), float("nan"), float("nan"))
        return Welch(math.copysign(math.inf, ma - mb), float(na + nb - 2), 0.0)
    t = (ma - mb) / math.sqrt(se2)
    denom = (sa * sa / (na - 1) if na > 1 else 0.0) + (sb * sb / (nb - 1) if nb > 1 else 0.0)
    df = se2 * se2 / denom if denom > 0 else float(na + nb - 2)
    p = float(2.0 * special.stdtr(df, -abs(t)))
    return Welch(t, df, min(1.0, p))


def bootstrap_ci(
    a: Sequence[float], b: Sequence[float], level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> tuple[float, float] | None:
    """Percentile bootstrap CI of ``mean(a) - mean(b)`` (seeded: the report is reproducible)."""
    if len(a) < 2 or len(b) < 2:
        return None
    ia, ib = _resample_indices(len(a), len(b), resamples, seed)
    xa, xb = np.asarray(a, float), np.asarray(b, float)
    da = xa[ia].mean(axis=1)
    db = xb[ib].mean(axis=1)
    lo, hi = np.percentile(da - db, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(lo), float(hi)


_INDEX_CACHE: dict = {}


def _resample_indices(na: int, nb: int, resamples: int, seed: int):
    """The resampling indices a fresh ``default_rng(seed)`` draws; the same for the same sizes, so cached."""
    key = (na, nb, resamples, seed)
    got = _INDEX_CACHE.get(key)
    if got is None:
        rng = np.random.default_rng(seed)
        got = (rng.integers(0, na, (resamples, na)), rng.integers(0, nb, (resamples, nb)))
        if len(_INDEX_CACHE) > 64:
            _INDEX_CACHE.clear()
        _INDEX_CACHE[key] = got
    return got


def hedges_g(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Hedges' g (Cohen's d with the small-sample correction) of a vs b; None if undefined."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return None
    (ma, va), (mb, vb) = _mean_var(a), _mean_var(b)
    pooled = math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    if pooled == 0.0:
        return None
    d = (ma - mb) / pooled
    return d * (1 - 3 / (4 * (na + nb) - 9))


@dataclass
class Comparison:
    """One configuration against the baseline on one metric."""

    metric: str
    config: str
    baseline: str
    a: Summary
    b: Summary
    delta: float | None
    welch: Welch | None
    ci: tuple[float, float] | None
    g: float | None
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "configuration": self.config,
            "baseline": self.baseline,
            "mean": self.a.mean,
            "std": self.a.std,
            "n": self.a.n,
            "baseline_mean": self.b.mean,
            "baseline_std": self.b.std,
            "baseline_n": self.b.n,
            "delta": self.delta,
            "welch": None if self.welch is None else self.welch.to_dict(),
            "bootstrap_ci95": None if self.ci is None else list(self.ci),
            "bootstrap": TEST_BOOTSTRAP,
            "effect_size": EFFECT_SIZE,
            "hedges_g": self.g,
            "descriptive": True,  # none of these decides: the verdict (core.verdict) does
            "note": self.note,
            "sources": self.a.sources,
            "baseline_sources": self.b.sources,
        }


def compare(metric: str, config: str, a: Summary, baseline: str, b: Summary) -> Comparison:
    delta = None if a.mean is None or b.mean is None else a.mean - b.mean
    note = ""
    if a.n < 2 or b.n < 2:
        note = f"too few seeds for a test (n = {a.n} vs n = {b.n}; need ≥ 2 each)"
    return Comparison(
        metric,
        config,
        baseline,
        a,
        b,
        delta,
        welch(a.values, b.values),
        bootstrap_ci(a.values, b.values) if min(a.n, b.n) >= BOOTSTRAP_MIN_N else None,
        hedges_g(a.values, b.values),
        note,
    )


def fmt_comparison_row(c: Comparison) -> list[str]:
    if c.welch is None:
        test = c.note or "—"
    else:
        test = f"t = {fmt_number(c.welch.t, 3)}, df = {fmt_number(c.welch.df, 3)}, p = {fmt_number(c.welch.p, 3)}"
    if c.ci is None:
        ci = "—" if min(c.a.n, c.b.n) < 2 else f"— (needs n ≥ {BOOTSTRAP_MIN_N} per arm)"
    else:
        ci = f"[{fmt_number(c.ci[0])}, {fmt_number(c.ci[1])}]"
    return [fmt_number(c.delta), test, ci, fmt_number(c.g, 3)]
