"""``JOURNAL.md``: append-only, timestamped, tagged entries a human may edit.

Entries are Markdown level-2 headings ``## <ISO timestamp> [TAG] ... (author: alice)`` followed
by a body (the author, :mod:`.authorship`, is left out of the title; an entry written before
authors were recorded, or by hand without one, reads with no author). The parser reads whatever a person wrote: headings without a
timestamp, text before the first heading, unknown tags. It reports what it
could not understand as ``warnings`` and never rewrites the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record import authorship
from jupyter_mlexp.core.record.fsio import append_text, read_record_text

#: The tags a person gives an entry: the one list every front door offers (the REST API serves it
#: as ``entry_tags``, the sidebar reads it there). A LESSON entry is also recorded in lessons.md.
TAGS = ("WEIRD", "HUNCH", "TODO", "RESOLVED", "LESSON")
LESSON = "LESSON"
#: Kinds of entry the tool (or code in a kernel) writes itself.
SYSTEM_TAGS = ("PLANNED", "COMPLETED", "NOTE")
KNOWN_TAGS = TAGS + SYSTEM_TAGS

HEADER = "# Journal\n\nAppend-only. Each entry: `## <ISO timestamp> [TAG]...` then its text.\n"
_TAG_RE = re.compile(r"\[([A-Za-z][A-Za-z0-9_-]*)\]")
_TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?)")


@dataclass
class JournalEntry:
    text: str
    tags: list[str]
    timestamp: str | None
    line: int  # 1-based line of the entry's heading (or first line) in JOURNAL.md
    unknown_tags: list[str] = field(default_factory=list)
    title: str = ""
    author: dict[str, str] | None = None  # {"user", "jupyterhub_user"?}; None when the heading names none

    def to_dict(self) -> dict:
        return {
            "timestamp": self.timestamp,
            "tags": self.tags,
            "unknown_tags": self.unknown_tags,
            "title": self.title,
            "text": self.text,
            "line": self.line,
            "author": self.author,
        }


@dataclass
class JournalRead:
    entries: list[JournalEntry]
    warnings: list[str]


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def normalize_tags(tags) -> list[str]:
    out: list[str] = []
    for tag in tags or ():
        t = tag.strip().strip("[]").upper()
        if t and t not in out:
            out.append(t)
    return out


def check_tags(tags) -> list[str]:
    """``tags`` normalised (``weird`` -> ``WEIRD``); an unknown one is refused with the list to choose from."""
    found = normalize_tags(tags)
    unknown = [t for t in found if t not in KNOWN_TAGS]
    if unknown:
        raise RecordError(
            f"unknown journal tag{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: use one of {', '.join(TAGS)}"
        )
    return found


def split_inline_tags(text: str) -> tuple[list[str], str]:
    """Tags written at the start of the text (``[WEIRD] loss spiked``) and the rest.

    A tag is a name of two or more characters (``[hunch]``, ``[Odd]``); a single letter is a
    checkbox (``[x] fixed …``), kept as written.
    """
    tags: list[str] = []
    rest = text.lstrip()
    while True:
        m = re.match(r"\[([A-Za-z][A-Za-z0-9_-]*)\]\s*", rest)
        if not m or not _is_tag(m.group(1)):
            break
        tags.append(m.group(1).upper())
        rest = rest[m.end() :]
    return tags, rest


def _is_tag(name: str) -> bool:
    return len(name) >= 2


_AUTHOR = "(author: "


def format_entry(text: str, tags=(), timestamp: str | None = None, author: dict[str, str] | None = None) -> str:
    inline, body = split_inline_tags(text)
    all_tags = normalize_tags([*tags, *inline])
    by = [f"{_AUTHOR}{authorship.label(author)})"] if author else []
    heading = " ".join([timestamp or now_iso(), *(f"[{t}]" for t in all_tags), *by])
    body = body.rstrip()
    # A body line that looks like an entry heading would split the entry on re-read.
    body = re.sub(r"(?m)^## ", "\\#\\# ", body)
    return f"\n## {heading}\n\n{body}\n"


def append_entry(
    path: Path, text: str, tags=(), timestamp: str | None = None, author: dict[str, str] | None = None
) -> str:
    """Append one entry (its heading naming ``author``) under the journal's lock; create the file with
    a header if missing."""
    path = Path(path)
    entry = format_entry(text, tags, timestamp, author)
    append_text(path, entry, header=HEADER)  # the header is decided under the lock: written once
    return entry


def _make_entry(heading: str | None, lines: list[str], line_no: int, warnings: list[str]) -> JournalEntry:
    title = ""
    timestamp = None
    author = None
    tags: list[str] = []
    if heading is not None:
        m = _TS_RE.match(heading.strip())
        if m:
            timestamp = m.group(1)
            title = heading.strip()[m.end() :]
        else:
            title = heading.strip()
            warnings.append(f"JOURNAL.md:{line_no}: entry heading has no ISO timestamp: {heading.strip()[:60]!r}")
        tags += [t.upper() for t in _TAG_RE.findall(title)]
        title = _TAG_RE.sub("", title).strip()
        title, author = _split_author(title)
    else:
        warnings.append(f"JOURNAL.md:{line_no}: text outside any '## <timestamp>' entry (kept as an entry)")
    body = "\n".join(lines).strip("\n")
    inline, _ = split_inline_tags(body)
    tags += inline
    tags = normalize_tags(tags)
    unknown = [t for t in tags if t not in KNOWN_TAGS]
    if unknown:
        warnings.append(
            f"JOURNAL.md:{line_no}: unknown tag(s) {', '.join('[' + t + ']' for t in unknown)} kept as written"
        )
    text = body if not title else (f"{title}\n\n{body}" if body else title)
    return JournalEntry(
        text=text.strip(),
        tags=tags,
        timestamp=timestamp,
        line=line_no,
        unknown_tags=unknown,
        title=title,
        author=author,
    )


def _split_author(title: str) -> tuple[str, dict[str, str] | None]:
    """A heading's title without its closing ``(author: ...)``, and that author (None without one)."""
    if not title.endswith(")"):
        return title, None
    k = title.rfind(_AUTHOR)
    if k < 0 or "(" in title[k + 1 : -1] or ")" in title[k:-1]:
        return title, None
    return title[:k].rstrip(), authorship.from_label(title[k + len(_AUTHOR) : -1])


def read_journal(path: Path) -> JournalRead:
    """All entries, oldest first, with warnings for what was hand-written oddly."""
    raw = read_record_text(Path(path))
    if raw is None:
        return JournalRead([], [])
    return parse_journal(raw)


def parse_journal(raw: str, first_line: int = 1, preamble: bool = True) -> JournalRead:
    """The entries of ``raw``: the whole file, or (``preamble`` False) a slice of it that starts at an
    entry heading on line ``first_line`` (:mod:`.journal_index` reads pages that way)."""
    entries: list[JournalEntry] = []
    warnings: list[str] = []
    heading: str | None = None
    start = first_line
    lines: list[str] = []
    in_preamble = preamble
    for i, line in enumerate(raw.splitlines(), first_line):
        if line.startswith("## "):
            if heading is not None or any(s.strip() for s in lines):
                entries.append(_make_entry(heading, lines, start, warnings))
            heading, start, lines, in_preamble = line[3:], i, [], False
            continue
        if (
            in_preamble
            and (line.startswith("# ") or line.startswith("Append-only."))
            and not any(s.strip() for s in lines)
        ):
            start = i + 1  # the file's own title and header line are not an entry
            continue
        if not lines and not line.strip():
            start = i + 1 if heading is None else start
            continue
        lines.append(line)
    if heading is not None or any(s.strip() for s in lines):
        entries.append(_make_entry(heading, lines, start, warnings))
    return JournalRead(entries, warnings)


#: Characters of entry text one page carries at most (shared by its entries; at least MIN_ENTRY_SHOWN each).
PAGE_TEXT_CHARS = 400_000
MIN_ENTRY_SHOWN = 500


@dataclass
class JournalPage:
    """One page of entries, newest first, after filtering; ``total`` counts all that matched."""

    entries: list[JournalEntry]
    total: int
    offset: int
    limit: int
    tags: dict[str, int]  # every tag in the journal and how many entries carry it

    def to_dict(self, text_budget: int = PAGE_TEXT_CHARS) -> dict:
        """The page as JSON. The entries' texts share ``text_budget`` characters: a long entry is cut
        (``truncated``, with its full ``length``; JOURNAL.md keeps it whole), so a page never ships megabytes."""
        each = max(MIN_ENTRY_SHOWN, text_budget // max(1, len(self.entries)))
        entries = []
        for e in self.entries:
            d = e.to_dict()
            d["length"] = len(e.text)
            d["truncated"] = len(e.text) > each
            if d["truncated"]:
                d["text"] = e.text[:each] + "…"
            d["title"] = e.title if len(e.title) <= each else e.title[:each] + "…"
            entries.append(d)
        return {
            "entries": entries,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "tags": self.tags,
        }


def page_entries(
    entries: list[JournalEntry], tag: str | None = None, query: str | None = None, offset: int = 0, limit: int = 50
) -> JournalPage:
    """Entries carrying ``tag`` and containing ``query`` (case-insensitive), newest first, sliced."""
    counts: dict[str, int] = {}
    for e in entries:
        for t in e.tags:
            counts[t] = counts.get(t, 0) + 1
    want_tag = (tag or "").strip().strip("[]").upper()
    needle = (query or "").strip().lower()
    matched = [
        e
        for e in reversed(entries)
        if (not want_tag or want_tag in e.tags) and (not needle or needle in e.text.lower())
    ]
    offset = max(0, int(offset))
    limit = max(0, int(limit))
    return JournalPage(matched[offset : offset + limit], len(matched), offset, limit, counts)
