"""``metrics.jsonl``, the one codec: what a metric line is, how it is written, read and summarized.

A line is ``{"name": str, "value": number, "step": int, "time": float}``. NaN and
±inf are written ``"value": null, "nonfinite": "nan"`` (or ``"inf"``, ``"-inf"``),
kept and flagged: read back they are NaN/±inf, never dropped silently. The rules,
the same when a value is logged (:func:`check_value`, :func:`check_step`) and when a
line is read back (:func:`decode`):

- a value is an int or a float (numpy scalars and 0-d arrays too, when logged);
  ``null`` is NaN (its ``nonfinite`` kind says which one); JSON ``NaN``/``Infinity``
  are kept and flagged the same way;
- a truth value (``true``, ``numpy.bool_``) is refused: it is not a measurement;
- a string is refused (``log_metric("acc", "0.5")`` raises, a line with ``"0.5"`` is
  skipped): a number written as text is not converted on either side;
- a step is a whole number (``"3"``, ``3.0`` and ``true`` are refused), and a line has one.

Every reader streams the file in blocks of :data:`BLOCK` bytes, so memory is bounded
by the block and by what the caller keeps (a summary per metric, a sample of a
curve), never by the number of lines. A malformed line (not JSON, cut by a crash,
of the wrong shape) is skipped and counted in :class:`MetricProblems`, which says
in one line which file and what the first problem was. A run's curves (from an offset, or
sampled) are read in :mod:`jupyter_mlexp.core.record.metric_curves`, through the functions here.
"""

from __future__ import annotations

import json
import math
import operator
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from jupyter_mlexp.core.errors import MetricValueError, RecordError
from jupyter_mlexp.core.record.fsio import check_confined

NAN = float("nan")
NONFINITE = {"nan": NAN, "inf": math.inf, "-inf": -math.inf}
BLOCK = 4 << 20  # bytes decoded at once: bounds a reader's memory whatever the file's length
MAX_LISTED = 20  # malformed lines listed by line number; the rest are only counted
PIECE = 4096  # lines decoded by one json.loads call


# -- writing --------------------------------------------------------------------------------------


def check_value(name: str, value: Any) -> float:
    """``value`` as the float a metric line holds, or :class:`MetricValueError` saying why not."""
    cls = type(value)
    if cls is float:
        return value
    if cls is bool or cls.__name__ in ("bool", "bool_"):
        raise MetricValueError(
            f"metric {name!r}: value {value!r} is a truth value, not a measurement (log float(x) if you mean 1/0)"
        )
    if isinstance(value, (str, bytes)) or cls.__name__ in ("str_", "bytes_"):
        raise MetricValueError(
            f"metric {name!r}: value {value!r} is text, not a number (log float(x) if it holds one); "
            "a line with a string value is skipped when read back"
        )
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MetricValueError(
            f"metric {name!r}: value {value!r} is not a number (pass an int, a float or a 0-d array)"
        ) from None
    except OverflowError:
        raise MetricValueError(f"metric {name!r}: value {str(value)[:20]}… is too large for a float") from None


def check_step(name: str, step: Any) -> int:
    """``step`` as a whole number (numpy integers too), or :class:`MetricValueError`."""
    if type(step) is int:
        return step
    try:
        if isinstance(step, bool):
            raise TypeError
        return operator.index(step)
    except TypeError:
        raise MetricValueError(f"metric {name!r}: step {step!r} is not a whole number") from None


def nonfinite_kind(v: float) -> str:
    """``"nan"``, ``"inf"`` or ``"-inf"`` for a value that is not finite."""
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def quoted(name: str) -> str:
    """A metric name as it stands in a line (a writer computes it once per name)."""
    return json.dumps(name)


def line(qname: str, value: float, step: int, now: float) -> str:
    """The line for one value; ``qname`` from :func:`quoted`. NaN/inf become ``null`` with their kind."""
    if value - value == 0.0:
        return f'{{"name":{qname},"value":{value!r},"step":{step},"time":{now:.6f}}}\n'
    return f'{{"name":{qname},"value":null,"nonfinite":"{nonfinite_kind(value)}","step":{step},"time":{now:.6f}}}\n'


def number_lines(qname: str, numbers: list[str], first_step: int, now: str) -> str:
    """Lines for finite values already written as JSON numbers (printed output), steps from ``first_step``."""
    return "".join(
        f'{{"name":{qname},"value":{t},"step":{s},"time":{now}}}\n' for s, t in enumerate(numbers, first_step)
    )


# -- one line read back ---------------------------------------------------------------------------


def _short(value: Any, limit: int = 30) -> str:
    text = json.dumps(value) if isinstance(value, (str, bool)) or value is None else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode(rec: Any) -> tuple[str, int, float] | str:
    """``(name, step, value)`` of a parsed line, or the reason it is not a metric record."""
    if type(rec) is not dict:
        return "not a JSON object"
    name = rec.get("name")
    if type(name) is not str or not name:
        return "no metric name" if name is None else f"name {_short(name)} is not a non-empty string"
    value = rec.get("value", rec)  # rec itself marks "no value key"
    cls = type(value)
    if cls is float:
        v = value
    elif cls is int:
        try:
            v = float(value)
        except OverflowError:
            return f"value {_short(value)} is too large for a float"
    elif value is None:
        kind = rec.get("nonfinite")
        v = NONFINITE.get(kind, NAN) if type(kind) is str else NAN
    elif value is rec:
        return "no value"
    elif cls is bool:
        return f"value {_short(value)} is a truth value, not a number"
    elif cls is str:
        return f"value {_short(value)} is text, not a number"
    else:
        return f"value {_short(value)} is not a number"
    step = rec.get("step")
    if type(step) is not int:
        return "no step" if step is None else f"step {_short(step)} is not a whole number"
    return name, step, v


# -- problems -------------------------------------------------------------------------------------


@dataclass
class MetricProblems:
    """Malformed lines of one read: how many, and the first :data:`MAX_LISTED` as ``(line, reason)``."""

    count: int = 0
    listed: list[tuple[int, str]] = field(default_factory=list)

    def add(self, lineno: int, reason: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append((lineno, reason))

    def message(self, file: str) -> str | None:
        """One line naming ``file`` and the first problem, or None when every line was read."""
        if not self.count:
            return None
        lineno, reason = self.listed[0]
        where = f"line {lineno}: {reason}" if lineno else reason
        more = f" ({self.count} lines skipped)" if self.count > 1 else " (skipped)"
        return f"{file}: {where}{more}"

    def lines(self) -> list[tuple[int, str]]:
        """The listed ``(line, reason)``, with one last entry counting the rest when there are more."""
        out = list(self.listed)
        rest = self.count - len(self.listed)
        if rest > 0:
            out.append((self.listed[-1][0], f"and {rest} more malformed lines after it"))
        return out


# -- streaming ------------------------------------------------------------------------------------


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:  # a line of 100,000 brackets
        raise ValueError("nested too deep") from None


def _records(lines: list[str]) -> list[Any]:
    """Each line decoded (a reason string for a line that is not JSON). One ``json.loads`` for each
    :data:`PIECE` lines when they are all good; line by line otherwise, so exactly the bad lines are
    lost. (One call holds the interpreter: a piece keeps other threads waiting milliseconds, not a block's tenth of a second.)"""
    if len(lines) > PIECE:
        out: list[Any] = []
        for i in range(0, len(lines), PIECE):
            out.extend(_records(lines[i : i + PIECE]))
        return out
    try:
        records = _loads("[" + ",".join(lines) + "]")
        if len(records) == len(lines):
            return records
    except ValueError:
        pass
    out = []
    for text in lines:
        if not text.strip():
            out.append(_BLANK)
            continue
        try:
            out.append(_loads(text))
        except ValueError:
            out.append(_NOT_JSON)
    return out


class _NotJson(str):
    """A line that is not JSON: the decoder's reason."""


_BLANK = _NotJson("blank")  # a line of spaces: skipped, not counted
_NOT_JSON = _NotJson("not JSON")


def _block_records(data: bytes, first: int) -> tuple[list[Any], list[int] | None]:
    """The records of ``data`` (whole lines) and, when blank lines were left out, each one's line number
    (else record ``i`` is line ``first + i``)."""
    lines = data.decode("utf-8", errors="replace").split("\n")
    if lines and not lines[-1]:
        lines.pop()
    if all(lines):
        return _records(lines), None
    numbered = [(i, t) for i, t in enumerate(lines, first) if t.strip()]
    return _records([t for _, t in numbered]), [i for i, _ in numbered]


def _odd(rec: Any, lineno: int, problems: MetricProblems) -> tuple[str, int, float] | None:
    """A record not of the shape every writer gives: its ``(name, step, value)``, or None (counted in ``problems``)."""
    if type(rec) is _NotJson:
        if rec is not _BLANK:
            problems.add(lineno, "not JSON")
        return None
    got = decode(rec)
    if isinstance(got, str):
        problems.add(lineno, got)
        return None
    return got


def decode_block(data: bytes, first: int, problems: MetricProblems) -> list[tuple[int, str, int, float]]:
    """``(line, name, step, value)`` of the metric records in ``data`` (whole lines); ``first``: its first line number."""
    records, numbers = _block_records(data, first)
    out: list[tuple[int, str, int, float]] = []
    append = out.append
    for i, rec in enumerate(records):
        # the shape every writer of mlexp gives, checked inline (a call per line is a third of the time)
        if type(rec) is dict:
            name, value, step = rec.get("name"), rec.get("value"), rec.get("step")
            if type(value) is float and type(step) is int and type(name) is str and name:
                append((first + i if numbers is None else numbers[i], name, step, value))
                continue
        lineno = first + i if numbers is None else numbers[i]
        got = _odd(rec, lineno, problems)
        if got is not None:
            append((lineno, *got))
    return out


#: What stands for a line longer than a block: one malformed line, at its line number, its bytes never held.
LONG_LINE = b"(a line longer than 4 MiB)\n"


def line_blocks(fh: IO[bytes], start: int, stop: int, whole: bool) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines from byte ``start`` to ``stop``, each with the offset after it. The text after
    the last newline is a line only when ``whole`` (the run ended: it was cut, not half written)."""
    fh.seek(start)
    pos = start
    carry = b""
    skipping = False  # inside a line longer than a block
    while pos < stop:
        data = fh.read(min(BLOCK, stop - pos))
        if not data:
            break
        pos += len(data)
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                continue
            data, skipping = data[nl + 1 :], False
        data = carry + data
        end = data.rfind(b"\n") + 1
        if end == 0 and len(data) >= BLOCK:
            carry, skipping = b"", True
            yield LONG_LINE, pos
            continue
        carry = data[end:]
        if end:
            yield data[:end], pos - len(carry)
    if carry and whole:
        yield carry, pos


def open_metrics(path: str | os.PathLike) -> IO[bytes] | None:
    check_confined(os.fspath(path))  # the REST API reads through here: a symlink out of the workspace is refused
    try:
        return open(path, "rb", buffering=0)  # reads are whole blocks: no buffer copy (a third of a small file's read)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder, no permission: one message naming the file
        raise RecordError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None


def point_blocks(
    path: str | os.PathLike, problems: MetricProblems, start: int = 0, whole: bool = True
) -> Iterator[list[tuple[int, str, int, float]]]:
    """Every metric point of ``path`` from byte ``start`` on as ``(line, name, step, value)``, a block
    of them at a time (streamed: one block in memory at once).

    Line numbers count from ``start``. ``whole``: a last line without its newline is read too
    (a finished run's file); otherwise it is left for a later read. A missing file has no points.
    """
    fh = open_metrics(path)
    if fh is None:
        return
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if start == 0 and size <= BLOCK:  # the common small file: one read, one block (no line can be too long)
            data = fh.read(size)
            if not whole:
                data = data[: data.rfind(b"\n") + 1]
            if data:
                yield decode_block(data, 1, problems)
            return
        lineno = 1
        for data, _ in line_blocks(fh, start, size, whole):
            yield decode_block(data, lineno, problems)
            lineno += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


# -- what the readers keep ------------------------------------------------------------------------


Series = dict[str, list[tuple[int, float, int]]]


def read_series(path: str | os.PathLike) -> tuple[Series, MetricProblems]:
    """``{name: [(step, value, line)]}`` in file order, NaN/inf kept: every point (the report's curves)."""
    problems = MetricProblems()
    series: Series = {}
    for block in point_blocks(path, problems):
        for lineno, name, step, value in block:
            pts = series.get(name)
            if pts is None:
                pts = series[name] = []
            pts.append((step, value, lineno))
    return series, problems


@dataclass
class MetricSummary:
    """One metric over a whole file: its last value (NaN/inf kept) and line, the last step, and over
    the finite values their number, min and max; ``nonfinite`` counts NaN/inf."""

    last: float
    line: int
    step: int
    n: int = 0
    min: float | None = None
    max: float | None = None
    nonfinite: int = 0

    def as_manifest(self) -> dict[str, Any]:
        """The ``metrics_summary`` entry of ``run.json`` (``last`` is null when the last value was NaN/inf)."""
        out: dict[str, Any] = {
            "last": self.last if self.last - self.last == 0.0 else None,
            "min": self.min,
            "max": self.max,
            "n": self.n,
            "step": self.step,
        }
        if self.nonfinite:
            out["nonfinite"] = self.nonfinite
        return out


def read_summaries(path: str | os.PathLike) -> tuple[dict[str, MetricSummary], MetricProblems]:
    """Each metric's :class:`MetricSummary`, streamed: memory does not grow with the number of lines.
    The same points as :func:`point_blocks`, folded as they are decoded (no tuple per line: a sixth of the time)."""
    problems = MetricProblems()
    acc: dict[str, list] = {}  # name: [last, line, step, n, min, max, nonfinite]
    fh = open_metrics(path)
    if fh is None:
        return {}, problems
    with fh:
        size = os.fstat(fh.fileno()).st_size
        first = 1
        for data, _ in line_blocks(fh, 0, size, True):
            records, numbers = _block_records(data, first)
            for i, rec in enumerate(records):
                if type(rec) is dict and (
                    type(v := rec.get("value")) is float
                    and type(step := rec.get("step")) is int
                    and type(name := rec.get("name")) is str
                    and name
                ):
                    lineno = first + i if numbers is None else numbers[i]
                else:
                    lineno = first + i if numbers is None else numbers[i]
                    got = _odd(rec, lineno, problems)
                    if got is None:
                        continue
                    name, step, v = got
                s = acc.get(name)
                if s is None:
                    s = acc[name] = [v, lineno, step, 0, None, None, 0]
                else:
                    s[0], s[1], s[2] = v, lineno, step
                if v - v == 0.0:
                    s[3] += 1
                    lo = s[4]
                    if lo is None or v < lo:
                        s[4] = v
                    hi = s[5]
                    if hi is None or v > hi:
                        s[5] = v
                else:
                    s[6] += 1
            first += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return {name: MetricSummary(*s) for name, s in acc.items()}, problems


def summarize(summary: dict[str, dict], name: str, v: float, step: int) -> None:
    """Fold one finite value into a ``metrics_summary`` entry (last, min, max, n, step): the writer's rule."""
    s = summary.get(name)
    if s is None:
        summary[name] = {"last": v, "min": v, "max": v, "n": 1, "step": step}
        return
    s["last"] = v
    s["step"] = step
    s["n"] += 1
    lo = s["min"]
    if lo is None or v < lo:  # None: only NaN/inf so far
        s["min"] = v
    hi = s["max"]
    if hi is None or v > hi:
        s["max"] = v


def fold_nonfinite(summary: dict[str, dict], name: str, step: int) -> int:
    """Count a NaN/inf in a metric's summary (its last value becomes None); how many it has now."""
    s = summary.setdefault(name, {"last": None, "min": None, "max": None, "n": 0, "step": step})
    s["last"] = None
    s["step"] = step
    s["nonfinite"] = s.get("nonfinite", 0) + 1
    return s["nonfinite"]
