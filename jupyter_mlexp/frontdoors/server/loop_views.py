"""JSON views of an experiment's keep/discard loops for the sidebar: attempts in order, and one attempt's diff.

Read-only, through :mod:`jupyter_mlexp.loop.loop_view` (no git, no lock). Paths are relative
to the experiment.
"""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_mlexp.core.record.workspace import inside
from jupyter_mlexp.frontdoors.server import stamped
from jupyter_mlexp.frontdoors.server.record_views import OutsideRootError, open_experiment
from jupyter_mlexp.loop import loop_view
from jupyter_mlexp.loop.loop_state import LoopFiles

MAX_PATCH_CHARS = 200_000


def list_loops(root: Path, name: str) -> dict:
    """Every loop of the experiment with its attempts (status, metric, decision, running best)."""
    exp, _ = _open_loops(root, name)
    return _loops(exp)


def list_loops_answer(root: Path, name: str) -> stamped.Answer:
    """:func:`list_loops` with its stamp (``?since=`` it answers "unchanged"), rebuilt only when a loop file changed."""
    exp, loops_dir = _open_loops(root, name)
    return stamped.keyed_answer("loops", exp.path, _loops_stamp(loops_dir), lambda: _loops(exp))


def _open_loops(root: Path, name: str):
    exp = open_experiment(root, name)
    loops_dir = exp.path / "loops"
    if loops_dir.is_symlink() and not inside(exp.path, loops_dir):
        raise OutsideRootError(f"loops/ of experiment {name!r} is a symlink leading out of it; refused")
    return exp, loops_dir


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _loops_stamp(loops_dir: Path) -> tuple:
    """A few stat calls per loop: ``loops/`` (a loop added), and per loop ``loop.json`` (rewritten at every
    attempt, atomically), ``attempts/`` (a patch written) and the figure."""
    stamp: list = [_stat(loops_dir)]
    try:
        tags = sorted(p.name for p in os.scandir(loops_dir))
    except OSError:
        return tuple(stamp)
    for tag in tags:
        folder = loops_dir / tag
        stamp += [tag, _stat(folder / "loop.json"), _stat(folder / "attempts"), _stat(folder / "progress.webp")]
    return tuple(stamp)


def _loops(exp) -> dict:
    out = []
    for view in loop_view.loops(exp):
        figure = view.get("figure")
        if figure:
            view["figure"] = Path(figure).relative_to(exp.path).as_posix()
        out.append(view)
    return {"loops": out}


def attempt_patch(root: Path, name: str, tag: str, n: int) -> dict:
    """Attempt ``n``'s diff as it ran (cut past ``MAX_PATCH_CHARS``)."""
    exp = open_experiment(root, name)
    files = LoopFiles(exp.path, tag)  # validates the tag
    if files.path.exists() and not inside(exp.path, files.path):
        raise OutsideRootError(f"loop {tag!r} of experiment {name!r} is a symlink leading out of it; refused")
    text = loop_view.attempt_patch(exp, files.tag, n)
    cut = len(text) > MAX_PATCH_CHARS
    return {"tag": files.tag, "attempt": n, "patch": text[:MAX_PATCH_CHARS], "truncated": cut}


__all__ = ["list_loops", "list_loops_answer", "attempt_patch"]
