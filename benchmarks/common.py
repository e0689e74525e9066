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
