"""Who did it: the author recorded with every event of the record and every run.

The Unix user this process runs as is the author (the file system enforces it). On JupyterHub,
``JUPYTERHUB_USER`` is recorded beside it: a user can set that variable to anything, so it is a
label for people, never a permission.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

ENV_HUB_USER = "JUPYTERHUB_USER"


def unix_user() -> str:
    """The name of the user this process runs as (its numeric id where it has no name)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        try:
            return os.getlogin()
        except OSError:
            return str(getattr(os, "geteuid", lambda: "?")())


def author() -> dict[str, str]:
    """``{"user": UNIX_USER}``, with ``"jupyterhub_user"`` when that variable is set."""
    out = {"user": unix_user()}
    hub = os.environ.get(ENV_HUB_USER, "").strip()
    if hub:
        out["jupyterhub_user"] = hub[:100]
    return out


_HUB_LABEL = ", JupyterHub user "
_UNSAFE = str.maketrans({c: " " for c in "()[]`\n\r"})


def label(who: dict[str, str]) -> str:
    """``alice`` or ``alice, JupyterHub user bob``: the author as the Markdown record files write it
    (IGNORED_RUNS.md lines, JOURNAL.md headings). No parenthesis, bracket, backquote or line break,
    so the line it ends reads back as it was written."""

    def clean(name: object) -> str:
        return " ".join(str(name or "").translate(_UNSAFE).split())[:100]

    user = clean(who.get("user")) or "?"
    hub = clean(who.get("jupyterhub_user"))
    return user + (_HUB_LABEL + hub if hub else "")


def from_label(text: str) -> dict[str, str] | None:
    """The author a :func:`label` names; None for an empty one."""
    user, _, hub = text.partition(_HUB_LABEL)
    if not user.strip():
        return None
    out = {"user": user.strip()}
    if hub.strip():
        out["jupyterhub_user"] = hub.strip()
    return out


def user_of(record: object) -> str | None:
    """The Unix user an event or manifest names as its author, if any."""
    if isinstance(record, dict):
        a = record.get("author")
        if isinstance(a, dict) and isinstance(a.get("user"), str):
            return a["user"]
    return None


_shared_checked: set[str] = set()


def share_with_group_folder(root: Path) -> bool:
    """In a setgid group folder (a course's or a team's share), what this process creates from now on
    is group-writable whatever the umask: the group bits are taken out of the umask (once per folder).
    Without it the first user's ``experiments/`` (mode 755 under the default umask 022) locks the
    others out. Whether ``root`` is such a folder."""
    key = str(root)
    try:
        shared = bool(os.stat(root).st_mode & stat.S_ISGID)
    except OSError:
        return False
    if shared and key not in _shared_checked:
        _shared_checked.add(key)
        mask = os.umask(0o022)
        os.umask(mask & ~0o070)
    return shared


def init_shared(root: Path, group: str | None = None) -> Path:
    """``mlexp init --shared``: make ``root/experiments`` a folder its group can share: owned by
    ``group`` (else the root's group), setgid (new files and folders inherit the group), group
    read/write/search."""

    root = Path(root)
    folder = root / "experiments"
    folder.mkdir(parents=True, exist_ok=True)
    for path in (root, folder):
        if group:
            shutil.chown(path, group=group)
        elif path is folder:
            os.chown(path, -1, os.stat(root).st_gid)
        os.chmod(path, (os.stat(path).st_mode & 0o7777) | stat.S_ISGID | 0o070)
    share_with_group_folder(root)
    return folder
