"""What a person wrote into ``report.ipynb`` survives the next ``mlexp report``.

Every cell the report generates carries ``metadata.mlexp = {"generated": true, "sha": …}``
(the hash of its source when written). On a rebuild:

- a cell without that mark was added by hand: it is kept, placed after the generated
  cell it followed (found again by its heading, else by its position), else at the end;
- a generated cell whose source no longer matches its hash was edited by hand: the
  build is refused (:class:`ReportEditedError`, naming the cells) unless ``force``;
  with ``force`` the old notebook is first copied to ``report.ipynb.bak``;
- an old notebook that cannot be read, or one written before the marks existed, is
  copied to ``report.ipynb.bak`` before it is replaced: nothing a person wrote is lost.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record.fsio import check_confined
from jupyter_mlexp.report.report_errors import ReportError

BACKUP_SUFFIX = ".bak"


class ReportEditedError(ReportError):
    """A generated cell of ``report.ipynb`` was edited by hand; rebuilding would overwrite it."""

    http_status = 409


def _sha(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def _key(cell) -> str:
    """A generated cell's anchor: its first line (a heading or a ``show(...)`` call)."""
    return (cell.get("source") or "").split("\n", 1)[0].strip()


def mark_generated(nb: nbformat.NotebookNode) -> None:
    """Stamp each cell of a freshly built report as generated, with the hash of its source."""
    for cell in nb.cells:
        cell.setdefault("metadata", {})["mlexp"] = {"generated": True, "sha": _sha(cell.source)}


@dataclass
class _Old:
    """What the previous report holds beyond what the report generates."""

    added: list[tuple[tuple[str, int] | None, object]] = field(default_factory=list)
    edited: list[int] = field(default_factory=list)
    backup: str = ""  # why the old file is copied aside even without an edit


def _read_old(path: Path) -> _Old:
    old = _Old()
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as err:  # any unreadable file is kept aside, never parsed further
        old.backup = f"it could not be read ({type(err).__name__})"
        return old
    if not any((c.get("metadata") or {}).get("mlexp", {}).get("generated") for c in nb.cells):
        old.backup = "it was written without cell marks, so hand edits cannot be told apart"
        return old
    anchor: tuple[str, int] | None = None
    seen: dict[str, int] = {}
    for i, cell in enumerate(nb.cells, 1):
        mark = (cell.get("metadata") or {}).get("mlexp") or {}
        if not mark.get("generated"):
            old.added.append((anchor, cell))
            continue
        if mark.get("sha") != _sha(cell.get("source") or ""):
            old.edited.append(i)
        key = _key(cell)
        seen[key] = seen.get(key, 0) + 1
        anchor = (key, seen[key])
    return old


def _merge(nb: nbformat.NotebookNode, added: list) -> None:
    """Put the hand-added cells back, each after the generated cell it followed before."""
    if not added:
        return
    positions: dict[tuple[str, int], int] = {}
    seen: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        key = _key(cell)
        seen[key] = seen.get(key, 0) + 1
        positions[(key, seen[key])] = i
    after: dict[int, list] = {}
    for anchor, cell in added:
        where = -1 if anchor is None else positions.get(anchor, len(nb.cells) - 1)
        after.setdefault(where, []).append(cell)
    merged = list(after.get(-1, []))
    for i, cell in enumerate(nb.cells):
        merged.append(cell)
        merged += after.get(i, [])
    nb.cells = merged


def refuse_links(*paths: Path) -> None:
    """Refuse to read or write the report through a symlink (it could lead anywhere: a file outside
    the workspace read into the record, or overwritten by the backup copy)."""
    for path in paths:
        check_confined(path)  # the REST API: a link out of the root is a 403
        if path.is_symlink():
            raise RecordError(f"{path} is a symlink; the report neither reads nor writes through one: remove it")


def keep_hand_edits(nb: nbformat.NotebookNode, target: Path, force: bool = False) -> str | None:
    """Fold what a person added to the old ``target`` into ``nb``; refuse over hand-edited generated cells.

    Returns a one-line note when the old file was copied aside (to ``report.ipynb.bak``), else None.
    """
    mark_generated(nb)
    refuse_links(target, target.with_name(target.name + BACKUP_SUFFIX))
    if not target.exists():
        return None
    old = _read_old(target)
    backup = target.with_name(target.name + BACKUP_SUFFIX)
    if old.edited and not force:
        cells = ", ".join(str(i) for i in old.edited[:10]) + (" …" if len(old.edited) > 10 else "")
        raise ReportEditedError(
            f"{target} has hand edits in generated cell(s) {cells}: rebuilding would overwrite them. "
            f"Move your text into a new cell (new cells are kept), or rebuild with --force "
            f"(the old notebook is kept as {backup.name})"
        )
    _merge(nb, old.added)
    why = old.backup or ("--force over hand-edited generated cells" if old.edited else "")
    if not why:
        return None
    shutil.copy2(target, backup)
    return f"the previous {target.name} was kept as {backup.name}: {why}"
