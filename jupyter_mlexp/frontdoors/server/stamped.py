"""Answers the sidebar and the runs table poll for, kept while the record's stamp says nothing changed.

A poll while nothing changed costs a few stat calls (:func:`~jupyter_mlexp.core.record.record_stamp.runs_stamp`),
not a re-read of every run. With runs going, an answer is also rebuilt at least every
:data:`RUNNING_TTL_S` seconds and as soon as one of their processes is gone, so a dead run
shows as stale soon though no file changed.

Every answer carries a ``stamp`` (a hash of its text): a client that sends it back
(``?since=STAMP``) while the answer is the same gets :data:`UNCHANGED` (a few bytes) instead
of the whole table again. One read of the runs serves every kind of answer built under the
same stamp: the sidebar's runs list and the runs table do not each read 10,000 ``run.json``.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from jupyter_mlexp.core.experiment import Experiment, RunInfo
from jupyter_mlexp.core.record.record_stamp import pid_alive, runs_stamp

MAX_CACHED = 24
T = TypeVar("T")
RUNNING_TTL_S = 10.0  # the core's staleness test (PID reuse, zombies) is re-run at least this often


@dataclass
class _Read:
    """One read of an experiment's runs, and the stamp of the record it was read under."""

    stamp: tuple
    infos: list[RunInfo]
    running: list[Path]  # folders of the runs going when it was read
    pids: list  # a running run whose process dies turns stale with no file changing
    built: float = field(default_factory=time.monotonic)

    def fresh(self, stamp: tuple) -> bool:
        """Same stamp, and (with runs going) young enough that a dead process shows as stale soon."""
        if stamp != self.stamp:
            return False
        if not self.running:
            return True
        return time.monotonic() - self.built < RUNNING_TTL_S and all(map(pid_alive, self.pids))


@dataclass
class Answer:
    """An answer as JSON text (with its ``stamp`` inside) and that stamp."""

    text: str
    stamp: str

    def unchanged_since(self, since: str | None) -> bool:
        return bool(since) and since == self.stamp


def unchanged(stamp: str) -> str:
    """What a poll gets when its ``since`` is the current answer's stamp."""
    return json.dumps({"unchanged": True, "stamp": stamp})


@dataclass
class _Cached:
    read: _Read
    answer: Answer


_READS: dict[Path, _Read] = {}
_CACHE: dict[tuple[str, Path], _Cached] = {}
_LOCK = threading.Lock()


def _read(exp: Experiment) -> tuple[_Read, bool]:
    """The kept read of ``exp``'s runs while its stamp holds, else a new one (kept unless the record moved)."""
    kept = _READS.get(exp.path)
    if kept and kept.fresh(runs_stamp(exp.path, kept.running)):
        return kept, True
    before = runs_stamp(exp.path)
    infos = exp.runs()
    running = [r for r in infos if r.status == "running"]
    stamp = runs_stamp(exp.path, [r.path for r in running])
    host = socket.gethostname()
    pids = [r.record.pid for r in running if r.record.host in (None, host)]
    read = _Read(stamp, infos, [r.path for r in running], [p for p in pids if p])
    if stamp[:2] != before[:2]:
        return read, False  # the record changed while it was read: answer, but do not keep it
    with _LOCK:
        if len(_READS) >= MAX_CACHED:
            _READS.clear()
        _READS[exp.path] = read
    return read, True


def _stamped_text(data: dict) -> Answer:
    body = json.dumps(data)
    stamp = hashlib.blake2b(body.encode(), digest_size=8).hexdigest()
    # the stamp goes first into the object already dumped: no second dump of megabytes
    text = f'{{"stamp": "{stamp}", {body[1:]}' if len(body) > 2 else f'{{"stamp": "{stamp}"}}'
    return Answer(text, stamp)


def cached_answer(kind: str, exp: Experiment, build: Callable[[list[RunInfo]], dict]) -> Answer:
    """``build(runs)`` as a stamped :class:`Answer`, from the cache while the experiment's stamp is unchanged."""
    read, kept = _read(exp)
    key = (kind, exp.path)
    cached = _CACHE.get(key)
    if cached and cached.read is read:
        return cached.answer
    answer = _stamped_text(build(read.infos))
    if kept:
        with _LOCK:
            if len(_CACHE) >= MAX_CACHED * 4:
                _CACHE.clear()
            _CACHE[key] = _Cached(read, answer)
    return answer


_VALUES: dict[tuple[str, Path], tuple[_Read, Any]] = {}


def cached_value(kind: str, exp: Experiment, build: Callable[[list[RunInfo]], T]) -> T:
    """``build(runs)`` itself (not its JSON), kept while the experiment's stamp holds: the same read as
    :func:`cached_answer`, for a front door that pages or trims the value before it answers (``mlexp mcp``)."""
    read, kept = _read(exp)
    key = (kind, exp.path)
    got = _VALUES.get(key)
    if got and got[0] is read:
        return got[1]
    value = build(read.infos)
    if kept:
        with _LOCK:
            if len(_VALUES) >= MAX_CACHED * 4:
                _VALUES.clear()
            _VALUES[key] = (read, value)
    return value


_KEYED: dict[tuple[str, Path], tuple[tuple, Answer]] = {}


def keyed_answer(kind: str, path: Path, stamp: tuple, build: Callable[[], dict]) -> Answer:
    """``build()`` as a stamped :class:`Answer`, kept while ``stamp`` (file stats the caller names) holds.

    For views not built from the runs (the loops): the caller says which files the answer reads.
    """
    key = (kind, path)
    kept = _KEYED.get(key)
    if kept and kept[0] == stamp:
        return kept[1]
    answer = _stamped_text(build())
    with _LOCK:
        if len(_KEYED) >= MAX_CACHED:
            _KEYED.clear()
        _KEYED[key] = (stamp, answer)
    return answer


def clear() -> None:
    """Forget every kept read and answer (benchmarks time a fresh build with it)."""
    with _LOCK:
        _READS.clear()
        _CACHE.clear()
        _KEYED.clear()
        _VALUES.clear()
