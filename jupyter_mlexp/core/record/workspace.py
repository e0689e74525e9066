"""Where the record lives: the workspace root and safe names inside it.

The ``experiments/`` folder sits at the root of the enclosing git repository,
else in the current directory; ``MLEXP_ROOT`` overrides both. The same rule
serves the magics, the CLI, the server extension and papermill runs.

A relative ``MLEXP_ROOT`` is resolved once, against the working directory of the
first process that reads it (the ``jupyter lab`` server, the ``mlexp`` command),
and written back absolute into that process's environment, so every kernel or
script it starts gets the same folder wherever its notebook lives.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from jupyter_mlexp.core.errors import InvalidNameError

ENV_ROOT = "MLEXP_ROOT"
EXPERIMENTS_DIR = "experiments"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def pin_root() -> Path | None:
    """``$MLEXP_ROOT`` as an absolute path, written back so processes started from here inherit it."""
    env = os.environ.get(ENV_ROOT)
    if not env:
        return None
    root = Path(env).expanduser().resolve()
    if env != str(root):
        os.environ[ENV_ROOT] = str(root)
    return root


def find_root(start: str | os.PathLike | None = None) -> Path:
    """The workspace root: ``$MLEXP_ROOT``, else the enclosing git work tree, else ``start``."""
    pinned = pin_root()
    if pinned is not None:
        return pinned
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def experiments_dir(root: str | os.PathLike | None = None) -> Path:
    base = Path(root).resolve() if root is not None else find_root()
    return base / EXPERIMENTS_DIR


def check_name(name: str, what: str = "experiment name") -> str:
    """Return ``name`` if it is a safe single path component, else raise.

    Letters, digits, ``_``, ``-`` and ``.``; no leading dot; no ``..``; at most 128 chars.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or ".." in name:
        raise InvalidNameError(
            f"invalid {what} {name!r}: use letters, digits, '_', '-' and '.', "
            "start with a letter or digit, no '/' or '..' (at most 128 characters)"
        )
    return name


def name_from_path(path: str | os.PathLike) -> str | None:
    """A safe experiment name from a notebook's file name (``Digits (draft 2).ipynb`` -> ``Digits-draft-2``)."""
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", Path(path).stem).strip("-.")[:128]
    return name or None


def inside(base: Path, candidate: Path) -> bool:
    """True when ``candidate`` (symlinks resolved) stays inside ``base``."""
    try:
        candidate.resolve().relative_to(base.resolve())
    except ValueError:
        return False
    return True
