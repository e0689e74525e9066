"""Journal pages from the offset index equal pages from the whole parse, through appends and hand edits."""

from __future__ import annotations

import os
import random

import pytest

from jupyter_mlexp.core.record import journal_index
from jupyter_mlexp.core.record.journal import HEADER, append_entry, page_entries, read_journal

ODD = [
    HEADER,
    "Some notes written before any entry.\n",
    "\n## 2026-01-02T10:00:00+00:00 [WEIRD]\n\nloss spiked\n",
    "\n## no timestamp here [HUNCH]\n\nmaybe warmup\n",
    "\n## 2026-01-03 [ODDTAG]\n\n[TODO] inline tag and \\#\\# an escaped heading\n",
    "\n## 2026-01-04T09:00:00Z\n\n[x] a checkbox, not a tag\n\n\n",
    "\n## 2026-01-05T09:00:00Z [RESOLVED]\n",
]


def _same(path, **kw) -> None:
    read = read_journal(path)
    want = page_entries(read.entries, kw.get("tag"), kw.get("query"), kw.get("offset", 0), kw.get("limit", 50))
    got, warnings = journal_index.journal_page(path, **kw)
    assert [e.to_dict() for e in got.entries] == [e.to_dict() for e in want.entries]
    assert (got.total, got.offset, got.limit, got.tags) == (want.total, want.offset, want.limit, want.tags)
    assert warnings == journal_index._capped(list(dict.fromkeys(read.warnings)))


def _pages(path) -> None:
    total = len(read_journal(path).entries)
    for offset in (0, 1, 3, max(0, total - 2), total + 5):
        for limit in (1, 2, 50):
            _same(path, offset=offset, limit=limit)
    for tag in ("WEIRD", "hunch", "[TODO]", "ODDTAG", "NOPE"):
        _same(path, tag=tag, limit=2)
    _same(path, query="spiked")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_pages_equal_the_whole_parse_on_an_oddly_written_journal(tmp_path, newline):
    path = tmp_path / "JOURNAL.md"
    path.write_bytes("".join(ODD).replace("\n", newline).encode() + b"\n## 2026-01-06 bad \xff byte\n\nx\n")
    _pages(path)


def test_appends_extend_the_index_and_hand_edits_rebuild_it(tmp_path):
    path = tmp_path / "JOURNAL.md"
    path.write_text("".join(ODD), encoding="utf-8")
    _pages(path)
    before = journal_index._CACHE[str(path)]
    rng = random.Random(1)
    for i in range(30):
        append_entry(path, f"entry {i} " + "word " * rng.randint(0, 40), tags=[rng.choice(["WEIRD", "TODO", "HUNCH"])])
        _same(path, limit=5)
        _same(path, tag="TODO", offset=1, limit=3)
    after = journal_index._CACHE[str(path)]
    assert after.starts[: len(before.starts) - 1] == before.starts[:-1]  # extended, not rebuilt
    # a hand edit in the middle (longer text), and one of the same length that changes a tag
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("loss spiked", "loss spiked badly, twice"), encoding="utf-8")
    _pages(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[WEIRD]", "[HUNCH]", 1), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # even with an older mtime: the stamp differs
    _pages(path)
    path.write_text(text[: len(text) // 2], encoding="utf-8")  # cut in half
    _pages(path)


def test_lone_carriage_returns_are_read_whole_and_a_missing_journal_is_empty(tmp_path):
    path = tmp_path / "JOURNAL.md"
    path.write_bytes("".join(ODD).replace("\n", "\r").encode())
    _pages(path)
    assert not journal_index._CACHE[str(path)].plain
    page, warnings = journal_index.journal_page(tmp_path / "none.md")
    assert (page.total, page.entries, warnings) == (0, [], [])


def test_warnings_are_capped_with_a_count(tmp_path):
    path = tmp_path / "JOURNAL.md"
    path.write_text("".join(f"\n## heading {i} without time\n\nx\n" for i in range(50)), encoding="utf-8")
    _, warnings = journal_index.journal_page(path)
    assert len(warnings) == journal_index.MAX_WARNINGS + 1 and warnings[-1] == "… and 30 more warnings"
