"""A run's ``metrics.jsonl`` read from a byte offset, so a live curve reads only the lines added since.

The run appends whole lines; a reader may see the last one half written. Only
lines ending in a newline are consumed: the rest waits for the next read. A file
shorter than the offset was replaced (the run restarted), so reading starts over
and says so with ``reset``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.fsio import check_confined

MAX_CHUNK = 4 << 20  # bytes per read; a caller loops until ``next_offset == size``


@dataclass
class MetricChunk:
    """The metric points between ``offset`` and ``next_offset``, by metric name, as ``(step, value)``."""

    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    offset: int = 0
    next_offset: int = 0
    size: int = 0
    reset: bool = False
    skipped: int = 0  # lines that were not a metric record (a crash cut them, or a foreign line)

    def to_dict(self) -> dict:
        return {
            "series": {name: [[s, v] for s, v in points] for name, points in self.series.items()},
            "offset": self.offset,
            "next_offset": self.next_offset,
            "size": self.size,
            "reset": self.reset,
            "skipped": self.skipped,
        }


def read_metrics_since(path: Path, offset: int = 0, max_bytes: int = MAX_CHUNK) -> MetricChunk:
    """The whole lines of ``path`` from byte ``offset`` on (at most about ``max_bytes`` of them)."""
    check_confined(path)  # the REST API serves this: a symlink out of the workspace is refused
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return MetricChunk(reset=offset > 0)
    except OSError as exc:  # a folder, no permission: one message naming the file, never a 500
        raise RecordError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with fh:
        size = os.fstat(fh.fileno()).st_size
        reset = offset > size
        start = 0 if reset else max(offset, 0)
        fh.seek(start)
        try:
            data = fh.read(min(max_bytes, size - start))
        except OSError as exc:
            raise RecordError(f"cannot read {path}: {exc.strerror or exc}") from exc
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) >= max_bytes:
        end = len(data)  # one line longer than a whole chunk: skip it rather than stall forever
    chunk = MetricChunk(offset=start, next_offset=start + end, size=size, reset=reset)
    _parse(data[:end], chunk)
    return chunk


def _parse(data: bytes, chunk: MetricChunk) -> None:
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            chunk.skipped += 1
            continue
        point = _point(rec)
        if point is None:
            chunk.skipped += 1
            continue
        name, step, value = point
        chunk.series.setdefault(name, []).append((step, value))


def _point(rec: object) -> tuple[str, int, float] | None:
    if not isinstance(rec, dict):
        return None
    name, value, step = rec.get("name"), rec.get("value"), rec.get("step")
    if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not isinstance(step, int) or isinstance(step, bool) or not math.isfinite(value):
        return None
    return name, step, float(value)
