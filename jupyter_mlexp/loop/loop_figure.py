"""The loop's figure: the metric over attempts, kept ones joined as the running best.

Kept attempts are filled and joined by the running best (a step line), discarded ones
hollow, crashed ones a cross on the worse edge (they have no value); each point is
the mean over seeds with ±1 sd. Written as WebP beside the loop's record each time an
attempt is recorded (and by ``mlexp loop status``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from jupyter_mlexp.core.record.fsio import check_writable_here
from jupyter_mlexp.loop.loop_state import CRASH, DISCARD, KEEP, LoopState

COLORS = {KEEP: "#1b7f3b", DISCARD: "#8c8c8c", CRASH: "#c0392b"}


def write_figure(state: LoopState, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    s = state.settings
    fig = Figure(figsize=(8.2, 3.6), dpi=110)
    ax = fig.add_subplot()
    measured = [a for a in state.attempts if a.values]
    values = [v for a in measured for v in a.values]
    low = min(values) if values else 0.0
    high = max(values) if values else 1.0
    pad = (high - low) * 0.08 or 0.05
    for status, marker, face in ((KEEP, "o", None), (DISCARD, "o", "none")):
        pts = [a for a in measured if a.status == status]
        if pts:
            ax.errorbar(
                [a.n for a in pts],
                [a.mean or 0.0 for a in pts],
                yerr=[a.sd or 0.0 for a in pts],
                fmt=marker,
                color=COLORS[status],
                mfc=face or COLORS[status],
                capsize=3,
                label=f"{status} ({len(pts)})",
            )
    crashed = [a.n for a in state.attempts if a.status == CRASH]
    worst = low - pad if s.higher_is_better else high + pad  # crashes sit on the worse edge
    if crashed:
        ax.plot(crashed, [worst] * len(crashed), "x", color=COLORS[CRASH], ms=9, label=f"crash ({len(crashed)})")
    xs, ys, best = _running_best(state)
    if xs:
        ax.step(xs, ys, where="post", color=COLORS[KEEP], lw=1.5, alpha=0.7, label="running best")
    ax.set_xlabel("attempt")
    ax.set_ylabel(f"{s.metric} ({'higher' if s.higher_is_better else 'lower'} is better)")
    ax.set_title(f"loop {s.tag}: {s.experiment}" + (f" · best {best:.4g}" if best is not None else ""), fontsize=10)
    ax.set_ylim(low - 2 * pad, high + 2 * pad)
    if state.attempts:
        ax.set_xlim(-0.5, max(a.n for a in state.attempts) + 0.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    check_writable_here(path)  # as the report's figures: never through a symlink out of the record
    path.parent.mkdir(parents=True, exist_ok=True)
    check_writable_here(path)  # the folder just made, or found, is still inside
    # replaced at once: the sidebar may be reading the old one while a new attempt draws it again
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            fig.savefig(out, format="webp")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def _running_best(state: LoopState) -> tuple[list[int], list[float], float | None]:
    xs: list[int] = []
    ys: list[float] = []
    current = None
    for a in state.attempts:
        if a.status == KEEP and a.mean is not None:
            current = a.mean
        if current is not None:
            xs.append(a.n)
            ys.append(current)
    return xs, ys, current
