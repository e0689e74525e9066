"""``name: value`` lines a run printed, parsed as its output arrives and logged in one write.

A run's output counts for its metrics (the hypothesis' ones, or every name for a quick
run) when it did not log them through the API. :class:`PrintedMetrics` parses whole
lines as they come (the script runner feeds it while the command runs, on another core),
keeps each metric's lines of ``metrics.jsonl`` ready and its summary folded, so the end
of the run only filters by name and writes. The rule for a line is the one of
:func:`parse_stdout_metrics`; lines end at ``\\n``, ``\\r\\n`` or
``\\r`` (a progress bar's), and text with rarer line breaks takes that function's path.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO

from jupyter_mlexp.core.record.metric_lines import (
    MetricProblems,
    decode_block,
    fold_nonfinite,
    line_blocks,
    nonfinite_kind,
    number_lines,
    quoted,
    summarize,
)
from jupyter_mlexp.core.record.metric_lines import line as metric_line

#: A value: a JSON number (kept as printed in metrics.jsonl), else any other float Python reads.
#: (nan/inf spelt out in either case: a case-insensitive pattern is a third slower over every line.)
_VALUE = (
    r"(?:(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?[nN][aA][nN]|[-+]?[iI][nN][fF]))"
)
#: One line per match, in a text whose only line break is ``\n``: (name, JSON number, other value).
_LINE = re.compile(r"^[^\S\n]*([A-Za-z_][\w.\-/]*)[^\S\n]*:[^\S\n]*" + _VALUE + r"[^\S\n]*$", re.MULTILINE)
_PRINTED_METRIC = re.compile(
    r"^\s*([A-Za-z_][\w.\-/]*)\s*:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf)\s*$",
    re.IGNORECASE,
)
_RARE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _has_rare_breaks(text: str) -> bool:
    """A line break other than ``\n``, ``\r``: ASCII text is searched for its five (fast), other text by regex."""
    if text.isascii():
        return any(c in text for c in "\x0b\x0c\x1c\x1d\x1e")
    return _RARE_BREAKS.search(text) is not None


#: A metric's lines spooled into the run folder while the run goes (``PrintedMetrics(spool=...)``).
SPOOL_PREFIX = ".printed-"
MAX_LINE = 1 << 16  # a line longer than this (64 KiB) without its end is not a metric: not kept


@dataclass
class Printed:
    """One metric's printed values: its ``metrics.jsonl`` lines (encoded, in memory or spooled to a
    file of the run folder as they came), its step count and its NaN/inf."""

    qname: str  # the name as JSON
    chunks: list[bytes] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    steps: int = 0
    nonfinite: list[tuple[str, int]] = field(default_factory=list)  # (kind, step) of each NaN/inf
    spool: Path | None = None
    _fh: IO[bytes] | None = field(default=None, repr=False)

    def write(self, data: bytes) -> None:
        if self.spool is None:
            self.chunks.append(data)
            return
        if self._fh is None:
            self._fh = open(self.spool, "ab", buffering=1 << 20)
        self._fh.write(data)

    def close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()

    def iter_values(self) -> Iterator[float]:
        """Every value, in order (NaN/inf as floats), from memory or read back from the spool file."""
        if self.spool is None:
            yield from self.values
            return
        self.close()
        try:
            fh = open(self.spool, "rb")
        except FileNotFoundError:
            return
        with fh:  # read back by the one codec of metrics.jsonl, a block at a time (bounded memory)
            problems = MetricProblems()
            for data, _ in line_blocks(fh, 0, os.fstat(fh.fileno()).st_size, True):
                for point in decode_block(data, 1, problems):
                    yield point[3]

    def data(self) -> bytes:
        """Every ``metrics.jsonl`` line, in order."""
        if self.spool is None:
            return b"".join(self.chunks)
        self.close()
        try:
            return self.spool.read_bytes()
        except FileNotFoundError:
            return b""


class PrintedMetrics:
    """Feed it output as it comes (:meth:`feed`), :meth:`close` it at the end; ``by_name`` holds the result.

    With ``spool`` (a run folder), each metric's lines go to a file there as they are parsed
    (``.printed-N.jsonl``), so the end of the run renames a file instead of writing megabytes;
    :meth:`discard` removes what was not used.
    """

    def __init__(self, spool: Path | None = None) -> None:
        self.by_name: dict[str, Printed] = {}
        self.summary: dict[str, dict] = {}  # per name, folded as Run.log_metric folds it
        self._partial = ""
        self._spool = spool

    @classmethod
    def of(cls, text: str) -> PrintedMetrics:
        pm = cls()
        pm.feed(text)
        pm.close()
        return pm

    def feed(self, text: str) -> None:
        """Parse the complete lines of ``self._partial + text``; keep the unfinished last one."""
        if not text:
            return
        text = self._partial + text
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut == len(text) - 1 and text.endswith("\r"):
            cut -= 1  # a "\r" at the very end may be the first half of "\r\n": wait for the next piece
        self._partial = text[cut + 1 :]
        if len(self._partial) > MAX_LINE:  # no metric line is that long: output without line ends
            self._partial = ""
        if cut >= 0:
            self._parse(text[: cut + 1])

    def close(self) -> None:
        rest, self._partial = self._partial, ""
        if rest:
            self._parse(rest)
        for p in self.by_name.values():
            p.close()

    def discard(self) -> None:
        """Remove the spooled files that were not used (moved into ``metrics.jsonl``)."""
        for p in self.by_name.values():
            p.close()
            if p.spool is not None:
                p.spool.unlink(missing_ok=True)

    def _parse(self, text: str) -> None:
        if _has_rare_breaks(text):
            found = [(name, repr(v), "") for name, v in parse_stdout_metrics(text)]
        else:
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            found = _LINE.findall(text)
        if not found:
            return
        now = f"{time.time():.6f}"
        names = set(map(itemgetter(0), found))
        if len(names) == 1 and not any(map(itemgetter(2), found)):  # the common case: one name, JSON numbers
            self._add(names.pop(), list(map(itemgetter(1), found)), now)
            return
        groups: dict[str, list[str]] = {}
        for name, number, other in found:
            texts = groups.get(name)
            if texts is None:
                texts = groups[name] = []
            texts.append(number or repr(float(other)))  # a JSON number as printed, else Python's repr
        for name, texts in groups.items():
            self._add(name, texts, now)

    def _add(self, name: str, texts: Sequence[str], now: str) -> None:
        """One metric's new values, in order: lines and summary at once while all are finite."""
        p = self.by_name.get(name)
        if p is None:
            spool = None if self._spool is None else self._spool / f"{SPOOL_PREFIX}{len(self.by_name)}.jsonl"
            p = self.by_name[name] = Printed(quoted(name), spool=spool)
        values = list(map(float, texts))
        first = p.steps
        p.steps += len(values)
        if p.spool is None:  # spooled: read back from the file when needed, not held (a long output's millions)
            p.values += values
        total = sum(values)  # finite only when every value is
        if total - total == 0.0 or all(v - v == 0.0 for v in values):
            q = p.qname
            p.write(number_lines(q, list(texts), first, now).encode())
            s = self.summary.get(name)
            lo, hi = min(values), max(values)
            if s is None:
                self.summary[name] = {"last": values[-1], "min": lo, "max": hi, "n": len(values), "step": p.steps - 1}
                return
            s["last"], s["step"], s["n"] = values[-1], p.steps - 1, s.get("n", 0) + len(values)
            s["min"] = lo if s.get("min") is None else min(s["min"], lo)
            s["max"] = hi if s.get("max") is None else max(s["max"], hi)
            return
        out = []
        at = float(now)
        for step, v in enumerate(values, first):  # a NaN or inf among them: value by value
            out.append(metric_line(p.qname, v, step, at))
            if v - v == 0.0:
                summarize(self.summary, name, v, step)
            else:
                p.nonfinite.append((nonfinite_kind(v), step))
                fold_nonfinite(self.summary, name, step)
        p.write("".join(out).encode())


def parse_stdout_metrics(text: str) -> list[tuple[str, float]]:
    """``name: value`` lines of captured output, in order."""
    out = []
    for line in text.splitlines():
        m = _PRINTED_METRIC.match(line)
        if m:
            out.append((m.group(1), float(m.group(2))))
    return out
