"""Adding to the journal: one entry appended to ``JOURNAL.md`` with its author and tags, its event in the
research log, and a LESSON copied to ``lessons.md``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record import authorship, lessons
from jupyter_mlexp.core.record import journal as journal_file
from jupyter_mlexp.core.record.fsio import make_folder

if TYPE_CHECKING:
    from jupyter_mlexp.core.experiment import Experiment


def add_entry(exp: Experiment, text: str, tags: Iterable[str] = (), event: bool = True) -> str:
    """Append an entry to JOURNAL.md; one tagged LESSON is also recorded in ``lessons.md``."""
    if not text or not text.strip():
        raise RecordError("empty journal entry: write what you noticed")
    tags = journal_file.check_tags(tags)  # an unknown tag is refused with the list, before anything is written
    make_folder(exp.path)
    entry = journal_file.append_entry(exp.journal_md, text, tags, author=authorship.author())
    inline, body = journal_file.split_inline_tags(text)
    all_tags = journal_file.normalize_tags([*tags, *inline])
    if event:
        exp.log_event("journal_entry", tags=all_tags, text=text[:500])
    if journal_file.LESSON in all_tags:
        lessons.add_lesson(body, experiment=exp)
    return entry
