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
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.figure import Figure

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.inference import one_sample, quantile
from jupyter_mlexp.report.errors import MetricNotLoggedError
from jupyter_mlexp.report.groups import Group, baseline_group, label, mode_groups, rank_key
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.output import write_json

FIGURES_DIR = "figures"
MAX_FIGURES = 5
MAX_CURVES = 10  # configurations drawn in a learning curve (best first, plus the baseline)
MAX_BARS = 10
# colour-blind-safe (Okabe–Ito, then Tableau): one per configuration, in every figure
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#000000",
    "#8C564B",
    "#7F7F7F",
    "#BCBD22",
    "#17BECF",
    "#C9B200",
)
MARKERS = ("o", "s", "^", "v")  # with LINESTYLES: a second look for configurations 13-24, and so on
LINESTYLES = ("-", "--", ":", "-.")


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
    look = styles(data, mode)
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


def styles(data: ReportData, mode: str) -> dict[str, tuple[str, str, str]]:
    """``(colour, marker, line style)`` per configuration of ``mode``, the same in every figure and legend.

    Past the palette's 12 colours the colours repeat with another marker and line style, so no two
    configurations look alike (up to 12 × 4 = 48; beyond, the legend says styles repeat).
    """
    key = f"styles:{mode}"
    got = data.cache.get(key)
    if not isinstance(got, dict):
        got = {}
        for i, g in enumerate(mode_groups(data, mode)):
            turn = (i // len(PALETTE)) % len(MARKERS)
            got[label(g)] = (PALETTE[i % len(PALETTE)], MARKERS[turn], LINESTYLES[turn])
        data.cache[key] = got
    return got


def colours(data: ReportData, mode: str) -> dict[str, str]:
    """One colour per configuration of ``mode`` (see :func:`styles`, which also varies the marker)."""
    return {name: style[0] for name, style in styles(data, mode).items()}


def _repeats(data: ReportData, mode: str) -> bool:
    return len(styles(data, mode)) > len(PALETTE) * len(MARKERS)


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
    from jupyter_mlexp.report.verdict import judge

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
