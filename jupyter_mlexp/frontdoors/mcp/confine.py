"""The one workspace the server works in: the folder it was started in, or ``--root``.

Every path a tool is given (a notebook, a data file, a command's path arguments) must resolve
inside it, symlinks followed, as the REST API refuses paths outside its root. This confines what
the tools are pointed at; a command still runs with the rights of the user who started the server.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.workspace import ENV_ROOT, inside


class OutsideWorkspaceError(MlexpError):
    http_status = 403


class Workspace:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise MlexpError(f"--root {root} is not a folder")

    def pin(self) -> None:
        """Make this folder the record's root for this process and every ``mlexp`` it starts."""
        os.environ[ENV_ROOT] = str(self.root)

    def path(self, given: str, what: str = "path") -> Path:
        """``given`` (relative to the root, or absolute) if it stays inside the workspace, else refused."""
        p = Path(given).expanduser()
        p = (p if p.is_absolute() else self.root / p).resolve()
        if not inside(self.root, p):
            raise OutsideWorkspaceError(
                f"{what} {given!r} is outside the workspace {self.root}: give a path inside it "
                "(or start the server with --root on a folder that holds it)"
            )
        return p

    def relative(self, path: str | os.PathLike) -> str:
        """``path`` relative to the root, for answers (no absolute paths of this machine in them)."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def command(self, argv: Sequence[str]) -> list[str]:
        """A command's arguments after the program: each one that names a path must stay inside."""
        if not argv:
            raise MlexpError("give the command as a list, e.g. command=['python', 'train.py']")
        for arg in argv[1:]:
            if arg.startswith("-") or "\n" in arg:
                continue
            if os.sep in arg or (self.root / arg).exists():
                self.path(arg, "command argument")
        return list(argv)
