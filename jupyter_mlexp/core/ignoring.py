"""Leaving a run out of every statistic, with a reason, and counting it again; a command that fails
(a full disk) leaves ``IGNORED_RUNS.md`` as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jupyter_mlexp.core.errors import AlreadyIgnoredError, RecordError
from jupyter_mlexp.core.record import authorship
from jupyter_mlexp.core.record import ignored as ignored_file
from jupyter_mlexp.core.record.journal import now_iso

if TYPE_CHECKING:
    from jupyter_mlexp.core.experiment import Experiment

IGNORED_DIRS = ("ignored", "_ignored")


def ignore(exp: Experiment, run_id: str, reason: str, replace: bool = False) -> ignored_file.IgnoredRun:
    """Leave ``run_id`` out of every statistic, with ``reason``. A run already ignored keeps its reason
    unless ``replace``: then the new reason is appended below the old one (IGNORED_RUNS.md keeps both
    lines, the last one counts) and the event names the reason it replaces."""
    if not reason or not reason.strip():
        raise RecordError("say why the run is ignored: a reason is required")
    exp.get_run(run_id)
    earlier = ignored_file.read_ignored(exp.ignored_md)[0].get(run_id)
    if earlier is not None and not replace:
        raise AlreadyIgnoredError(
            f"run {run_id} is already ignored: {earlier.reason!r}"
            + (f" (ignored {earlier.when})" if earlier.when else "")
            + "; to give a new reason, ignore it again with --replace (the earlier reason stays in the history)"
        )
    when = now_iso()
    who = authorship.author()
    sizes = ignored_file.add(exp.ignored_md, run_id, reason, when, who)
    extra = {"replaces": earlier.reason} if earlier is not None else {}
    try:
        exp.log_event("run_ignored", run_id=run_id, reason=reason, **extra)
    except BaseException:  # the event could not be written (a full disk): the ignore is taken back
        ignored_file.undo_add(exp.ignored_md, sizes)
        raise
    return ignored_file.IgnoredRun(run_id, " ".join(reason.split()), when, author=who)


def unignore(exp: Experiment, run_id: str) -> None:
    """Count ``run_id`` again. A command that fails (the run's folder is an ignored one, a full disk)
    leaves IGNORED_RUNS.md as it was."""
    info = exp.get_run(run_id)
    if any(part in IGNORED_DIRS for part in info.path.relative_to(exp.path).parts):
        raise RecordError(
            f"run {run_id!r} is ignored because its folder is {info.path.relative_to(exp.path)}; "
            "move it back under quick/ or full/ to count it again"
        )
    removed = ignored_file.remove(exp.ignored_md, run_id)
    if removed is None:
        raise RecordError(f"run {run_id!r} is not ignored")
    try:
        exp.log_event("run_unignored", run_id=run_id)
    except BaseException:  # the event could not be written (a full disk): the line is put back
        ignored_file.undo_remove(exp.ignored_md, removed)
        raise
    ignored_file.keep_remove(removed)
