"""What every figure of the report shares: one style per configuration, the configurations a figure
draws, and how a figure is saved (WebP, with the numbers drawn in a JSON file beside it)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.figure import Figure

from jupyter_mlexp.core.record.fsio import check_writable_here, mode_for_new_file, write_error
from jupyter_mlexp.report.groups import Group, baseline_group, label, mode_groups, rank_key
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.output import write_json
from jupyter_mlexp.report.report_errors import MetricNotLoggedError

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
    """The figure as WebP and its numbers beside it, each replaced at once; never through a symlink
    that leads out of the folder the writes are confined to (a ``figures/`` linked elsewhere)."""
    if out is None:
        return
    check_writable_here(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        check_writable_here(out)  # the folder just made, or found, is still inside
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)  # unique: two builds at once
    except OSError as err:
        raise write_error(out, err) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format="webp", dpi=100, pil_kwargs={"lossless": True, "quality": 80, "method": 0})
        os.chmod(tmp, mode_for_new_file(out))
        os.replace(tmp, out)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise write_error(out, err) from None
        raise
    write_json(out.with_suffix(".json"), payload)


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
