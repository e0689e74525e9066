"""Figures drawn only from logged data, saved as WebP with the plotted numbers beside them.

``learning_curve`` plots a metric against the steps logged in ``metrics.jsonl``
(mean over seeds, ± std band where n ≥ 2); ``comparison_points`` plots each
configuration's final value per seed, the mean with its t interval and the success
criterion's threshold (no zero-based bars). One colour per configuration in every figure. Each
figure ``figures/<name>.webp`` has ``figures/<name>.json`` next to it: the
exact numbers drawn and the files they were read from. A metric no counted run
logged raises :class:`MetricNotLoggedError` instead of giving an empty plot.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.figure import Figure

from jupyter_mlexp.report.comparison_figure import comparison_points
from jupyter_mlexp.report.figure_base import (  # re-exported: the report's callers name them from here
    FIGURES_DIR,
    LINESTYLES,
    MARKERS,
    MAX_CURVES,
    MAX_FIGURES,
    PALETTE,
    FigureInfo,
    _chosen,
    _repeats,
    _save,
    _slug,
    colours,
    styles,
)
from jupyter_mlexp.report.forest_figure import forest_plot
from jupyter_mlexp.report.groups import label
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.report_errors import MetricNotLoggedError

__all__ = [
    "FIGURES_DIR",
    "FigureInfo",
    "colours",
    "comparison_points",
    "learning_curve",
    "make_figures",
    "planned_figures",
    "styles",
]


def learning_curve(
    data: ReportData, metric: str, mode: str | None = None, out: Path | None = None, limit: int = MAX_CURVES
) -> tuple[Figure, dict]:
    """``metric`` against its logged steps, one line per configuration (mean over seeds)."""
    mode, chosen = _chosen(data, metric, mode, limit)
    look = styles(data, mode)
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    curves: list[dict] = []
    payload = {"kind": "learning curve", "metric": metric, "mode": mode, "curves": curves}
    for g in chosen:
        steps, means, stds, files = _mean_curve(g, metric)
        if not steps:
            continue
        n = len(files)
        colour, marker, linestyle = look.get(label(g), (PALETTE[0], MARKERS[0], LINESTYLES[0]))
        (line,) = ax.plot(
            steps,
            means,
            label=f"{label(g)} (n = {n})",
            linewidth=1.4,
            color=colour,
            ls=linestyle,
            marker=marker if len(PALETTE) < len(look) else None,  # markers only once colours repeat
            ms=4,
            markevery=max(1, len(steps) // 8),
        )
        if n > 1:
            ax.fill_between(
                steps,
                [m - s for m, s in zip(means, stds)],
                [m + s for m, s in zip(means, stds)],
                color=line.get_color(),
                alpha=0.15,
                linewidth=0,
            )
        curves.append(
            {
                "configuration": label(g),
                "colour": line.get_color(),
                "marker": marker,
                "linestyle": linestyle,
                "n": n,
                "steps": steps,
                "mean": means,
                "std": stds,
                "sources": files,
            }
        )
    if not curves:
        raise MetricNotLoggedError(
            f"metric `{metric}` has no finite step in any metrics.jsonl of a counted {mode} run: no figure drawn"
        )
    ax.set_xlabel("step (from metrics.jsonl)")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: learning curve ({mode} runs, mean ± std over seeds)", fontsize=10)
    ax.legend(fontsize=7, loc="best", title="styles repeat past 48 configurations" if _repeats(data, mode) else None)
    fig.tight_layout()
    _save(fig, out, payload)
    return fig, payload


def _mean_curve(g, metric: str) -> tuple[list, list[float], list[float], list[str]]:
    """A configuration's ``metric`` per logged step: steps, mean and std over its seeds (finite values
    only), and the metrics files read."""
    by_step: dict = {}
    files = []
    for r in g.runs:
        pts = r.series.get(metric)
        if not pts:
            continue
        files.append(r.metrics_file)
        for step, value, _ in pts:
            if value == value and value not in (math.inf, -math.inf):
                by_step.setdefault(step, []).append(value)
    steps = sorted(by_step)
    means, stds = [], []
    for s in steps:
        vs = by_step[s]
        m = sum(vs) / len(vs)
        means.append(m)
        stds.append(math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1)) if len(vs) > 1 else 0.0)
    return steps, means, stds, files


def planned_figures(data: ReportData) -> list[tuple[str, str]]:
    """``(kind, metric)`` of the report's figures: the primary metric compared, then per
    pre-registered metric a learning curve (or, for a metric logged once per run, comparison
    bars); at most ``MAX_FIGURES``."""
    metrics = list(data.hypothesis.metrics) if data.hypothesis else data.logged_metrics()[:1]
    if not metrics:
        return []
    plan = [("comparison", metrics[0])]
    for m in metrics:
        # A metric logged once per run has no curve to draw: its comparison bars say it all.
        if _max_steps(data, m) == 1:
            if m != metrics[0]:
                plan.append(("comparison", m))
        else:
            plan.append(("learning curve", m))
    return plan[:MAX_FIGURES]


def _max_steps(data: ReportData, metric: str) -> int:
    """Most values one counted run logged for ``metric`` (0 when none did)."""
    return max((len(r.series.get(metric, ())) for r in data.current), default=0)


def make_figures(data: ReportData, out_dir: Path) -> tuple[list[FigureInfo], list[str]]:
    """Draw the planned figures into ``out_dir``; a metric never logged is a note, not a figure."""
    infos: list[FigureInfo] = []
    notes: list[str] = []
    mode = data.main_mode
    forest = _forest(data, Path(out_dir))
    if isinstance(forest, FigureInfo):
        infos.append(forest)
    elif forest:
        notes.append(forest)
    for kind, metric in planned_figures(data):
        name = f"{'comparison' if kind == 'comparison' else 'curve'}_{mode}_{_slug(metric)}"
        out = Path(out_dir) / f"{name}.webp"
        draw = comparison_points if kind == "comparison" else learning_curve
        try:
            fig, payload = draw(data, metric, mode, out)
        except MetricNotLoggedError as err:
            notes.append(str(err))
            continue
        parts = payload.get("curves") or payload.get("configurations") or []
        sources = sorted({s for p in parts for s in p.get("sources", [])})
        title = f"{metric}: {'learning curve' if kind != 'comparison' else 'configurations compared'} ({mode} runs)"
        infos.append(
            FigureInfo(
                name,
                kind,
                metric,
                mode,
                title,
                out,
                out.with_suffix(".json"),
                [p["configuration"] for p in parts],
                sources,
            )
        )
        fig.clear()
    return infos, notes


def _forest(data: ReportData, out_dir: Path) -> FigureInfo | str | None:
    """The verdict's forest plot first (its figure, or why there is none; None without a hypothesis)."""
    if data.hypothesis is None:
        return None
    try:
        fig, payload = forest_plot(data, out_dir / "forest.webp")
    except MetricNotLoggedError as err:
        return str(err)
    rows = payload["configurations"]
    levels = sorted({f"{r['bound_level'] * 100:.4g}%" for r in rows if r["bound_level"] is not None})
    title = (
        f"the verdict: each configuration's {'difference to the baseline' if payload['relative'] else payload['metric']} "
        f"with the one-sided interval it was judged on ({', '.join(levels) or 'none computed'}, the bounds of the "
        f"Conclusion's table), against the criterion; ◆ the configuration the verdict is about ({payload['mode']} runs)"
    )
    fig.clear()
    return FigureInfo(
        "forest",
        "verdict",
        payload["metric"],
        payload["mode"],
        title,
        out_dir / "forest.webp",
        out_dir / "forest.json",
        [r["configuration"] for r in rows],
        sorted({s for r in rows for s in r["sources"]}),
    )
