"""Answers the sidebar polls for, kept while the record's stamp says nothing changed.

A poll while nothing changed costs a few stat calls (:func:`~jupyter_mlexp.core.record_stamp.runs_stamp`),
not a re-read of every run. With runs going, an answer is also rebuilt at least every
:data:`RUNNING_TTL_S` seconds and as soon as one of their processes is gone, so a dead run
shows as stale soon though no file changed.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlexp.core.experiment import Experiment, RunInfo
from jupyter_mlexp.core.record_stamp import pid_alive, runs_stamp

MAX_CACHED = 24
RUNNING_TTL_S = 10.0  # the core's staleness test (PID reuse, zombies) is re-run at least this often


@dataclass
class _Cached:
    stamp: tuple
    text: str
    running: list[Path]  # folders of the runs going when the answer was built
    pids: list  # a running run whose process dies turns stale with no file changing
    built: float = 0.0

    def fresh(self, stamp: tuple) -> bool:
        """Same stamp, and (with runs going) young enough that a dead process shows as stale soon."""
        if stamp != self.stamp:
            return False
        if not self.running:
            return True
        return time.monotonic() - self.built < RUNNING_TTL_S and all(map(pid_alive, self.pids))


_CACHE: dict[tuple[str, Path], _Cached] = {}
_LOCK = threading.Lock()


def cached_json(kind: str, exp: Experiment, build: Callable[[list[RunInfo]], dict]) -> str:
    """``build(runs)`` as JSON text, from the cache while the experiment's stamp is unchanged."""
    key = (kind, exp.path)
    cached = _CACHE.get(key)
    if cached and cached.fresh(runs_stamp(exp.path, cached.running)):
        return cached.text
    before = runs_stamp(exp.path)
    infos = exp.runs()
    running = [r for r in infos if r.status == "running"]
    stamp = runs_stamp(exp.path, [r.path for r in running])
    text = json.dumps(build(infos))
    if stamp[:2] != before[:2]:
        return text  # the record changed while it was read: answer, but do not keep it
    host = socket.gethostname()
    pids = [r.manifest.get("pid") for r in running if r.manifest.get("host") in (None, host)]
    with _LOCK:
        if len(_CACHE) >= MAX_CACHED:
            _CACHE.clear()
        _CACHE[key] = _Cached(stamp, text, [r.path for r in running], [p for p in pids if p], time.monotonic())
    return text


def clear() -> None:
    """Forget every kept answer (benchmarks time a fresh build with it)."""
    with _LOCK:
        _CACHE.clear()
