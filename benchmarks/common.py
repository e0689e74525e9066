"""Shared helpers for the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def figure(name: str, value: float, unit: str, anchor_value: float | None, goal: str, **extra) -> dict:
    ratio = None if not anchor_value else round(value / anchor_value, 4)
    return {
        "name": name,
        "value": round(value, 6),
        "unit": unit,
        "anchor_value": None if anchor_value is None else round(anchor_value, 6),
        "ratio": ratio,
        "goal": goal,
        **extra,
    }


def peak_mb_of(proc) -> float:
    """Wait for ``proc`` (a ``subprocess.Popen``) and return its peak resident memory in MB: its own
    ``VmHWM``, read while it runs. Not ``wait4``'s ``ru_maxrss``: a child forked from this process
    starts at this process's size and keeps that figure through ``exec``."""
    import time

    peak_kb = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    return peak_kb / 1024
