"""A run's curve from ``metrics.jsonl``: the points logged since a byte offset, or the whole file sampled.

The live curve reads only the lines added since its last read (a run appends whole lines;
a reader may see the last one half written, which waits for the next read unless the run
has ended). A long run's curve is answered sampled: each metric in at most N points, the
lowest and highest of each bucket of consecutive points, memory O(N) whatever the file's
length. Lines are decoded by :mod:`jupyter_mlexp.core.record.metric_lines`, the one codec.

A sampled read of a whole file keeps where it stopped (the samplers, by file and inode): the next
one of the same file, grown since as a run appends, decodes only the new lines. A sidebar that
polls a running run's ten-million-line curve pays for the new lines, not for ten million.

The first sampled read of a long file (more than :data:`EXACT_BYTES` left to decode) does not wait
for every line: it reads :data:`WINDOWS` evenly spaced windows of :data:`WINDOW` bytes (each from
its first whole line), answers their points sampled and marked ``approximate`` (the counts are
estimates), and starts the exact read in a background thread, which keeps where it stopped as above;
a later read finds it and answers exactly. At most :data:`MAX_BACKGROUND` such reads run at once,
each in the memory of one sampled read. Nothing is added to ``log_metric``: no index is written.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace

from jupyter_mlexp.core.errors import MlexpError, RecordError
from jupyter_mlexp.core.record.metric_lines import BLOCK, MetricProblems, decode_block, line_blocks, open_metrics


@dataclass
class MetricChunk:
    """The finite points between byte ``offset`` and ``next_offset``, by metric, as ``(step, value)``.

    ``sampled``: a metric had more points than asked for, and ``series`` holds the lowest and highest
    point of each bucket of consecutive points instead (``points`` says how many each had in all).
    """

    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    offset: int = 0
    next_offset: int = 0
    size: int = 0
    reset: bool = False
    skipped: int = 0  # lines that were not a metric record (a crash cut them, or a foreign line)
    nonfinite: int = 0  # NaN/inf points: counted, not drawn
    sampled: bool = False
    points: dict[str, int] = field(default_factory=dict)
    problem: str | None = None  # one line naming the file and its first malformed line
    # the first read of a long file: a sample of evenly spaced windows, ``points`` (and ``nonfinite``,
    # ``skipped``) estimated from them; the exact sample is being read for a later read
    approximate: bool = False

    def to_dict(self) -> dict:
        return {
            "series": {name: [[s, v] for s, v in pts] for name, pts in self.series.items()},
            "offset": self.offset,
            "next_offset": self.next_offset,
            "size": self.size,
            "reset": self.reset,
            "skipped": self.skipped,
            "nonfinite": self.nonfinite,
            "sampled": self.sampled,
            "points": self.points,
            "problem": self.problem,
            "approximate": self.approximate,
        }


class _Sampler:
    """One metric's curve in at most ``limit`` points, streamed: consecutive points fall in buckets of
    ``width``, each keeping its lowest and highest point; when there are too many buckets, pairs merge
    and the width doubles. Memory is O(limit) whatever the number of points."""

    __slots__ = ("limit", "width", "buckets", "cur", "fill", "n")

    def __init__(self, limit: int):
        self.limit = max(limit, 4)
        self.width = 1
        self.buckets: list[list] = []  # [lo_step, lo_value, hi_step, hi_value]
        self.cur: list | None = None
        self.fill = 0
        self.n = 0

    def add(self, step: int, v: float) -> None:
        self.n += 1
        cur = self.cur
        if cur is None:
            cur = self.cur = [step, v, step, v]
            self.fill = 0
        elif v < cur[1]:
            cur[0], cur[1] = step, v
        elif v > cur[3]:
            cur[2], cur[3] = step, v
        self.fill += 1
        if self.fill == self.width:
            self.buckets.append(cur)
            self.cur = None
            # width 1 keeps every point (one per bucket); wider buckets give two points each, and so
            # may the bucket being filled
            if len(self.buckets) > self.limit if self.width == 1 else 2 * len(self.buckets) + 2 > self.limit:
                while 2 * len(self.buckets) + 2 > self.limit:
                    self._merge()

    def _merge(self) -> None:
        b = self.buckets
        merged = []
        for i in range(0, len(b) - 1, 2):
            x, y = b[i], b[i + 1]
            lo = x if x[1] <= y[1] else y
            hi = x if x[3] >= y[3] else y
            merged.append([lo[0], lo[1], hi[2], hi[3]])
        if len(b) % 2:
            merged.append(b[-1])
        self.buckets = merged
        self.width *= 2

    @property
    def sampled(self) -> bool:
        return self.width > 1

    def copy(self) -> _Sampler:
        other = _Sampler(self.limit)
        other.width, other.fill, other.n = self.width, self.fill, self.n
        other.buckets = [b[:] for b in self.buckets]
        other.cur = None if self.cur is None else self.cur[:]
        return other

    def result(self) -> list[tuple[int, float]]:
        out: list[tuple[int, float]] = []
        for b in self.buckets + ([self.cur] if self.cur is not None else []):
            lo, hi = (b[0], b[1]), (b[2], b[3])
            if lo == hi:
                out.append(lo)
            else:
                out.extend(sorted((lo, hi)))
        return out


@dataclass
class _Kept:
    """Where a sampled read of a whole file stopped, to go on from there when the file has grown."""

    dev: int
    ino: int
    next_offset: int
    tail: bytes  # the first bytes and those before next_offset: a file rewritten in place is told from one appended to
    lineno: int
    nonfinite: int
    problems: MetricProblems
    samplers: dict[str, _Sampler]


_kept: dict[tuple[str, int, bool], _Kept] = {}
_kept_lock = threading.Lock()
_KEPT_FILES = 64
_TAIL = 256


def _resume(path: str | os.PathLike, fh, st: os.stat_result, sample: int, whole: bool) -> _Kept | None:
    """The kept state of an earlier sampled read of this file, if the file has only grown since (copied:
    the kept one is never changed)."""
    real = os.path.realpath(path)
    with _kept_lock:
        # a read of the ended run goes on from one of it running (that one stopped after a whole line)
        kept = _kept.get((real, sample, whole)) or (_kept.get((real, sample, False)) if whole else None)
    if kept is None or (kept.dev, kept.ino) != (st.st_dev, st.st_ino) or kept.next_offset > st.st_size:
        return None
    if _ends(fh, kept.next_offset) != kept.tail:
        return None
    problems = MetricProblems(kept.problems.count, list(kept.problems.listed))
    samplers = {name: s.copy() for name, s in kept.samplers.items()}
    return _Kept(kept.dev, kept.ino, kept.next_offset, kept.tail, kept.lineno, kept.nonfinite, problems, samplers)


def _ends(fh, offset: int) -> bytes | None:
    """The first and the last :data:`_TAIL` bytes before ``offset``."""
    try:
        head = os.pread(fh.fileno(), min(_TAIL, offset), 0)
        return head + os.pread(fh.fileno(), min(_TAIL, offset), max(0, offset - _TAIL))
    except OSError:
        return None


def _keep(path: str | os.PathLike, fh, st: os.stat_result, sample: int, whole: bool, state: _Kept) -> None:
    """Keep a sampled read's state when it stopped after a whole line (a later read goes on from there)."""
    tail = _ends(fh, state.next_offset)
    if tail is None or (state.next_offset and not tail.endswith(b"\n")):
        return
    state.tail = tail
    key = (os.path.realpath(path), sample, whole)
    with _kept_lock:
        _kept.pop(key, None)
        if len(_kept) >= _KEPT_FILES:
            _kept.pop(next(iter(_kept)))
        _kept[key] = state


#: Most bytes a sampled read decodes before it answers; past them, the first read is approximate.
EXACT_BYTES = 16 << 20
#: Windows an approximate read decodes, evenly spaced over the file, and the bytes of each.
WINDOWS = 256
WINDOW = 16 << 10
#: Exact reads in the background at once; a curve asked while they are all busy is answered
#: approximate again, and its exact read starts on a later ask.
MAX_BACKGROUND = 2

_running: dict[tuple[str, int, bool], threading.Thread] = {}
#: The approximate answer while its exact read runs: polls meanwhile get it again, not new windows
#: (whose reads would share the interpreter with the exact read). Dropped when that read ends.
_approximate: dict[tuple[str, int, bool], tuple[int, int, MetricChunk]] = {}


def _read_exact_later(
    path: str | os.PathLike, sample: int, whole: bool, st: os.stat_result, chunk: MetricChunk
) -> None:
    """Start the exact sampled read of ``path`` in a background thread, unless one runs or too many do;
    keep ``chunk`` (approximate) to answer again while it runs."""
    key = (os.path.realpath(path), sample, whole)
    with _kept_lock:
        if key not in _running:
            if len(_running) >= MAX_BACKGROUND:
                return
            thread = _running[key] = threading.Thread(
                target=_exact, args=(path, key, sample, whole), name="mlexp-curve-read", daemon=True
            )
            thread.start()
        _approximate[key] = (st.st_dev, st.st_ino, chunk)


def _approximate_again(path: str | os.PathLike, sample: int, whole: bool, st: os.stat_result) -> MetricChunk | None:
    """The approximate answer kept for this file while its exact read runs (the file the same, or grown)."""
    with _kept_lock:
        held = _approximate.get((os.path.realpath(path), sample, whole))
    if held is None or held[:2] != (st.st_dev, st.st_ino) or held[2].size > st.st_size:
        return None
    return replace(held[2], size=st.st_size)


def _exact(path: str | os.PathLike, key: tuple[str, int, bool], sample: int, whole: bool) -> None:
    try:
        read_since(path, sample=sample, whole=whole, exact=True)  # keeps where it stopped
    except (MlexpError, OSError):
        pass  # the file went away or became unreadable: the next read says so
    finally:
        with _kept_lock:
            _running.pop(key, None)
            _approximate.pop(key, None)


def settle(timeout: float | None = None) -> bool:
    """Wait for the exact reads under way in the background; whether none is left."""
    with _kept_lock:
        threads = list(_running.values())
    for thread in threads:
        thread.join(timeout)
    with _kept_lock:
        return not any(t.is_alive() for t in _running.values())


def _windows(fh, size: int, whole: bool, sample: int, chunk: MetricChunk, path: str | os.PathLike) -> None:
    """An approximate sample of the whole file into ``chunk``: :data:`WINDOWS` windows of whole lines,
    evenly spaced from the first byte to the last, each metric's points in at most ``sample`` points;
    the counts scaled from the bytes read to the file's."""
    fd = fh.fileno()
    problems = MetricProblems()
    samplers: dict[str, _Sampler] = {}
    nonfinite, covered, done, end = 0, 0, 0, 0
    span = max(size - WINDOW, 0)
    for i in range(WINDOWS):
        start = max(span * i // (WINDOWS - 1), done)
        if start >= size:
            break
        lead = 1 if start else 0  # the byte before: is the window's first line whole?
        try:  # read, not mapped: a mapping's pages count as the process's memory, a MiB per window
            data = os.pread(fd, WINDOW + lead, start - lead)
        except OSError as exc:
            raise RecordError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
        first = data.find(b"\n") + 1 if lead else 0
        last = data.rfind(b"\n") + 1
        stop = start - lead + len(data)
        if stop >= size and whole:
            last = len(data)  # the run ended: its last line counts even without its newline
        done = stop
        if last <= first:
            continue  # within one line longer than a window
        end = start - lead + last
        covered += last - first
        seen = MetricProblems()
        points = decode_block(data[first:last], 1, seen)
        for _, reason in seen.listed:  # a window's line numbers are not the file's: none is given
            problems.add(0, reason)
        problems.count += seen.count - len(seen.listed)
        for _, name, step, v in points:
            if v - v != 0.0:
                nonfinite += 1
                continue
            s = samplers.get(name)
            if s is None:
                s = samplers[name] = _Sampler(sample)
            s.add(step, v)
    scale = size / covered if covered else 1.0
    for name, sampler in samplers.items():
        chunk.series[name] = sampler.result()
        chunk.points[name] = round(sampler.n * scale)
    chunk.next_offset = end
    chunk.nonfinite = round(nonfinite * scale)
    chunk.skipped = round(problems.count * scale)
    chunk.problem = problems.message(os.fspath(path))
    chunk.sampled = chunk.approximate = True


def read_since(
    path: str | os.PathLike,
    offset: int = 0,
    max_bytes: int = BLOCK,
    whole: bool = False,
    sample: int | None = None,
    exact: bool = False,
) -> MetricChunk:
    """The finite points of ``path`` from byte ``offset`` on, for a curve.

    Without ``sample``: at most about ``max_bytes`` of whole lines (a caller loops until
    ``next_offset == size``). With ``sample``: the rest of the file at once, each metric in at
    most ``sample`` points (lowest and highest of each bucket), memory bounded by ``sample``.
    ``whole``: the run ended, so a last line without its newline is read too. A file shorter
    than ``offset`` was replaced: reading starts over, with ``reset``.

    A sampled read of the whole file (``offset`` 0) with more than :data:`EXACT_BYTES` left to decode
    is answered from evenly spaced windows, ``approximate``, and read exactly in the background for a
    later read; ``exact``: decode every line now instead.
    """
    fh = open_metrics(path)
    if fh is None:
        return MetricChunk(reset=offset > 0)
    problems = MetricProblems()
    with fh:
        st = os.fstat(fh.fileno())
        size = st.st_size
        reset = offset > size
        start = 0 if reset else max(offset, 0)
        stop = size if sample is not None else min(size, start + max(max_bytes, 1))
        chunk = MetricChunk(offset=start, next_offset=start, size=size, reset=reset)
        lists: dict[str, list[tuple[int, float]]] = {}
        samplers: dict[str, _Sampler] = {}
        lineno = 1
        resumed = _resume(path, fh, st, sample, whole) if sample is not None and start == 0 else None
        read_from = start
        if resumed is not None:
            samplers, problems, lineno = resumed.samplers, resumed.problems, resumed.lineno
            chunk.nonfinite, chunk.next_offset = resumed.nonfinite, resumed.next_offset
            read_from = resumed.next_offset
        if sample is not None and start == 0 and not exact and size - read_from > EXACT_BYTES:
            again = _approximate_again(path, sample, whole, st)
            if again is not None:
                return again
            _windows(fh, size, whole, sample, chunk, path)
            _read_exact_later(path, sample, whole, st, chunk)  # after: it would share the interpreter with the windows
            return chunk
        try:
            for data, after in line_blocks(fh, read_from, stop, whole and stop == size):
                for _, name, step, v in decode_block(data, lineno, problems):
                    if v - v != 0.0:
                        chunk.nonfinite += 1
                    elif sample is None:
                        pts = lists.get(name)
                        if pts is None:
                            pts = lists[name] = []
                        pts.append((step, v))
                    else:
                        s = samplers.get(name)
                        if s is None:
                            s = samplers[name] = _Sampler(sample)
                        s.add(step, v)
                lineno += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
                chunk.next_offset = after
        except OSError as exc:
            raise RecordError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
        if sample is not None and start == 0:
            state = _Kept(st.st_dev, st.st_ino, chunk.next_offset, b"", lineno, chunk.nonfinite, problems, samplers)
            _keep(path, fh, st, sample, whole, state)
    if chunk.next_offset == start and start < stop < size:
        chunk.next_offset = stop  # one line longer than the whole window: skipped rather than stalled on
        problems.add(lineno, f"longer than {stop - start} bytes, not a metric record")
    if sample is None:
        chunk.series = lists
        chunk.points = {name: len(pts) for name, pts in lists.items()}
    for name, sampler in samplers.items():
        chunk.series[name] = sampler.result()
        chunk.points[name] = sampler.n
        chunk.sampled = chunk.sampled or sampler.sampled
    chunk.skipped = problems.count
    chunk.problem = problems.message(os.fspath(path))
    return chunk
