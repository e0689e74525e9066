"""The research log's hash chain: each entry of ``research_log.jsonl`` carries the hash of the one before.

Every entry the experiment appends gets two fields: ``seq`` (its number in the log, 1 for the
first line) and ``prev_sha256`` (the SHA-256 of the previous entry's canonical bytes: the entry
as JSON with sorted keys and no spaces; a line that is not JSON hashes as its own bytes). An edit,
a deletion or a re-ordering breaks the chain at the next entry. A chain can be recomputed by
whoever edits the file, so its head (the last entry's ``seq`` and hash) is also kept outside the
log: each run's ``run.json`` records it when the run starts (``log_head``), a class collection
keeps the heads it saw, and git history, where there is one, is a second witness
(:mod:`jupyter_mlexp.core.record.verification`).

Entries written before the chain existed carry neither field; the first chained entry hashes the
last of them, so they are anchored too from then on. A chain shows order and integrity, not when
an entry was written.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record.fsio import append_text_held, check_confined, locked, read_record_text

SEQ, PREV = "seq", "prev_sha256"
_TAIL_CHUNK = 1 << 16

__all__ = ["SEQ", "PREV", "Head", "Finding", "ChainCheck", "append", "head", "check", "entry_hashes"]


@dataclass(frozen=True)
class Head:
    """Where the log stood: its last entry's number and hash (``seq`` 0 and no hash: an empty log)."""

    seq: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "sha256": self.sha256}

    @classmethod
    def from_dict(cls, data: Any) -> Head | None:
        if not isinstance(data, dict):
            return None
        seq, sha = data.get("seq"), data.get("sha256")
        if type(seq) is not int or not isinstance(sha, str):
            return None
        return cls(seq, sha)

    def short(self) -> str:
        return f"entry {self.seq} ({self.sha256[:12]}…)" if self.seq else "an empty log"


@dataclass
class Finding:
    """One line of a verification: ``broken`` (the record does not match itself) or ``note``."""

    level: str
    text: str
    where: str = ""

    @property
    def broken(self) -> bool:
        return self.level == "broken"

    def line(self) -> str:
        mark = "✗" if self.broken else "·"
        return f"{mark} {self.where + ': ' if self.where else ''}{self.text}"

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "text": self.text, "where": self.where}


def canonical(entry: Any) -> bytes:
    """The bytes an entry is hashed as: JSON with sorted keys, no spaces, ASCII."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str).encode("ascii")


def line_hash(line: str) -> str:
    """SHA-256 of the entry on ``line``: its canonical JSON, or the line's own bytes when it is not JSON."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return hashlib.sha256(line.strip().encode("utf-8", errors="replace")).hexdigest()
    return hashlib.sha256(canonical(obj)).hexdigest()


def _last_line(path: Path) -> str | None:
    """The last non-blank line of ``path``, read from the end (the log can be long); None when empty or absent."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return None
    with fh:
        fh.seek(0, os.SEEK_END)
        pos = fh.tell()
        buf = b""
        while pos > 0:
            step = min(_TAIL_CHUNK, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
            body = buf.rstrip()
            cut = body.rfind(b"\n")
            if body and cut >= 0:
                return body[cut + 1 :].decode("utf-8", errors="replace")
        body = buf.rstrip()
        return body.decode("utf-8", errors="replace") if body else None


def _count_entries(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def head(path: Path) -> Head:
    """The log's head now: the last entry's ``seq`` (its position when it carries none) and hash."""
    path = Path(path)
    check_confined(path)
    try:
        last = _last_line(path)
        count = _count_entries(path) if last is not None and not _chained_seq(last) else None
    except OSError as err:  # a folder where the log belongs, unreadable: one line, as every record file says it
        raise RecordError(f"{path} cannot be read ({err.strerror or type(err).__name__}); fix or restore it") from None
    if last is None:
        return Head(0, "")
    seq = _chained_seq(last)
    return Head(seq if seq is not None else count or 0, line_hash(last))


def _chained_seq(line: str) -> int | None:
    """The ``seq`` a line carries; None for a line from before the chain, or one cut short (then count)."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    seq = obj.get(SEQ) if isinstance(obj, dict) else None
    return seq if type(seq) is int else None


def append(path: Path, record: dict[str, Any]) -> Head:
    """Append ``record`` chained to the entry before it (under the log's lock); the new head."""
    path = Path(path)
    check_confined(path)
    with locked(path):
        before = head(path)
        entry = {**record, SEQ: before.seq + 1, PREV: before.sha256 or None}
        line = json.dumps(entry, default=str)
        append_text_held(path, line + "\n")
    return Head(before.seq + 1, line_hash(line))


@dataclass
class ChainCheck:
    """What :func:`check` found in a log's text."""

    entries: int = 0
    first_chained: int | None = None  # the number of the first entry that carries the chain
    head: Head = field(default_factory=lambda: Head(0, ""))
    hashes: list[str] = field(default_factory=list)  # each entry's hash, entry 1 first
    lines: list[int] = field(default_factory=list)  # each entry's line number in the file
    records: list[dict | None] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def chained(self) -> bool:
        return self.first_chained is not None


def entry_hashes(text: str) -> list[str]:
    """Each entry's hash (blank lines skipped), entry 1 first."""
    return [line_hash(line) for line in text.split("\n") if line.strip()]


def check(text: str, name: str = "research_log.jsonl") -> ChainCheck:
    """Walk the chain of a log's ``text``: one finding per entry that does not follow from the one before."""
    out = ChainCheck()
    prev_hash: str | None = None
    prev_seq: int | None = None
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        out.entries += 1
        n = out.entries
        where = f"{name}:{lineno}"
        digest = line_hash(line)
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            obj = None
        record = obj if isinstance(obj, dict) else None
        out.hashes.append(digest)
        out.lines.append(lineno)
        out.records.append(record)
        has_chain = record is not None and (SEQ in record or PREV in record)
        if has_chain and out.first_chained is None:
            out.first_chained = n
            if n > 1:
                span = "entry 1" if n == 2 else f"entries 1–{n - 1}"
                out.findings.append(
                    Finding(
                        "note",
                        f"before the chain ({span}): written before the log was chained; entry {n} "
                        "chains to them, so they are checked from there on, not before",
                        f"{name}:1",
                    )
                )
        if out.first_chained is None:
            prev_hash, prev_seq = digest, n
            continue
        if record is None:
            out.findings.append(Finding("broken", f"entry {n} is not a JSON object (a hand edit or a cut line)", where))
        elif not has_chain:
            out.findings.append(
                Finding(
                    "broken",
                    f"entry {n} carries no chain hash, though the chain began at entry {out.first_chained} "
                    "(its hashes were stripped, or the line was added by hand)",
                    where,
                )
            )
        else:
            problems = []
            seq = record.get(SEQ)
            expected_seq = (prev_seq or 0) + 1
            if seq != expected_seq:
                if type(seq) is int and prev_seq is not None and seq > expected_seq:
                    gap = seq - expected_seq
                    problems.append(
                        f"it carries seq {seq} after entry seq {prev_seq}: {gap} entr{'y' if gap == 1 else 'ies'} "
                        "missing before it (removed or moved)"
                    )
                else:
                    problems.append(f"it carries seq {seq!r} where {expected_seq} follows (entries were moved)")
            if record.get(PREV) != prev_hash and not (prev_hash is None and record.get(PREV) is None):
                problems.append(
                    "the entry before it is not the one it was chained to (that entry was edited, removed or moved)"
                )
            if problems:
                out.findings.append(Finding("broken", f"entry {n}: " + "; ".join(problems), where))
            if type(seq) is int:
                n_seq = seq
            else:
                n_seq = expected_seq
            prev_seq = n_seq
            prev_hash = digest
            continue
        prev_hash, prev_seq = digest, (prev_seq or 0) + 1
    if out.entries:
        last = out.records[-1]
        seq = last.get(SEQ) if last is not None else None
        out.head = Head(seq if type(seq) is int else out.entries, out.hashes[-1])
    if out.entries and out.first_chained is None:
        span = "entry 1" if out.entries == 1 else f"entries 1–{out.entries}"
        out.findings.append(Finding("note", f"before the chain ({span}): no entry carries a chain hash", f"{name}:1"))
    return out


def read_check(path: Path) -> ChainCheck:
    """:func:`check` of the log at ``path`` (an absent log is an empty one)."""

    return check(read_record_text(Path(path)) or "", Path(path).name)
