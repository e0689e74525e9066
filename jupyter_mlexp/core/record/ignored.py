"""``IGNORED_RUNS.md``: runs excluded from every statistic, each with a reason.

One Markdown list item per run: ``- `RUN_ID`: reason (ignored 2026-11-22T10:00:00+01:00)``.
Lines the parser does not recognise are kept verbatim and reported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record.fsio import atomic_write_text, check_confined, locked, read_record_text

HEADER = "# Ignored runs\n\nOne line per run: `- `RUN_ID`: reason`. Ignored runs are left out of every statistic and figure.\n\n"
# The run and its separator only: the reason and the "(ignored WHEN)" after it are cut with string
# methods. One pattern for the whole line (a lazy reason, then optional spaces and a group) tried
# every split of a long run of spaces: 20,000 lines of 200 spaces took 15 s.
_HEAD_RE = re.compile(r"\s*[-*]\s+`?(?P<run>[A-Za-z0-9][A-Za-z0-9_.\-/]*)`?\s*(?::|—|–|\s-\s)\s*")
_RUN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]*")
_WHEN = "(ignored "


def _parse_line(line: str) -> tuple[str, str, str | None] | None:
    """``- `RUN_ID`: reason (ignored WHEN)`` as (run, reason, when), in time linear in the line; None
    if it is not one."""
    if line.startswith("- `") and (j := line.find("`", 3)) > 3 and line.startswith(":", j + 1):
        run = line[3:j]  # the form mlexp writes, read without the pattern when the id is a plain one
        if _RUN_RE.fullmatch(run) is None:
            return _parse_other(line)
        rest = line[j + 2 :].strip()
    else:
        return _parse_other(line)
    return _split_when(run, rest)


def _parse_other(line: str) -> tuple[str, str, str | None] | None:
    """Any other form a person may write (`*`, no backquotes, a dash or an em dash)."""
    m = _HEAD_RE.match(line)
    if m is None:
        return None
    return _split_when(m[1], line[m.end() :].rstrip())


def _split_when(run: str, rest: str) -> tuple[str, str, str | None]:
    """The reason and the WHEN of a trailing "(ignored WHEN)", with string methods."""
    when = None
    if rest.endswith(")"):
        start = rest.rfind(")", 0, len(rest) - 1) + 1  # WHEN holds no ")"
        k = rest.find(_WHEN, start)
        if k >= 0:
            when = rest[k + len(_WHEN) : -1]
            rest = rest[:k]
    return run, rest.strip(), when


@dataclass
class IgnoredRun:
    run_id: str
    reason: str
    when: str | None = None
    line: int | None = None
    source: str = "IGNORED_RUNS.md"

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "reason": self.reason,
            "when": self.when,
            "line": self.line,
            "source": self.source,
        }


def read_ignored(path: Path) -> tuple[dict[str, IgnoredRun], list[str]]:
    """Ignored runs by id (the last line for an id wins), and warnings for lines not understood."""
    found: dict[str, IgnoredRun] = {}
    warnings: list[str] = []
    text = read_record_text(Path(path))
    if text is None:
        return found, warnings
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped[0] not in "-*":
            if stripped and not stripped.startswith("#") and not stripped.startswith("One line per run"):
                warnings.append(f"IGNORED_RUNS.md:{i}: not a '- RUN_ID: reason' line, kept as written")
            continue
        m = _parse_line(line)
        if m is None:
            warnings.append(f"IGNORED_RUNS.md:{i}: not a '- RUN_ID: reason' line, kept as written")
            continue
        run, reason, when = m
        run_id = run.rsplit("/", 1)[-1]
        found[run_id] = IgnoredRun(run_id, reason or "(no reason given)", when, i)
    return found, warnings


def add(path: Path, run_id: str, reason: str, when: str) -> tuple[int | None, int]:
    """Add the line; the file's size before (None: it did not exist) and after, for :func:`undo_add`."""
    path = Path(path)
    with locked(path):
        # undecodable bytes a person typed in another encoding stay as they were (surrogateescape)
        text = _read_exact(path)
        before = None if text is None else len(text.encode("utf-8", "surrogateescape"))
        text = HEADER if text is None else text
        if text and not text.endswith("\n"):
            text += "\n"
        reason = " ".join(reason.split())
        new = text + f"- `{run_id}`: {reason} (ignored {when})\n"
        atomic_write_text(path, new, errors="surrogateescape")
        return before, len(new.encode("utf-8", "surrogateescape"))


def undo_add(path: Path, sizes: tuple[int | None, int]) -> None:
    """Take back what :func:`add` wrote (the command failed after it), if the file is still as it left
    it: cut back to the old size, which needs no free space, or removed if it was new."""
    before, after = sizes
    path = Path(path)
    with locked(path):
        try:
            if path.stat().st_size != after:
                return  # someone wrote since: leave it
            if before is None:
                path.unlink()
            else:
                os.truncate(path, before)
        except OSError:
            pass


def remove(path: Path, run_id: str) -> bool:
    """Drop every line naming ``run_id``; other lines, hand-written ones too, stay as they are."""
    path = Path(path)
    with locked(path):
        text = _read_exact(path)
        if text is None:
            return False
        lines = text.splitlines(keepends=True)
        kept = []
        removed = False
        for line in lines:
            m = _parse_line(line.rstrip("\n"))
            if m is not None and m[0].rsplit("/", 1)[-1] == run_id:
                removed = True
                continue
            kept.append(line)
        if removed:
            atomic_write_text(path, "".join(kept), errors="surrogateescape")
        return removed


def _read_exact(path: Path) -> str | None:
    """The file's text with undecodable bytes kept (``surrogateescape``), None when missing."""
    check_confined(path)
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise RecordError(f"{path} cannot be read ({err.strerror or type(err).__name__}); fix or restore it") from None
