"""Pages of ``JOURNAL.md`` at the same cost whatever its size: an in-memory offset index.

The index holds, per entry, where it starts and ends in the file, its line and its tags
(and the tag counts and warnings of the whole journal). A page then reads only its own
entries' bytes and parses them with the one parser (:func:`.journal.parse_journal`), so a
page of 50 from a 50 MB journal costs about what a page from a small one does.

The index is rebuilt when the file's identity, size or modification time says it changed,
except for an append (same file, larger, the bytes before the old end unchanged at the old
end and at sampled entry starts): then only the last entry and what follows are read. A
hand edit in the middle changes the size or the sampled bytes, and rebuilds. A search by
text (``query``) reads the whole journal, as before. A journal with line separators other
than ``\\n``/``\\r\\n`` (lone ``\\r``, U+2028 …) is always read whole: the index splits on
``\\n`` only.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_mlexp.core.record.fsio import check_confined, read_record_text
from jupyter_mlexp.core.record.journal import JournalEntry, JournalPage, page_entries, parse_journal

#: Warnings a page carries at most; the rest are counted in one last line.
MAX_WARNINGS = 20
_SAMPLES = 32
_ODD_BREAKS = re.compile(rb"\r(?!\n)|[\x0b\x0c\x1c-\x1e]|\xc2\x85|\xe2\x80[\xa8\xa9]")


@dataclass
class _Index:
    stamp: tuple[int, int, int]  # inode, size, mtime_ns
    tail: bytes  # the last bytes before stamp's size: an append leaves them in place
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    tags: list[tuple[str, ...]] = field(default_factory=list)
    warnings: list[tuple[str, ...]] = field(default_factory=list)
    plain: bool = True  # False: odd line breaks, read whole every time
    _totals: tuple[dict[str, int], list[str]] | None = None

    def totals(self) -> tuple[dict[str, int], list[str]]:
        """Entries per tag, and the journal's warnings (capped): computed once per index."""
        if self._totals is None:
            counts: dict[str, int] = {}
            for tags in self.tags:
                for t in tags:
                    counts[t] = counts.get(t, 0) + 1
            warnings = dict.fromkeys(w for ws in self.warnings for w in ws)
            self._totals = counts, _capped(list(warnings))
        return self._totals


_CACHE: dict[str, _Index] = {}
_LOCK = threading.Lock()


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_ino, st.st_size, st.st_mtime_ns


def _headings(data: bytes, start: int) -> list[int]:
    """Offsets of the lines that start with ``## `` at or after ``start`` (itself a line start)."""
    out = [start] if data.startswith(b"## ", start) else []
    i = data.find(b"\n## ", start)
    while i != -1:
        out.append(i + 1)
        i = data.find(b"\n## ", i + 1)
    return out


def _add(ix: _Index, data: bytes, begin: int, end: int, line: int, preamble: bool) -> int:
    """Parse ``data[begin:end]`` (one entry, or the preamble) into the index; the line after it."""
    read = parse_journal(data[begin:end].decode("utf-8", errors="replace"), line, preamble)
    for entry in read.entries:
        ix.starts.append(begin)
        ix.ends.append(end)
        ix.lines.append(entry.line)
        ix.tags.append(tuple(entry.tags))
        ix.warnings.append(tuple(read.warnings) if read.warnings else ())
    return line + data.count(b"\n", begin, end)


def _extend(ix: _Index, data: bytes, begin: int, line: int) -> None:
    """Index the entries from ``begin`` (a heading, or 0) to the end of ``data``."""
    heads = _headings(data, begin)
    if begin == 0 and (not heads or heads[0] != 0):
        line = _add(ix, data, 0, heads[0] if heads else len(data), 1, True)
    bounds = heads + [len(data)]
    for h, nxt in zip(heads, bounds[1:]):
        line = _add(ix, data, h, nxt, line, False)


def _build(path: Path, st: os.stat_result, old: _Index | None) -> _Index:
    with open(path, "rb") as fh:
        data = fh.read()
    stamp = (st.st_ino, len(data), st.st_mtime_ns)
    ix = _Index(stamp, data[-64:])
    if _ODD_BREAKS.search(data):
        ix.plain = False
        return ix
    if old is not None and _appended(old, data, st):
        keep = len(old.starts) - 1  # the last entry may have grown: read it again
        ix.starts, ix.ends, ix.lines = old.starts[:keep], old.ends[:keep], old.lines[:keep]
        ix.tags, ix.warnings = old.tags[:keep], old.warnings[:keep]
        _extend(ix, data, old.starts[keep], old.lines[keep])
        return ix
    _extend(ix, data, 0, 1)
    return ix


def _appended(old: _Index, data: bytes, st: os.stat_result) -> bool:
    """Whether ``data`` is ``old``'s file with text added at the end (and nothing else changed)."""
    ino, size, _ = old.stamp
    if not old.plain or st.st_ino != ino or len(data) <= size or len(old.starts) < 2 or old.starts[-1] == 0:
        return False
    if data[size - len(old.tail) : size] != old.tail:
        return False
    step = max(1, len(old.starts) // _SAMPLES)
    return all(data.startswith(b"## ", old.starts[i]) for i in range(1, len(old.starts), step))


def _index(path: Path) -> _Index | None:
    """The current index of ``path`` (None when the file does not exist)."""
    check_confined(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError:
        read_record_text(path)  # raises the record's one-line error for a folder or unreadable file
        return None
    key = str(path)
    with _LOCK:
        ix = _CACHE.get(key)
        if ix is not None and ix.stamp == _stamp(st):
            return ix
        if not os.path.isfile(path):
            read_record_text(path)
        ix = _build(path, st, ix)
        _CACHE[key] = ix
        return ix


def _read_entries(path: Path, ix: _Index, picked: list[int]) -> list[JournalEntry] | None:
    """The entries ``picked`` (indices, any order), parsed from their bytes; None if the file moved under us."""
    out: list[JournalEntry] = []
    with open(path, "rb") as fh:
        for i in picked:
            fh.seek(ix.starts[i])
            raw = fh.read(ix.ends[i] - ix.starts[i]).decode("utf-8", errors="replace")
            entries = parse_journal(raw, ix.lines[i] if ix.starts[i] else 1, ix.starts[i] == 0).entries
            if not entries:
                return None
            out.append(entries[-1] if ix.starts[i] else entries[0])
    return out


def _capped(warnings: list[str]) -> list[str]:
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    return warnings[:MAX_WARNINGS] + [f"… and {len(warnings) - MAX_WARNINGS} more warnings"]


def journal_page(
    path: Path, tag: str | None = None, query: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[JournalPage, list[str]]:
    """A page of ``path``'s entries, newest first (as :func:`.journal.page_entries`), and the journal's warnings
    (at most :data:`MAX_WARNINGS`, then a count)."""
    path = Path(path)
    ix = _index(path)
    if ix is None:
        return page_entries([], tag, query, offset, limit), []
    if not ix.plain or (query or "").strip():
        read = parse_journal(read_record_text(path) or "")
        return page_entries(read.entries, tag, query, offset, limit), _capped(read.warnings)
    counts, warnings = ix.totals()
    want = (tag or "").strip().strip("[]").upper()
    offset, limit = max(0, int(offset)), max(0, int(limit))
    n = len(ix.starts)
    if want:
        order = [i for i in range(n - 1, -1, -1) if want in ix.tags[i]]
        total, picked = len(order), order[offset : offset + limit]
    else:
        total, picked = n, list(range(n - 1 - offset, max(-1, n - 1 - offset - limit), -1))
    entries = _read_entries(path, ix, picked)
    if entries is None:  # changed between the stat and the read: read it whole this once
        read = parse_journal(read_record_text(path) or "")
        return page_entries(read.entries, tag, query, offset, limit), _capped(read.warnings)
    return JournalPage(entries, total, offset, limit, dict(counts)), list(warnings)
