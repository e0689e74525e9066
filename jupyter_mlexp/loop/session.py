"""An open loop: its experiment, files and repository, and how an attempt ends or is recovered.

What :mod:`.driver` (one attempt at a time) and :mod:`.batch` (several side by side) share.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jupyter_mlexp.core.errors import MlexpError, RecordBusyError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.journal import now_iso
from jupyter_mlexp.core.record.workspace import experiments_dir
from jupyter_mlexp.loop import attempt_run as loop_run
from jupyter_mlexp.loop import decision as rules
from jupyter_mlexp.loop.loop_figure import write_figure
from jupyter_mlexp.loop.loop_git import Repo
from jupyter_mlexp.loop.loop_state import CRASH, KEEP, Attempt, LoopFiles, LoopState, attempt_ref, edits_ref


@dataclass
class Loop:
    """An open loop: its experiment, its files and the repository it commits to."""

    experiment: Experiment
    files: LoopFiles
    repo: Repo
    #: where commands run: the directory the loop was opened from
    cwd: Path

    def load(self) -> LoopState:
        return self.files.load()


def check_budget(budget: float | None) -> None:
    if budget is not None and not budget > 0:
        raise MlexpError(f"--budget must be a positive number of seconds, got {budget:g}")


def open_loop(cwd: str | os.PathLike | None = None, root: str | os.PathLike | None = None) -> Loop:
    """The loop whose branch is checked out in the repository at ``cwd``."""
    base = experiments_dir(root)
    repo = Repo(cwd or Path.cwd(), base)
    tag = repo.loop_tag()
    found = [e for e in Experiment.all(root) if LoopFiles(e.path, tag).exists()]
    if not found:
        raise MlexpError(f"no loop {tag!r} under {base}: start it with `mlexp loop start {tag} --experiment NAME`")
    if len(found) > 1:
        raise MlexpError(f"loop {tag!r} is recorded in several experiments: {', '.join(e.name for e in found)}")
    return Loop(found[0], LoopFiles(found[0].path, tag), repo, Path(cwd or Path.cwd()).resolve())


def _crash(a: Attempt, reason: str, tail: str = "") -> None:
    a.status, a.reason = CRASH, reason
    a.log_tail = tail or a.log_tail


def end_attempt(loop: Loop, state: LoopState, a: Attempt, t0: float | None = None, restore: bool = True) -> None:
    """Restore the branch unless kept, then record: state, results row, research log event, figure."""
    best = state.best()
    if restore and a.status != KEEP and best is not None:
        a.kept_aside = loop.repo.restore(best.commit, edits_ref(a.n)) or a.kept_aside
    a.ended = now_iso()
    if t0 is not None:
        a.overhead_s = round(time.perf_counter() - t0 - a.runs_s, 4)
    state.attempts.append(a)
    state.pending = None
    loop.files.save(state)
    loop.files.append_result(a)
    loop.experiment.log_event(
        "loop_attempt",
        tag=state.settings.tag,
        attempt=a.n,
        status=a.status,
        reason=a.reason,
        commit=a.commit,
        parent=a.parent,
        seeds=a.seeds,
        values=a.values,
        delta=a.delta,
        p=a.p,
        test=a.test,
        noise_floor=rules.noise_floor(state),
        confirm_seeds=a.confirm_seeds,
        reference_values=a.reference_values,
        lines=[a.lines_added, a.lines_removed],
        run_ids=a.run_ids,
    )
    refresh_figure(loop, state)


def refresh_figure(loop: Loop, state: LoopState) -> None:
    """Draw ``progress.webp`` again from the record just written, so it never lags the attempts.

    The attempt is recorded before this runs: a figure that cannot be written (a full disk, a
    ``loops/`` folder that leads out) loses nothing, and ``mlexp loop status`` draws it again and
    says why it cannot."""
    with contextlib.suppress(OSError, MlexpError):
        write_figure(state, loop.files.figure)


def recover(loop: Loop, state: LoopState) -> list[Attempt]:
    """Attempts a dead process left in flight: recorded as ``crash`` (patches kept), the branch restored.

    The runs the attempt had started are found by their parameter (``attempt=N``, or a batch's
    ``arm=N``) and kept with it, the last lines of the last one's log as its log tail.
    """
    done = _recover_batch(loop, state)
    a = state.pending
    if a is None:
        return done
    repo = loop.repo
    if not a.commit and repo.head() != a.parent and repo.parent_of(repo.head()) == a.parent:
        a.commit = repo.head()  # killed between the commit and saving it
    if a.commit and not a.baseline:
        repo.keep_reachable(attempt_ref(a.n), a.commit, loop.files.patch(a.n))
    _runs_in_flight(loop, state, a, "attempt", a.n)
    _runs_in_flight(loop, state, a, "arm", a.n)  # a confirmation's runs
    a.duration_s = _lived(loop, a)
    a.seeds = []  # as for any crash: the seeds column lists the seeds that gave a value
    _crash(a, "the loop's process died during the attempt (recovered by the next mlexp loop command)", a.log_tail)
    if not a.commit:  # nothing was committed: the change is still in the working tree, left as it is
        a.reason += "; nothing had been committed, the change is still in the working tree"
    end_attempt(loop, state, a)
    return [*done, a]


def _runs_in_flight(loop: Loop, state: LoopState, a: Attempt, param: str, value: object) -> None:
    """Add the runs the attempt started (``param`` = ``value``, started after it) to its run ids and
    take the log tail of the last one."""
    since = _when(a.started)
    taken = {i for b in state.attempts for i in b.run_ids}
    found = [
        r
        for r in loop.experiment.runs()
        if str(r.record.params.get(param)) == str(value)
        and r.run_id not in taken
        and (since is None or (_when(r.record.started) or since) >= since)
    ]
    a.run_ids = list(dict.fromkeys([*a.run_ids, *(r.run_id for r in found)]))
    if found:
        a.log_tail = loop_run.tail_of_run_dir(found[-1].path) or a.log_tail


def _lived(loop: Loop, a: Attempt) -> float:
    """How long a killed attempt ran: from its start to the last write in its runs' folders (or the
    loop's state file), not the 0.0 a dead process never got to replace."""
    try:
        started = datetime.fromisoformat(a.started).timestamp() if a.started else None
    except ValueError:
        started = None
    if started is None:
        return a.duration_s
    last = 0.0
    with contextlib.suppress(OSError):
        last = loop.files.state_json.stat().st_mtime
    ids = set(a.run_ids)
    for r in loop.experiment.runs():
        if r.run_id in ids:
            for f in r.path.iterdir():
                with contextlib.suppress(OSError):
                    last = max(last, f.stat().st_mtime)
    return round(max(a.duration_s, last - started, 0.0), 4)


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text).replace(microsecond=0) if text else None
    except ValueError:
        return None


def _recover_batch(loop: Loop, state: LoopState) -> list[Attempt]:
    """A parallel batch left in flight: its arms' process groups killed, each attempt a crash (with the
    runs it started), its worktrees removed."""
    groups = list(state.arm_groups)
    for group in groups:
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    state.arm_groups = []
    done = list(state.batch)
    for a in done:
        state.batch = [b for b in state.batch if b.n != a.n]
        _runs_in_flight(loop, state, a, "arm", a.n)
        a.duration_s = _lived(loop, a)
        _crash(a, "the loop's process died during the batch (recovered by the next mlexp loop command)", a.log_tail)
        a.seeds = []
        end_attempt(loop, state, a, restore=False)
    if done or groups:  # a batch's, or an attempt's confirmation
        shutil.rmtree(loop.repo.common_dir / "mlexp-worktrees", ignore_errors=True)
        loop.repo.prune_worktrees()
    return done


def recover_if_idle(loop: Loop) -> tuple[LoopState, list[Attempt], bool]:
    """The loop's state after recovering a dead attempt; ``busy`` when another command holds the loop."""
    try:
        with loop.files.busy(f"mlexp loop status since {now_iso()}"):
            state = loop.load()
            return state, recover(loop, state), False
    except RecordBusyError:
        return loop.load(), [], True
