"""The verdict's forest plot: each configuration the verdict tested, its estimate with the verdict's own
one-sided interval, against the success criterion's threshold; the configuration the verdict is about marked.

Drawn only from the :class:`~jupyter_mlexp.core.stats.verdict.Verdict`'s arms (the estimate, the bound and the
level each was tested at, after Holm's correction where there are several), so the figure's interval and
the text's bound are the same numbers. For a relative criterion the axis is the difference to the baseline
and the threshold is the registered margin.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.figure import Figure

from jupyter_mlexp.core.stats.forest import forest, point, shown
from jupyter_mlexp.core.stats.headline import shorten, subject
from jupyter_mlexp.report.figure_base import PALETTE, _save
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.report_errors import MetricNotLoggedError
from jupyter_mlexp.report.report_verdict import judge

MUTED = "#7F7F7F"


def forest_plot(data: ReportData, out: Path | None = None) -> tuple[Figure, dict]:
    """The forest plot of the report's verdict (``judge(data)``), drawn from :func:`core.forest.forest`
    (the numbers the sidebar shows too); raises :class:`MetricNotLoggedError` when the verdict tested no
    configuration (nothing measured, nothing to draw)."""
    v = judge(data)
    payload = forest(v)
    if payload is None:
        raise MetricNotLoggedError(f"the verdict has no configuration with a value to draw ({v.decision}: {v.reason})")
    arms = shown(v)
    lead = subject(v)
    metric = payload["metric"]
    threshold = payload["threshold"]
    xs = [point(v, a) or 0.0 for a in arms] + [threshold] + [a.bound for a in arms if a.bound is not None]
    xs += [x for a in arms if not v.relative for x in a.values]
    lo, hi = min(xs), max(xs)
    pad = (hi - lo) * 0.12 or abs(hi) * 0.05 or 0.05
    left, right = lo - pad, hi + pad

    fig = Figure(figsize=(7, max(2.2, 1.2 + 0.42 * len(arms))))
    ax = fig.subplots()
    for y, a in zip(range(len(arms) - 1, -1, -1), arms):
        x = point(v, a) or 0.0  # every arm drawn has a point (_shown)
        is_lead = a is lead
        colour = PALETTE[0] if is_lead else (PALETTE[2] if a in v.judged else MUTED)
        if not v.relative and a.values:
            ax.scatter(a.values, [y] * len(a.values), s=12, color=colour, alpha=0.35, zorder=2, linewidths=0)
        if a.bound is not None:
            end = right if a.lower else left
            ax.annotate(
                "",
                xy=(end, y),
                xytext=(a.bound, y),
                arrowprops={"arrowstyle": "->", "color": colour, "lw": 2.0 if is_lead else 1.4},
                zorder=3,
            )
            ax.plot([a.bound, a.bound], [y - 0.18, y + 0.18], color=colour, lw=2.0 if is_lead else 1.4, zorder=3)
        ax.scatter([x], [y], s=70 if is_lead else 36, marker="D" if is_lead else "o", color=colour, zorder=4)
        level = "" if a.bound_level is None else f"{a.bound_level * 100:.4g}%"
        text = f"n = {a.n}" + (f", {level}" if level else ", no interval")
        ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"), xytext=(4, 0), textcoords="offset points")
    ax.axvline(threshold, color="#D55E00", ls="--", lw=1.2, zorder=1)
    ax.annotate(
        f"`{v.criterion}`",
        (threshold, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -12),
        textcoords="offset points",
        color="#D55E00",
        fontsize=8,
    )
    ax.set_xlim(left, right)
    ax.set_ylim(-0.7, len(arms) - 0.3)
    ax.set_yticks(range(len(arms) - 1, -1, -1))
    ax.set_yticklabels(
        [("◆ " if a is lead else "") + shorten(a.label, 36) for a in arms],
        fontsize=8,
    )
    what = f"Δ {metric} (difference to the baseline)" if v.relative else metric
    ax.set_xlabel(f"{what}; one-sided interval at the level the verdict tested it")
    ax.set_title(f"{v.decision.upper()} ({v.mode} runs)", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    _save(fig, out, payload)
    return fig, payload
