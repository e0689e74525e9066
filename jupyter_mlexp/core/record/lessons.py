"""``experiments/lessons.md``: lessons learned, across experiments, with date and source.

Append-only Markdown, one entry per lesson::

    ## 2026-11-22T10:00:00+01:00 · experiment `lr-sweep` · run `20261122-100000-abc123`

    Warm-up matters more than the peak learning rate.

Framework-free: the ``%%journal LESSON`` magic, ``mlexp lesson`` and the report share it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record.fsio import append_text, read_record_text
from jupyter_mlexp.core.record.journal import now_iso
from jupyter_mlexp.core.record.workspace import check_name, experiments_dir

LESSONS_FILE = "lessons.md"
HEADER = (
    "# Lessons\n\nAppend-only. Each entry: `## <ISO timestamp> · experiment `NAME` · run `RUN_ID`` then the lesson.\n"
)
_HEAD_RE = re.compile(r"^## (?P<ts>\S+)(?P<rest>.*)$")
_EXP_RE = re.compile(r"experiment `([^`]+)`")
_RUN_RE = re.compile(r"run `([^`]+)`")


@dataclass
class Lesson:
    text: str
    timestamp: str | None
    experiment: str | None
    run_id: str | None
    line: int | None  # heading line in lessons.md (None for one just added)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "timestamp": self.timestamp,
            "experiment": self.experiment,
            "run_id": self.run_id,
            "line": self.line,
        }


def lessons_path(root: str | os.PathLike | None = None) -> Path:
    return experiments_dir(root) / LESSONS_FILE


def add_lesson(text: str, experiment=None, run_id: str | None = None, root: str | os.PathLike | None = None) -> Lesson:
    """Append a lesson; ``experiment`` is an :class:`~jupyter_mlexp.core.experiment.Experiment` or a name."""
    body = (text or "").strip()
    if not body:
        raise RecordError("empty lesson: write what you learned")
    name = None
    path = lessons_path(root)
    if experiment is not None:
        if isinstance(experiment, str):
            name = check_name(experiment)
        else:
            name = experiment.name
            path = experiment.base / LESSONS_FILE
    if run_id is not None:
        check_name(run_id, "run id")
    when = now_iso()
    source = [f"experiment `{name}`" if name else "no experiment"]
    if run_id:
        source.append(f"run `{run_id}`")
    # A body line that looks like a heading would split the entry on re-read.
    body = re.sub(r"(?m)^## ", "\\#\\# ", body)
    entry = f"\n## {when} · {' · '.join(source)}\n\n{body}\n"
    append_text(path, entry, header=HEADER)  # the header is decided under the lock: written once
    return Lesson(body, when, name, run_id, None)


def read_lessons(root: str | os.PathLike | None = None) -> list[Lesson]:
    """Every lesson, oldest first; hand-written entries are read as far as they go."""
    path = lessons_path(root)
    text = read_record_text(path)
    if text is None:
        return []
    lines = text.splitlines()
    out: list[Lesson] = []
    head: tuple[int, str] | None = None
    body: list[str] = []

    def close():
        if head is None:
            return
        m = _HEAD_RE.match(head[1])
        rest = m["rest"] if m else head[1]
        exp = _EXP_RE.search(rest)
        run = _RUN_RE.search(rest)
        out.append(
            Lesson(
                "\n".join(body).strip(),
                m["ts"] if m else None,
                exp.group(1) if exp else None,
                run.group(1) if run else None,
                head[0],
            )
        )

    for i, line in enumerate(lines, 1):
        if line.startswith("## "):
            close()
            head, body = (i, line), []
        elif head is not None:
            body.append(line)
    close()
    return out
