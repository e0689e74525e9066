"""The comparison figure: each configuration's final value per seed, the mean with its t interval and
the success criterion's threshold (no zero-based bars); for a relative criterion, a second panel with
the decisive difference to the baseline and the verdict's interval of it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.figure import Figure

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.stats.inference import one_sample, quantile
from jupyter_mlexp.report.figure_base import (
    LINESTYLES,
    MARKERS,
    MAX_BARS,
    PALETTE,
    _chosen,
    _save,
    styles,
)
from jupyter_mlexp.report.groups import Group, baseline_group, label
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.report_verdict import judge


def _threshold(data: ReportData, metric: str, chosen: list[Group], mode: str) -> tuple[float, str] | None:
    """Where the success criterion's line goes on ``metric``'s axis, and its legend text."""
    h = data.hypothesis
    if h is None:
        return None
    try:
        crit = h.success_criterion
    except MlexpError:
        return None
    if crit.metric != metric:
        return None
    if not crit.relative:
        return crit.value, f"criterion `{crit}`"
    base, _ = baseline_group(data, mode, chosen)
    b = None if base is None else base.summary(metric).mean
    return None if b is None else (b + crit.value, f"criterion `{crit}` at the baseline's mean")


def comparison_points(
    data: ReportData, metric: str, mode: str | None = None, out: Path | None = None, limit: int = MAX_BARS
) -> tuple[Figure, dict]:
    """Final ``metric`` per configuration: every seed's value, the mean and its t interval, the criterion."""
    mode, chosen = _chosen(data, metric, mode, limit)
    level = data.hypothesis.level if data.hypothesis else 0.95
    two_sided = 1 - 2 * (1 - level)  # its ends are the verdict's one-sided bounds at ``level`` (before Holm)
    look = styles(data, mode)
    diffs, diff_base = _difference_arms(data, metric, mode)
    height = max(2.6, 1.1 + 0.38 * len(chosen))
    if diffs:
        extra = max(2.0, 1.1 + 0.38 * len(diffs))
        fig = Figure(figsize=(7, height + extra))
        ax, dax = fig.subplots(2, 1, gridspec_kw={"height_ratios": [height, extra]})
    else:
        fig = Figure(figsize=(7, height))
        ax, dax = fig.subplots(), None
    rows = []
    for y, g in zip(range(len(chosen) - 1, -1, -1), chosen):
        s, name = g.summary(metric), label(g)
        colour, marker, _ = look.get(name, (PALETTE[0], MARKERS[0], LINESTYLES[0]))
        est = one_sample(s.values)
        half = None if est is None else quantile(1 - (1 - two_sided) / 2, est.df) * est.se
        mean = math.nan if s.mean is None else s.mean
        _seeds_and_mean(ax, y, s.values, mean, None if half is None else (half, half), colour, marker)
        ax.annotate(
            f"n = {s.n}",
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
        interval = None if half is None or s.mean is None else [s.mean - half, s.mean + half]
        rows.append({"configuration": name, "colour": colour, "interval": interval, **s.to_dict()})
    line = _threshold(data, metric, chosen, mode)
    if line is not None:
        ax.axvline(line[0], color="#b22222", ls="--", lw=1.2, label=line[1])
        ax.legend(fontsize=8, loc="lower right", framealpha=0.85)
    ax.set_yticks(
        range(len(chosen) - 1, -1, -1), [t if len(t) < 40 else t[:37] + "…" for t in map(label, chosen)], fontsize=8
    )
    ax.set_ylim(-0.7, len(chosen) - 0.3)
    ax.set_xlabel(f"{metric} (final value; dots: seeds, ◆ mean with two-sided {two_sided:.0%} t interval)", fontsize=8)
    ax.set_title(f"{metric}: configurations compared ({mode} runs)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    difference = None if dax is None else _draw_difference(dax, diffs, diff_base, metric, look)
    fig.tight_layout()
    payload = {
        "kind": "comparison",
        "metric": metric,
        "mode": mode,
        "interval": f"two-sided {two_sided:.0%} t interval of the mean (its ends: one-sided {level:.0%} bounds)",
        "threshold": None if line is None else {"value": line[0], "label": line[1]},
        "configurations": rows,
        "difference": difference,
    }
    _save(fig, out, payload)
    return fig, payload


def _difference_arms(data: ReportData, metric: str, mode: str) -> tuple[list, Any]:
    """The verdict's tested candidates and its baseline when its criterion is relative (their difference
    decides), else ``([], None)``."""

    v = judge(data)
    if not v.relative or v.baseline is None or v.mode != mode or not v.candidates or v.candidates[0].metric != metric:
        return [], None
    return [a for a in v.candidates if a.estimate is not None][:MAX_BARS], v.baseline


def _per_seed(a, base) -> list[float] | None:
    """Per-seed differences a_i - baseline_i when the verdict paired them (same seeds), else None."""
    if not (a.test or "").startswith("paired"):
        return None
    by_seed = dict(zip(map(str, base.seeds), base.values))
    return [x - by_seed[str(s)] for x, s in zip(a.values, a.seeds)]


def _draw_difference(ax, arms: list, base: Any, metric: str, look: dict) -> dict:
    """The decisive quantity of a relative criterion: each candidate's difference to the baseline, its
    per-seed differences when paired, the verdict's interval (one end is its one-sided bound) and c."""
    rows = []
    threshold = arms[0].threshold or 0.0
    for y, a in zip(range(len(arms) - 1, -1, -1), arms):
        colour, marker, _ = look.get(a.label, (PALETTE[0], MARKERS[0], LINESTYLES[0]))
        per_seed = _per_seed(a, base)
        interval = None
        if a.bound is not None and a.se is not None and a.df is not None and a.bound_level is not None:
            half = quantile(a.bound_level, a.df) * a.se
            interval = [a.estimate - half, a.estimate + half]
        _seeds_and_mean(ax, y, per_seed, a.estimate, None if interval is None else (half, half), colour, marker)
        rows.append(
            {
                "configuration": a.label,
                "colour": colour,
                "test": a.test,
                "estimate": a.estimate,
                "bound": a.bound,
                "bound_level": a.bound_level,
                "bound_side": "lower" if a.lower else "upper",
                "interval": interval,
                "per_seed_differences": per_seed,
                "p": a.p,
                "p_adjusted": a.p_adjusted,
            }
        )
    ax.axvline(threshold, color="#b22222", ls="--", lw=1.2, label=f"c = {threshold:g} (the criterion's margin)")
    ax.legend(fontsize=8, loc="lower right", framealpha=0.85)
    labels = [a.label for a in arms]
    ax.set_yticks(range(len(arms) - 1, -1, -1), [t if len(t) < 40 else t[:37] + "…" for t in labels], fontsize=8)
    ax.set_ylim(-0.7, len(arms) - 0.3)
    ax.set_xlabel(
        f"Δ {metric} vs baseline (dots: per-seed Δ when paired; ◆ Δ, the verdict's interval: one end is its bound)",
        fontsize=8,
    )
    ax.set_title(f"the decisive difference to the baseline `{base.label}`", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return {
        "baseline": base.label,
        "threshold": threshold,
        "interval": "the verdict's interval of the difference: estimate ± t(bound level, df) · se; its lower "
        "(upper) end is the one-sided bound the verdict judges",
        "configurations": rows,
    }


def _seeds_and_mean(
    ax, y: float, values: list[float] | None, mean: float, half: tuple[float, float] | None, colour, marker
):
    """One row of a comparison figure: each seed's value (light, above) and the mean with its interval."""
    if values:
        ax.plot(values, [y + 0.18] * len(values), marker, color=colour, alpha=0.55, ms=4, mec="none")
    ax.errorbar(
        [mean],
        [y],
        xerr=None if half is None else [[half[0]], [half[1]]],
        fmt="D",
        color=colour,
        ms=5,
        capsize=3,
        lw=1.4,
    )
