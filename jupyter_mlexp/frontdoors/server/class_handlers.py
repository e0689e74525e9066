"""``GET /mlexp/api/class``: a collected class, read-only, for JupyterLab's class view.

``?dir=FOLDER`` (relative to the server's root, as JupyterLab names files): the class workspace's
latest snapshot as :func:`jupyter_mlexp.classroom.class_view.class_view` states it (the class
report's own table and audit). Without ``dir``: the class workspaces found under the root, for the
"Open Class View" command to offer. A folder outside the server's root (``..``, an absolute path
elsewhere, a symlink leading out) is refused; nothing is written.

The audit of a class reads every student's record (seconds for thirty students): the answer is kept
while the latest snapshot, its ``collection.json`` and the workspace's ``course.yaml`` are unchanged
(a snapshot is never rewritten; a re-collect adds one).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import tornado.web

from jupyter_mlexp.classroom import class_view as view
from jupyter_mlexp.classroom.collect import INDEX, snapshots
from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record import course as course_file
from jupyter_mlexp.core.record.workspace import inside
from jupyter_mlexp.frontdoors.server.base import BadRequest, MlexpHandler
from jupyter_mlexp.frontdoors.server.record_views import OutsideRootError

MAX_KEPT = 8


class NotAClassError(MlexpError):
    http_status = 404


_KEPT: dict[Path, tuple[tuple, str]] = {}
_LOCK = threading.Lock()


def class_folder(root: Path, rel: str) -> Path:
    """``rel`` under the server's ``root``, refused unless it stays inside and is a class workspace."""
    try:
        folder = (root / rel.lstrip("/")).resolve() if rel not in ("", ".") else root
    except (ValueError, OSError) as err:  # a loop of symlinks
        raise BadRequest(f"{rel!r} is not a folder name ({err})") from None
    if not inside(root, folder):
        raise OutsideRootError(f"{rel!r} is not inside the server's root; open a class workspace under it")
    if not view.is_class_workspace(folder):
        raise NotAClassError(
            f"{rel or '.'!r} is not a class workspace (no snapshots/NNNN/{INDEX}): collect into it with "
            f"`mlexp class collect SOURCE... --out {rel or '.'}`"
        )
    return folder


def _stamp(folder: Path) -> tuple:
    latest = snapshots(folder)[-1]
    stats: list[tuple[int, int, int] | None] = []
    for path in (latest / INDEX, folder / course_file.FILENAME, *(folder / n for n in view.REPORT_FILES)):
        try:
            st = os.stat(path)
            stats.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            stats.append(None)
    return (latest.name, *stats)


def class_answer(root: Path, rel: str) -> str:
    """The class view's JSON text for the class workspace ``rel`` under ``root``, kept while it is unchanged."""
    folder = class_folder(root, rel)
    stamp = _stamp(folder)
    kept = _KEPT.get(folder)
    if kept and kept[0] == stamp:
        return kept[1]
    text = json.dumps({"dir": folder.relative_to(root).as_posix() or ".", **view.class_view(folder)})
    with _LOCK:
        if len(_KEPT) >= MAX_KEPT:
            _KEPT.clear()
        _KEPT[folder] = (stamp, text)
    return text


def class_workspaces(root: Path) -> dict:
    return {"workspaces": view.find_class_workspaces(root)}


class ClassHandler(MlexpHandler):
    @property
    def root(self) -> Path:
        # the instructor's class workspace is a folder under the server's root, wherever MLEXP_ROOT points
        return Path(self.settings.get("server_root_dir") or ".").expanduser().resolve()

    @tornado.web.authenticated
    async def get(self):
        rel = self.get_query_argument("dir", None)
        if rel is None:
            await self.answer(class_workspaces)
        else:
            await self.answer(class_answer, rel)


ROUTES = [("class", ClassHandler)]
