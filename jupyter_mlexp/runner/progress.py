"""Progress of a sweep: done / failed / running, elapsed and an estimate.

A tqdm bar on a terminal; one plain line per finished run otherwise (logs, CI,
a notebook's captured stderr), so nothing is lost to carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from jupyter_mlexp.core.execution.lifecycle import RunResult
from jupyter_mlexp.runner.sweep import RunSpec

if TYPE_CHECKING:
    from tqdm import tqdm


def _fmt(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d} min" if m < 60 else f"{m // 60}:{m % 60:02d}:{s:02d} h"


class Progress:
    """Told when runs start and end; shows the sweep's state."""

    def __init__(self, total: int, enabled: bool = True, stream: TextIO | None = None):
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.done = self.failed = self.running = 0
        self.t0 = time.monotonic()
        self.bar: tqdm | None = None
        if self.enabled and _isatty(self.stream):
            from tqdm.auto import tqdm as make_bar

            self.bar = make_bar(total=total, unit="run", file=self.stream, dynamic_ncols=True, desc="mlexp run")
            self._postfix()

    # -- events -------------------------------------------------------------------------------
    def started(self, spec: RunSpec) -> None:
        self.running += 1
        if self.bar is not None:
            self._postfix()

    def finished(self, result: RunResult) -> None:
        self.running = max(0, self.running - 1)
        self.done += 1
        if not result.ok:
            self.failed += 1
        if self.bar is not None:
            self._postfix()
            self.bar.update(1)
            if not result.ok:
                self.bar.write(f"✗ {result.describe()}", file=self.stream)
        elif self.enabled:
            print(self.line(result), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    # -- text ---------------------------------------------------------------------------------
    def estimate(self) -> float | None:
        """Seconds left: the wall time per finished run so far (parallel runs included) times the runs left."""
        if not self.done:
            return None
        elapsed = time.monotonic() - self.t0
        return elapsed / self.done * (self.total - self.done)

    def line(self, result: RunResult) -> str:
        elapsed = time.monotonic() - self.t0
        left = self.estimate()
        text = (
            f"[{self.done}/{self.total}] {result.describe()} · done {self.done}, failed {self.failed}, "
            f"running {self.running} · elapsed {_fmt(elapsed)}"
        )
        if left is not None and self.done < self.total:
            text += f", about {_fmt(left)} left"
        return text

    def _postfix(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"done {self.done} · failed {self.failed} · running {self.running}", refresh=True)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
