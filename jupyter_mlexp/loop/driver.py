"""The keep/discard loop: one git-committed change per attempt, a fixed budget, a decision seed noise
cannot fool, and no attempt ever lost.

:func:`start` makes the branch ``autoresearch/TAG`` and fixes the rules; :func:`try_attempt`
commits the working tree's change, keeps its commit under ``refs/mlexp/attempts/NNNN``
and its diff as a patch, runs it once per seed (:mod:`.loop_run`), decides with
:mod:`jupyter_mlexp.loop.decision` and, unless kept, puts the branch back on the best kept
commit. Every command first :func:`recovers <recover>` an attempt a dead process left
half done. ``docs/loop.md`` walks through the protocol.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.journal import now_iso
from jupyter_mlexp.loop import attempt_run as loop_run
from jupyter_mlexp.loop import decision as rules
from jupyter_mlexp.loop.batch import confirm_beside
from jupyter_mlexp.loop.loop_figure import write_figure
from jupyter_mlexp.loop.loop_git import Repo
from jupyter_mlexp.loop.loop_state import (
    KEEP,
    Attempt,
    LoopFiles,
    LoopState,
    Settings,
    attempt_ref,
)
from jupyter_mlexp.loop.session import (
    Loop,
    _crash,
    check_budget,
    end_attempt,
    recover,
    recover_if_idle,
)


def start(
    tag: str,
    experiment: Experiment,
    *,
    seeds: Sequence[int] | None = None,
    budget: float | None = None,
    level: float | None = None,
    min_delta: float | None = None,
    confirm: int | None = None,
    simplicity_lines: int = 20,
    simplicity_gain: float | None = None,
    margin: float | None = None,
    cwd: str | os.PathLike | None = None,
    track_results: bool = False,
) -> LoopState:
    """Create ``autoresearch/TAG`` at the current commit and record the loop's rules.

    The loop's scratch files (``results.tsv``, ``lock``, ``progress.webp``) go into
    ``.git/info/exclude`` so ``git add -A`` leaves them out; ``track_results`` leaves
    ``results.tsv`` to the user.
    """
    hyp = experiment.hypothesis  # the gate: metric and direction come from the hypothesis
    crit = hyp.success_criterion
    files = LoopFiles(experiment.path, tag)
    if files.exists():
        raise MlexpError(f"experiment {experiment.name!r} already has a loop {tag!r}: pick another tag")
    check_budget(budget)
    if confirm is not None and confirm < 0:
        raise MlexpError(f"--confirm must be 0 or more seeds, got {confirm}")
    if confirm == 1:
        raise MlexpError("--confirm needs at least 2 fresh seeds (0 turns the confirmation off)")
    if level is not None and not 0.8 <= level < 1:
        raise MlexpError(f"--level must be at least 0.8 and below 1, got {level:g}")
    repo = Repo(cwd or Path.cwd(), experiment.base)
    settings = Settings(
        tag=files.tag,
        experiment=experiment.name,
        metric=crit.metric,
        higher_is_better=crit.higher_is_better,
        seeds=[int(s) for s in (seeds or hyp.seeds or range(hyp.seeds_needed))],
        level=level if level is not None else hyp.level,
        budget=budget,
        min_delta=min_delta,
        confirm=confirm,
        simplicity_lines=simplicity_lines,
        simplicity_gain=simplicity_gain,
        margin=margin,
        created=now_iso(),
    )
    settings.confirm = settings.confirm_n  # the record says the number the rule used
    settings.start_commit = repo.start_branch(settings.branch)
    state = LoopState(settings)
    files.save(state)
    scratch = [files.lock_file, files.figure] + ([] if track_results else [files.results_tsv])
    repo.ignore_locally(scratch)
    experiment.log_event("loop_started", tag=settings.tag, branch=settings.branch, settings=state.to_dict()["settings"])
    return state


def try_attempt(
    loop: Loop,
    description: str,
    command: Sequence[str],
    *,
    seeds: Sequence[int] | None = None,
    budget: float | None = None,
    revived_from: int | None = None,
    scheduler: str | None = None,
) -> Attempt:
    """Commit the change, run it once per seed, decide keep / discard / crash, restore if not kept.

    ``scheduler``: a Dask scheduler's address; the attempt's seeds (a notebook's) run there at once.
    """
    if not description or not description.strip():
        raise MlexpError('say what the attempt changes: -m "DESCRIPTION"')
    if not command:
        raise MlexpError("give the command after '--' (mlexp loop try -m DESC -- python train.py) or a NOTEBOOK")
    check_budget(budget)
    loop_run.check_command(command, loop.cwd)
    if scheduler:
        loop_run.check_scheduler(scheduler, command, "mlexp loop try -m DESC NOTEBOOK")
    t0 = time.perf_counter()
    with loop.files.busy(f"attempt running since {now_iso()}: {description[:60]}"):
        state = loop.load()
        recover(loop, state)
        attempt = _begin(loop, state, " ".join(description.split()), list(command), seeds, revived_from)
        try:
            _run(loop, state, attempt, budget if budget is not None else state.settings.budget, scheduler)
        except MlexpError as err:  # the runner refused to run it: still an attempt, and a crash
            _crash(attempt, f"could not run: {err}")
        except KeyboardInterrupt:
            _crash(attempt, "interrupted (Ctrl-C) during the attempt")
            end_attempt(loop, state, attempt)
            raise
        end_attempt(loop, state, attempt, t0)
        return attempt


def _begin(
    loop: Loop, state: LoopState, description: str, command: list[str], seeds, revived_from: int | None
) -> Attempt:
    """Check the branch, commit the change, keep it reachable; the pending attempt, saved."""
    repo, best = loop.repo, state.best()
    repo.check_clean_state()
    head = repo.head()
    n = state.next_number()
    a = Attempt(n, description, "", head, command, seeds=list(seeds or state.settings.seeds), started=now_iso())
    a.revived_from = revived_from
    if best is None:
        a.seeds = rules.baseline_seeds(state, a.seeds)
        if repo.changes():
            raise MlexpError(
                "the first attempt is the unmodified baseline: commit or revert the working tree's change "
                "first, then `mlexp loop try -m baseline -- CMD` (several --seeds measure the noise floor)"
            )
        a.commit, a.baseline = head, True
        state.pending = a
        loop.files.save(state)
        return a
    if head != best.commit and not repo.is_ancestor(best.commit, head):
        raise MlexpError(
            f"the branch moved off the best kept commit {best.commit[:12]} (attempt {best.n}): "
            f"git switch back to {state.settings.branch} at that commit"
        )
    a.parent = best.commit
    changed = repo.changes()
    if not changed and head == best.commit:
        raise MlexpError("nothing to try: the working tree has no change to the tracked files")
    state.pending = a  # saved before the commit: a kill from here on is found by the next command
    loop.files.save(state)
    try:
        # with no change in the tree, the change was committed by hand on the branch
        a.commit = repo.commit_attempt(f"attempt {n}: {description}") if changed else head
    except MlexpError:
        state.pending = None
        loop.files.save(state)
        raise
    a.lines_added, a.lines_removed = repo.lines(best.commit, a.commit)
    repo.keep_reachable(attempt_ref(n), a.commit, loop.files.patch(n))
    loop.files.save(state)
    return a


def _run(loop: Loop, state: LoopState, a: Attempt, budget: float | None, scheduler: str | None = None) -> None:
    s, t0 = state.settings, time.perf_counter()

    def progress(m: loop_run.Measured) -> None:
        a.run_ids = list(m.run_ids)
        loop.files.save(state)

    cwd = loop.cwd
    run = partial(loop_run.run_seeds, loop.experiment, a.command, metric=s.metric, attempt=a.n, budget=budget, cwd=cwd)
    m = run(a.seeds, on_run=progress, scheduler=scheduler)
    a.runs_s = m.runs_s
    a.seeds, a.values, a.run_ids, a.memory_gb = m.seeds, m.values, m.run_ids, m.memory_gb
    a.duration_s = time.perf_counter() - t0
    if m.crash:
        _crash(a, m.crash, m.log_tail)
        return
    best = state.best()
    d = rules.decide(a, best, s, rules.noise(state, a.values))
    a.status, a.reason, a.delta, a.p, a.test = d.status, d.reason, d.delta, d.p, d.test
    if d.confirm_alpha is not None and best is not None:
        confirm_beside(loop, state, a, best, d.confirm_alpha, budget=budget, scheduler=scheduler, jobs=2)
        a.duration_s = time.perf_counter() - t0


def revive(loop: Loop, n: int, command: Sequence[str] | None = None, **kwargs) -> Attempt:
    """Put attempt ``n``'s change back on the branch and try it again as a new attempt."""
    with loop.files.busy(f"reviving attempt {n}"):
        state = loop.load()
        recover(loop, state)
        old = state.get(n)
        if old.baseline:
            raise MlexpError(f"attempt {n} is the baseline: there is no change to revive")
        if old.status == KEEP and loop.repo.is_ancestor(old.commit):
            raise MlexpError(f"attempt {n} is kept: its change is already on the branch")
        loop.repo.apply(old.commit)
    return try_attempt(loop, f"revive {n}: {old.description}", list(command or old.command), revived_from=n, **kwargs)


def show(loop: Loop, n: int) -> tuple[str, list[Attempt]]:
    """Attempt ``n``'s commit and diff (from its ref, else from its patch file), after recovering an
    attempt a dead process left in flight (the attempts recovered)."""
    state, recovered, _ = recover_if_idle(loop)
    state.get(n)
    return _diff(loop, n), recovered


def _diff(loop: Loop, n: int) -> str:
    try:
        return loop.repo.show(attempt_ref(n))
    except MlexpError:
        patch = loop.files.patch(n)
        if patch.exists():
            return patch.read_text(encoding="utf-8", errors="replace")
        raise MlexpError(f"attempt {n} has no diff (the baseline, or nothing was committed)") from None


def status(loop: Loop, figure: bool = True) -> dict:
    """Best so far, counts, noise floor and the attempts; the figure written beside the record."""

    state, recovered, busy = recover_if_idle(loop)
    out = rules.summary(state)
    out["busy"] = busy
    out["recovered"] = [a.n for a in recovered]
    out["kept_aside"] = {str(a.n): a.kept_aside for a in recovered if a.kept_aside}
    _, broken = loop.files.read_results()
    out["warnings"] = [*broken, *out["warnings"]]  # the record's, then the keep rule's (what it cannot see)
    out["record"] = str(loop.files.path)
    out["figure"] = str(write_figure(state, loop.files.figure)) if figure else None
    out["attempts_list"] = [
        {
            "attempt": a.n,
            "status": a.status,
            "commit": a.commit[:12],
            "mean": a.mean,
            "sd": a.sd,
            "seeds": a.seeds,
            "delta": a.delta,
            "p": a.p,
            "lines": [a.lines_added, a.lines_removed],
            "description": a.description,
            "reason": a.reason,
        }
        for a in state.attempts
    ]
    return out
