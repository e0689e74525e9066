"""Figures drawn only from logged data, saved as WebP with the plotted numbers beside them.

``learning_curve`` plots a metric against the steps logged in ``metrics.jsonl``
(mean over seeds, ± std band where n ≥ 2); ``comparison_bars`` plots each
configuration's final value (mean, std error bars; no bar for n = 1). Each
figure ``figures/<name>.webp`` has ``figures/<name>.json`` next to it: the
exact numbers drawn and the files they were read from. A metric no counted run
logged raises :class:`MetricNotLoggedError` instead of giving an empty plot.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.figure import Figure

from jupyter_mlexp.report.errors import MetricNotLoggedError
from jupyter_mlexp.report.groups import Group, baseline_group, label, mode_groups, rank_key
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.output import write_json

FIGURES_DIR = "figures"
MAX_FIGURES = 5
MAX_CURVES = 10  # configurations drawn in a learning curve (best first, plus the baseline)
MAX_BARS = 10


@dataclass
class FigureInfo:
    name: str
    kind: str  # "learning curve" | "comparison"
    metric: str
    mode: str
    title: str
    path: Path  # the .webp
    data_path: Path  # the .json beside it
    configurations: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # metrics files read


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "metric"


def _check_logged(data: ReportData, groups: list[Group], metric: str, mode: str) -> None:
    if not any(metric in r.finals for g in groups for r in g.runs):
        elsewhere = any(metric in r.finals for r in data.runs)
        hint = (
            " (only runs that are ignored, failed or in another mode have it)"
            if elsewhere
            else "; logged metrics: " + (", ".join(data.logged_metrics()) or "none")
        )
        raise MetricNotLoggedError(f"metric `{metric}` was never logged by a counted {mode} run{hint}: no figure drawn")


def _pick(data: ReportData, groups: list[Group], metric: str, limit: int, mode: str) -> list[Group]:
    base, _ = baseline_group(data, mode, groups)
    ranked = sorted((g for g in groups if g.summary(metric).n > 0), key=rank_key(data, metric))
    chosen = ranked[:limit]
    if base is not None and base not in chosen and base.summary(metric).n > 0:
        chosen.append(base)
    if not chosen:
        raise MetricNotLoggedError(f"metric `{metric}` has no finite value in any counted {mode} run: no figure drawn")
    return chosen


def _chosen(data: ReportData, metric: str, mode: str | None, limit: int) -> tuple[str, list[Group]]:
    """The mode and the configurations a figure of ``metric`` draws; an error if it was never logged."""
    mode = mode or data.main_mode
    groups = mode_groups(data, mode)
    _check_logged(data, groups, metric, mode)
    return mode, _pick(data, groups, metric, limit, mode)


def _save(fig: Figure, out: Path | None, payload: dict) -> None:
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    fig.savefig(tmp, format="webp", dpi=100, pil_kwargs={"lossless": True, "quality": 80, "method": 0})
    tmp.replace(out)
    write_json(out.with_suffix(".json"), payload)


def learning_curve(
    data: ReportData, metric: str, mode: str | None = None, out: Path | None = None, limit: int = MAX_CURVES
) -> tuple[Figure, dict]:
    """``metric`` against its logged steps, one line per configuration (mean over seeds)."""
    mode, chosen = _chosen(data, metric, mode, limit)
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    curves: list[dict] = []
    payload = {"kind": "learning curve", "metric": metric, "mode": mode, "curves": curves}
    for g in chosen:
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
        if not by_step:
            continue
        steps = sorted(by_step)
        means, stds = [], []
        for s in steps:
            vs = by_step[s]
            m = sum(vs) / len(vs)
            means.append(m)
            stds.append(math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1)) if len(vs) > 1 else 0.0)
        n = len(files)
        (line,) = ax.plot(steps, means, label=f"{label(g)} (n = {n})", linewidth=1.2)
        if n > 1:
            ax.fill_between(
                steps,
                [m - s for m, s in zip(means, stds)],
                [m + s for m, s in zip(means, stds)],
                color=line.get_color(),
                alpha=0.15,
                linewidth=0,
            )
        curves.append({"configuration": label(g), "n": n, "steps": steps, "mean": means, "std": stds, "sources": files})
    if not curves:
        raise MetricNotLoggedError(
            f"metric `{metric}` has no finite step in any metrics.jsonl of a counted {mode} run: no figure drawn"
        )
    ax.set_xlabel("step (from metrics.jsonl)")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: learning curve ({mode} runs, mean ± std over seeds)", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    _save(fig, out, payload)
    return fig, payload


def comparison_bars(
    data: ReportData, metric: str, mode: str | None = None, out: Path | None = None, limit: int = MAX_BARS
) -> tuple[Figure, dict]:
    """Final ``metric`` per configuration: mean with std error bars (none for n = 1)."""
    mode, chosen = _chosen(data, metric, mode, limit)
    summaries = [g.summary(metric) for g in chosen]
    labels = [label(g) for g in chosen]
    fig = Figure(figsize=(7, max(2.4, 0.9 + 0.32 * len(chosen))))
    ax = fig.subplots()
    ys = list(range(len(chosen)))[::-1]
    means = [math.nan if s.mean is None else s.mean for s in summaries]  # NaN: no bar
    errs = [s.std if s.std is not None else 0.0 for s in summaries]
    ax.barh(ys, means, xerr=errs, color="#4878a8", ecolor="black", capsize=3)
    for y, s in zip(ys, summaries):
        ax.annotate(
            f"n = {s.n}",
            ((s.mean or 0.0) + (s.std or 0.0), y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    ax.set_yticks(ys, [t if len(t) < 48 else t[:45] + "…" for t in labels], fontsize=7)
    ax.set_xlabel(f"{metric} (final value; bars: mean, error bars: std over seeds)")
    ax.set_title(f"{metric}: configurations compared ({mode} runs)", fontsize=10)
    fig.tight_layout()
    payload = {
        "kind": "comparison",
        "metric": metric,
        "mode": mode,
        "bars": [{"configuration": t, **s.to_dict()} for t, s in zip(labels, summaries)],
    }
    _save(fig, out, payload)
    return fig, payload


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
    return max((len(r.series.get(metric, ())) for r in data.counted), default=0)


def make_figures(data: ReportData, out_dir: Path) -> tuple[list[FigureInfo], list[str]]:
    """Draw the planned figures into ``out_dir``; a metric never logged is a note, not a figure."""
    infos: list[FigureInfo] = []
    notes: list[str] = []
    mode = data.main_mode
    for kind, metric in planned_figures(data):
        name = f"{'comparison' if kind == 'comparison' else 'curve'}_{mode}_{_slug(metric)}"
        out = Path(out_dir) / f"{name}.webp"
        draw = comparison_bars if kind == "comparison" else learning_curve
        try:
            fig, payload = draw(data, metric, mode, out)
        except MetricNotLoggedError as err:
            notes.append(str(err))
            continue
        parts = payload.get("curves") or payload.get("bars") or []
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
