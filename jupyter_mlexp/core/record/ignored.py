"""``IGNORED_RUNS.md``: runs excluded from every statistic, each with a reason.

One Markdown list item per run: ``- `RUN_ID`: reason (ignored 2026-11-22T10:00:00+01:00 by alice)``,
with ``, JupyterHub user NAME`` after the Unix user when that variable was set (:mod:`.authorship`).
A line without ``by`` (written before authors were recorded) reads with no author.
Lines the parser does not recognise are kept verbatim and reported.
"""

from __future__ import annotations

import functools
import gc
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record import authorship
from jupyter_mlexp.core.record.fsio import atomic_write_text, check_confined, locked, read_record_text, write_error

HEADER = "# Ignored runs\n\nOne line per run: `- `RUN_ID`: reason`. Ignored runs are left out of every statistic and figure.\n\n"
# The run and its separator only: the reason and the "(ignored WHEN)" after it are cut with string
# methods. One pattern for the whole line (a lazy reason, then optional spaces and a group) tried
# every split of a long run of spaces: 20,000 lines of 200 spaces took 15 s.
_HEAD_RE = re.compile(r"\s*[-*]\s+`?(?P<run>[A-Za-z0-9][A-Za-z0-9_.\-/]*)`?\s*(?::|—|–|\s-\s)\s*")
_RUN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]*")
_WHEN = "(ignored "
# The line as mlexp writes it, matched in one call: the reason starts and ends with a visible
# character and holds no parenthesis, the WHEN holds none either, so this reads exactly what
# _parse_line reads, in time linear in the line (each class stops at the first "(" or ")").
# Every other line takes _parse_line.
# One row per line of the file (lines joined by "\n"): (run, reason, when) for a written line, three
# empty strings for any other.
_ROWS_RE = re.compile(
    r"^(?:- `([A-Za-z0-9][A-Za-z0-9_.\-/]*)`: ([^()\s](?:[^()\n]*[^()\s])?) \(ignored ([^()\n]*)\)|.*)$", re.M
)
_BY = " by "


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


@dataclass(slots=True)
class IgnoredRun:
    run_id: str
    reason: str
    when: str | None = None
    line: int | None = None
    source: str = "IGNORED_RUNS.md"
    author: dict[str, str] | None = None  # {"user", "jupyterhub_user"?}; None for a line written without one

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "reason": self.reason,
            "when": self.when,
            "line": self.line,
            "source": self.source,
            "author": self.author,
        }


# The last files read, by path: (text, runs, warnings). A listing of an unchanged file (the sidebar
# polls, `runs` then `ignored` in one command) compares the text it read with the one kept, a memory
# compare, instead of parsing it again. Keyed by the text itself, so no change can be missed.
_read_cache: dict[str, tuple[str, dict[str, IgnoredRun], list[str]]] = {}
_CACHE_FILES = 8


def read_ignored(path: Path) -> tuple[dict[str, IgnoredRun], list[str]]:
    """Ignored runs by id (the last line for an id wins), and warnings for lines not understood.
    Linear in the file: lines as mlexp writes them are read by one compiled pattern each; a file
    read before and unchanged since is not parsed again. The :class:`IgnoredRun` values may be
    shared between calls: read them, do not change them."""
    text = read_record_text(Path(path))
    if text is None:
        return {}, []
    key = str(path)
    kept = _read_cache.get(key)
    if kept is not None and kept[0] == text:
        return dict(kept[1]), list(kept[2])
    collecting = gc.isenabled()
    gc.disable()  # 200,000 new objects would start full collections over and over: a quarter of the time
    try:
        found, warnings = _parse(text)
    finally:
        if collecting:
            gc.enable()
    _read_cache.pop(key, None)
    if len(_read_cache) >= _CACHE_FILES:
        _read_cache.pop(next(iter(_read_cache)))
    _read_cache[key] = (text, found, warnings)
    return dict(found), list(warnings)


def _parse(text: str) -> tuple[dict[str, IgnoredRun], list[str]]:
    found: dict[str, IgnoredRun] = {}
    warnings: list[str] = []
    lines = text.splitlines()
    rows = _ROWS_RE.findall("\n".join(lines))  # one C call for the whole file
    if len(rows) != len(lines):  # pragma: no cover - one row per line by construction
        rows = [("", "", "")] * len(lines)
    for i, (run, reason, when) in enumerate(rows, 1):
        if not run:
            line = lines[i - 1]
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or stripped[0] not in "-*":
                if stripped and not stripped.startswith("#") and not stripped.startswith("One line per run"):
                    warnings.append(f"IGNORED_RUNS.md:{i}: not a '- RUN_ID: reason' line, kept as written")
                continue
            parsed = _parse_line(line)
            if parsed is None:
                warnings.append(f"IGNORED_RUNS.md:{i}: not a '- RUN_ID: reason' line, kept as written")
                continue
            run, reason, maybe = parsed
            reason = reason or "(no reason given)"
            if maybe is None:
                found[run.rsplit("/", 1)[-1]] = IgnoredRun(run.rsplit("/", 1)[-1], reason, None, i)
                continue
            when = maybe
        if "/" in run:
            run = run.rsplit("/", 1)[-1]
        when, by, who = when.partition(_BY)  # written with its author (:mod:`.authorship`)
        found[run] = IgnoredRun(run, reason, when, i, "IGNORED_RUNS.md", _author(who) if by else None)
    return found, warnings


@functools.lru_cache(maxsize=256)
def _author(label: str) -> dict[str, str] | None:
    """The author a line names (one dict per name, shared by its lines: read it, do not change it)."""
    return authorship.from_label(label)


def add(
    path: Path, run_id: str, reason: str, when: str, author: dict[str, str] | None = None
) -> tuple[int | None, int]:
    """Add the line (with its author, when given); the file's size before (None: it did not exist) and
    after, for :func:`undo_add`."""
    path = Path(path)
    with locked(path):
        # undecodable bytes a person typed in another encoding stay as they were (surrogateescape)
        text = _read_exact(path)
        before = None if text is None else len(text.encode("utf-8", "surrogateescape"))
        text = HEADER if text is None else text
        if text and not text.endswith("\n"):
            text += "\n"
        reason = " ".join(reason.split())
        by = _BY + authorship.label(author) if author else ""
        new = text + f"- `{run_id}`: {reason} (ignored {when}{by})\n"
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


def remove(path: Path, run_id: str) -> tuple[Path, int] | None:
    """Drop every line naming ``run_id``; other lines, hand-written ones too, stay as they are.
    None when no line names it; else what :func:`undo_remove` needs to take it back and
    :func:`keep_remove` to confirm it: the earlier file, kept aside as a second name for it (a hard
    link: putting it back needs no free space, so a command that fails on a full disk after this
    can still leave the record as it was), and the new file's inode."""
    path = Path(path)
    with locked(path):
        text = _read_exact(path)
        if text is None:
            return None
        lines = text.splitlines(keepends=True)
        kept = []
        removed = False
        for line in lines:
            m = _parse_line(line.rstrip("\n"))
            if m is not None and m[0].rsplit("/", 1)[-1] == run_id:
                removed = True
                continue
            kept.append(line)
        if not removed:
            return None
        earlier = _aside(path)
        try:
            atomic_write_text(path, "".join(kept), errors="surrogateescape")
        except BaseException:
            keep_remove((earlier, -1))
            raise
        return earlier, os.stat(path).st_ino


def _aside(path: Path) -> Path:
    """A second, unique name for ``path`` in its folder (a hard link, or a copy where links are refused)."""

    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".before", dir=path.parent)
    os.close(fd)
    aside = Path(name)
    try:
        os.unlink(aside)
        os.link(path, aside)
    except OSError:
        try:
            shutil.copyfile(path, aside)
        except OSError as err:
            aside.unlink(missing_ok=True)
            raise write_error(path, err) from None
    return aside


def undo_remove(path: Path, token: tuple[Path, int]) -> None:
    """Put back the file :func:`remove` replaced (the command failed after it), if no one wrote it since."""
    earlier, inode = token
    path = Path(path)
    with locked(path):
        try:
            if os.stat(path).st_ino == inode:
                os.replace(earlier, path)
                return
        except OSError:
            pass
        keep_remove(token)


def keep_remove(token: tuple[Path, int]) -> None:
    """The removal stands: drop the earlier file kept aside."""
    try:
        os.unlink(token[0])
    except OSError:
        pass


def _read_exact(path: Path) -> str | None:
    """The file's text with undecodable bytes kept (``surrogateescape``), None when missing."""
    check_confined(path)
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise RecordError(f"{path} cannot be read ({err.strerror or type(err).__name__}); fix or restore it") from None
