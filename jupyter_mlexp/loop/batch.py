"""Parallel attempts: several prepared commits at once, each in its own git worktree, judged
against the best kept commit re-run alongside them (the same contention for every arm).

``mlexp loop batch REF [REF ...] --jobs N -- COMMAND`` (or ``... NOTEBOOK``): every REF is a commit on top of the
best kept one (prepared on a branch of its own); each becomes an attempt. Each arm (the
reference and every candidate) runs as ``mlexp run --seeds ... -- COMMAND`` (or NOTEBOOK) in a worktree
under ``.git/mlexp-worktrees/``, whose ``experiments`` folder is a link to the record, so
its runs land in the experiment with the worktree's commit as their provenance. At most
one attempt of a batch is kept (the largest improvement among the winners); the branch
then fast-forwards to it. The others are discarded; their refs and patches stay.

With ``--scheduler ADDRESS`` (notebooks) every arm's ``mlexp run`` sends its runs to that Dask
cluster, all arms at once unless ``--jobs`` says otherwise: the cluster's workers interleave
the arms' runs, so the reference still shares the candidates' contention.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.journal import now_iso
from jupyter_mlexp.loop import attempt_run as loop_run
from jupyter_mlexp.loop import decision as rules
from jupyter_mlexp.loop.loop_state import CRASH, DISCARD, KEEP, Attempt, LoopState, attempt_ref, edits_ref
from jupyter_mlexp.loop.session import Loop, check_budget, end_attempt, recover
from jupyter_mlexp.runner.process import tie_to_parent

POLL_S = 0.1


def try_batch(
    loop: Loop,
    refs: Sequence[str],
    command: Sequence[str],
    *,
    jobs: int | None = None,
    seeds: Sequence[int] | None = None,
    budget: float | None = None,
    scheduler: str | None = None,
) -> list[Attempt]:
    """Run every prepared commit in ``refs`` and the best kept commit in parallel; decide each.

    ``jobs``: arms at a time (default 2 on this machine, all of them with a ``scheduler``).
    """
    _check_batch(loop, refs, command, jobs, budget, scheduler)
    with loop.files.busy(f"batch of {len(refs)} attempts running since {now_iso()}"):
        state = loop.load()
        recover(loop, state)
        attempts = _plan(loop, state, refs, list(command), seeds)
        best = state.best()
        assert best is not None
        arms = {"reference": best.commit, **{str(a.n): a.commit for a in attempts}}
        batch_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
        at_a_time = jobs or (len(arms) if scheduler else 2)
        t0 = time.perf_counter()
        try:
            run = partial(_run_arms, loop, state, command=list(command), jobs=at_a_time, scheduler=scheduler)
            measured = run(arms, seeds=attempts[0].seeds, batch_id=batch_id, budget=budget or state.settings.budget)
            alpha = _judge(state, attempts, measured, best, time.perf_counter() - t0)
            winner = next((a for a in attempts if a.status == KEEP), None)
            if winner is not None and alpha is not None:
                b = budget or state.settings.budget
                confirm_beside(loop, state, winner, best, alpha, budget=b, scheduler=scheduler, jobs=at_a_time)
                winner.duration_s = time.perf_counter() - t0
        except KeyboardInterrupt:
            for a in attempts:
                a.status, a.reason = CRASH, "interrupted (Ctrl-C) during the batch"
                _finish(loop, state, a)
            raise
        winner = next((a for a in attempts if a.status == KEEP), None)
        if winner is not None:
            winner.kept_aside = loop.repo.fast_forward(winner.commit, edits_ref(winner.n))
        for a in attempts:
            _finish(loop, state, a)
        return attempts


def try_worktree(
    loop: Loop,
    description: str,
    command: Sequence[str],
    *,
    seeds: Sequence[int] | None = None,
    budget: float | None = None,
    scheduler: str | None = None,
) -> Attempt:
    """``mlexp loop try --worktree``: one attempt run in a worktree of its own while the main tree is edited.

    The working tree's change becomes the attempt's commit on top of the best kept one without
    moving the branch (its ref and patch kept as for any attempt), and leaves the main tree, which
    is then free for the next idea. The attempt runs as one arm of a batch and is judged like
    ``try`` against the best kept attempt's recorded seeds (``--confirm`` included). Kept: the
    branch fast-forwards to it (an uncommitted edit to the same files is stashed first, and said).
    """
    if not description or not description.strip():
        raise MlexpError('say what the attempt changes: -m "DESCRIPTION"')
    _check_batch(loop, ["HEAD"], command, None, budget, scheduler)
    t0 = time.perf_counter()
    with loop.files.busy(f"attempt running in a worktree since {now_iso()}: {description[:60]}"):
        state = loop.load()
        recover(loop, state)
        best, repo, s = state.best(), loop.repo, state.settings
        if best is None:
            raise MlexpError("run the unmodified baseline first: mlexp loop try -m baseline -- CMD")
        repo.check_clean_state()
        if repo.head() != best.commit:
            raise MlexpError(f"--worktree starts from the best kept commit {best.commit[:12]}: the branch moved off it")
        n = state.next_number()
        a = Attempt(n, " ".join(description.split()), "", best.commit, list(command), started=now_iso())
        a.seeds = list(seeds or s.seeds)
        a.commit, paths = repo.commit_aside(f"attempt {n}: {a.description}")
        a.lines_added, a.lines_removed = repo.lines(best.commit, a.commit)
        state.batch.append(a)
        loop.files.save(state)
        repo.keep_reachable(attempt_ref(n), a.commit, loop.files.patch(n))
        repo.reset_paths(paths)  # the change lives in its commit now: the tree is free for the next idea
        run = partial(_run_arms, loop, state, command=list(command), jobs=1, scheduler=scheduler)
        try:
            _run_aside(loop, state, a, best, run, budget or s.budget, t0, scheduler)
        except KeyboardInterrupt:
            a.status, a.reason = CRASH, "interrupted (Ctrl-C) during the attempt"
            _finish(loop, state, a)
            raise
        if a.status == KEEP:
            a.kept_aside = repo.fast_forward(a.commit, edits_ref(n))
        state.batch = [b for b in state.batch if b.n != a.n]
        end_attempt(loop, state, a, t0, restore=False)
        return a


def _run_aside(loop: Loop, state: LoopState, a: Attempt, best: Attempt, run, budget, t0: float, scheduler) -> None:
    """Run the attempt's arm, then decide as ``try`` does (a screened win confirmed on fresh seeds)."""
    s = state.settings
    name = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    m = run({str(a.n): a.commit}, seeds=a.seeds, batch_id=name, budget=budget)[str(a.n)]
    a.seeds, a.values, a.run_ids, a.memory_gb = m.seeds, m.values, m.run_ids, m.memory_gb
    a.runs_s = a.duration_s = time.perf_counter() - t0
    if m.crash:
        a.status, a.reason, a.log_tail = CRASH, m.crash, m.log_tail
        return
    d = rules.decide(a, best, s, rules.noise(state, a.values))
    a.status, a.reason, a.delta, a.p, a.test = d.status, d.reason, d.delta, d.p, d.test
    if d.confirm_alpha is not None:
        confirm_beside(loop, state, a, best, d.confirm_alpha, budget=budget, scheduler=scheduler, jobs=2)
        a.runs_s = a.duration_s = time.perf_counter() - t0


def confirm_beside(
    loop: Loop,
    state: LoopState,
    a: Attempt,
    best: Attempt,
    alpha: float,
    *,
    budget: float | None,
    scheduler: str | None,
    jobs: int,
) -> None:
    """A screened win and the best kept commit re-run side by side on fresh seeds (each in a worktree
    of its own, as a batch's arms); ``a`` stays kept only if the fresh difference alone passes at
    ``alpha`` (:func:`.core.loop.confirm`). The fresh values join the attempt's; the reference's are
    kept with it. A crash of either arm makes the attempt a crash."""
    fresh = rules.fresh_seeds(state, state.settings.confirm_n)
    batch_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    arms = {"reference": best.commit, str(a.n): a.commit}
    t0 = time.perf_counter()
    measured = _run_arms(
        loop, state, arms, command=a.command, seeds=fresh, batch_id=batch_id, jobs=jobs, budget=budget,
        scheduler=scheduler,
    )  # fmt: skip
    c, ref = measured[str(a.n)], measured["reference"]
    a.run_ids += c.run_ids
    a.reference_run_ids = ref.run_ids
    a.runs_s += time.perf_counter() - t0  # the arms' runs, side by side: running, not the loop's overhead
    if c.crash or ref.crash:
        what = c.crash or f"the re-run of attempt {best.n} beside it: {ref.crash}"
        a.status, a.reason, a.log_tail = CRASH, f"confirmation {what}", c.log_tail or ref.log_tail
        return
    a.confirm_seeds, a.seeds, a.values = c.seeds, a.seeds + c.seeds, a.values + c.values
    a.reference_seeds, a.reference_values = ref.seeds, ref.values
    loop_noise = rules.noise(state, a.values, ref.values)
    rules.confirm(a, best.n, c.values, ref.values, alpha, state.settings, loop_noise)


def _check_batch(loop: Loop, refs, command, jobs, budget, scheduler) -> None:
    """Refuse a batch that cannot run before anything is committed."""
    if not refs:
        raise MlexpError("name the prepared commits to try (branches or shas on top of the best kept commit)")
    if jobs is not None and jobs < 1:
        raise MlexpError(f"--jobs must be at least 1, got {jobs}")
    if not command:
        raise MlexpError("give the command after '--' (mlexp loop batch REF ... -- python train.py) or a NOTEBOOK")
    check_budget(budget)
    loop_run.check_command(command, loop.cwd)
    if scheduler:
        loop_run.check_scheduler(scheduler, command, "mlexp loop batch REF ... NOTEBOOK")


def _judge(state, attempts: list[Attempt], measured: dict, best: Attempt, wall_s: float) -> float | None:
    """Each candidate against the reference run alongside; at most one kept (the α its confirmation
    needs, if any)."""
    for a in attempts:
        m = measured[str(a.n)]
        a.seeds, a.values, a.run_ids, a.memory_gb = m.seeds, m.values, m.run_ids, m.memory_gb
        a.duration_s = wall_s
        if m.crash:
            a.status, a.reason, a.log_tail = CRASH, m.crash, m.log_tail
    return decide_batch(state, attempts, measured["reference"], best)


def _plan(loop: Loop, state: LoopState, refs: Sequence[str], command: list[str], seeds) -> list[Attempt]:
    best, repo = state.best(), loop.repo
    if best is None:
        raise MlexpError("run the unmodified baseline first: mlexp loop try -m baseline -- CMD")
    repo.check_clean_state()
    if repo.head() != best.commit or repo.changes():
        raise MlexpError(
            f"the branch must be clean at the best kept commit {best.commit[:12]} (attempt {best.n}): "
            "prepare each change as a commit of its own on another branch"
        )
    attempts = []
    for ref in refs:
        sha = repo.resolve(ref)
        if sha == best.commit or not repo.is_ancestor(best.commit, sha):
            raise MlexpError(f"{ref!r} is not a change on top of the best kept commit {best.commit[:12]}")
        a = Attempt(state.next_number(), repo.subject(sha), sha, best.commit, command, started=now_iso())
        a.seeds = list(seeds or state.settings.seeds)
        a.lines_added, a.lines_removed = repo.lines(best.commit, sha)
        state.batch.append(a)
        attempts.append(a)
    loop.files.save(state)
    for a in attempts:
        repo.keep_reachable(attempt_ref(a.n), a.commit, loop.files.patch(a.n))
    return attempts


def decide_batch(state: LoopState, attempts: list[Attempt], ref: loop_run.Measured, best: Attempt) -> float | None:
    """Each candidate against the reference re-run alongside it, the screen's α divided among the
    candidates; at most one kept: the largest gain (the α its confirmation needs, if any)."""
    reference = Attempt(best.n, best.description, best.commit, best.parent, seeds=ref.seeds, values=ref.values)
    measured = [a for a in attempts if a.status != CRASH]
    loop_noise = rules.noise(state, ref.values, *(a.values for a in measured))
    alpha: dict[int, float | None] = {}
    for a in measured:
        if ref.crash:
            a.status, a.reason = CRASH, f"the reference re-run of attempt {best.n} crashed: {ref.crash}"
            continue
        a.reference_seeds, a.reference_values, a.reference_run_ids = ref.seeds, ref.values, ref.run_ids
        d = rules.decide(a, reference, state.settings, loop_noise, candidates=len(attempts))
        a.status, a.delta, a.p, a.test = d.status, d.delta, d.p, d.test
        a.reason = d.reason.replace(f"attempt {best.n}", f"attempt {best.n} re-run alongside")
        alpha[a.n] = d.confirm_alpha
    winners = sorted((a for a in attempts if a.status == KEEP), key=lambda a: -(a.delta or 0.0))
    for other in winners[1:]:
        other.status = DISCARD
        other.reason = f"{other.reason}; attempt {winners[0].n} of the same batch did better"
    return alpha.get(winners[0].n) if winners else None


def _finish(loop: Loop, state: LoopState, a: Attempt) -> None:
    state.batch = [b for b in state.batch if b.n != a.n]
    end_attempt(loop, state, a, restore=False)


def _run_arms(
    loop: Loop,
    state: LoopState,
    arms: dict[str, str],
    *,
    command: list[str],
    seeds: list[int],
    batch_id: str,
    jobs: int,
    budget: float | None,
    scheduler: str | None = None,
) -> dict[str, loop_run.Measured]:
    """Each arm as a runner process in its own worktree, ``jobs`` at a time; what each measured.

    The arms' process groups are saved in the loop's state while they run, so that a recovery after
    a kill of this process can end any the kernel's parent-death signal did not.
    """
    base = loop.repo.common_dir / "mlexp-worktrees" / batch_id
    trees = {arm: base / arm for arm in arms}

    def running(groups: list[int]) -> None:
        state.arm_groups = groups
        loop.files.save(state)

    try:
        for arm, sha in arms.items():
            _worktree(loop, trees[arm], sha)
        specs = [_arm_process(loop, trees[arm], arm, command, seeds, batch_id, budget, scheduler) for arm in arms]
        _pool(specs, jobs, running)
    finally:
        for tree in trees.values():
            if tree.exists():
                loop.repo.remove_worktree(tree)
        shutil.rmtree(base, ignore_errors=True)
    runs = [r for r in loop.experiment.runs() if r.record.params.get("loop_batch") == batch_id]
    out = {}
    for arm in arms:
        mine = [r for r in runs if str(r.record.params.get("arm")) == arm]
        out[arm] = loop_run.measured_from_runs(mine, state.settings.metric)
    return out


def _worktree(loop: Loop, path: Path, sha: str) -> None:
    loop.repo.add_worktree(path, sha)
    record = path / (loop.repo.record_rel or "experiments")
    if loop.repo.record_rel and not record.exists():
        record.symlink_to(loop.experiment.base, target_is_directory=True)


def _arm_process(
    loop: Loop, tree: Path, arm: str, command: list[str], seeds: list[int], batch_id: str, budget, scheduler=None
) -> dict:
    """How to start one arm: ``python -m jupyter_mlexp.loop SPEC`` (:mod:`jupyter_mlexp.loop.__main__`)."""
    rel = loop.cwd.relative_to(loop.repo.root) if loop.cwd.is_relative_to(loop.repo.root) else Path()
    spec = {
        "experiment": loop.experiment.name,
        "seeds": list(seeds),
        "params": {"loop_batch": batch_id, "arm": arm},
        "budget": budget or None,
        "scheduler": scheduler,
        "command": list(command),
        "label": f"mlexp loop (batch {batch_id}, arm {arm})",
    }
    argv = [sys.executable, "-m", "jupyter_mlexp.loop", json.dumps(spec)]
    root = tree if loop.repo.record_rel else loop.experiment.base.parent
    return {"argv": argv, "cwd": tree / rel, "env": {**os.environ, "MLEXP_ROOT": str(root)}}


def _pool(specs: list[dict], jobs: int, running_groups: Callable[[list[int]], None] | None = None) -> None:
    """Run the processes ``jobs`` at a time, each in a process group of its own tied to this process
    (it gets SIGTERM if this one dies); Ctrl-C interrupts them all (their runs end interrupted)."""
    waiting = list(specs)
    running: list[subprocess.Popen] = []
    groups: list[int] = []
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                s = waiting.pop(0)
                running.append(
                    subprocess.Popen(
                        s["argv"],
                        cwd=s["cwd"],
                        env=s["env"],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                        preexec_fn=tie_to_parent,
                    )
                )
            running = [p for p in running if p.poll() is None]
            if running_groups is not None and [p.pid for p in running] != groups:
                groups = [p.pid for p in running]
                running_groups(groups)
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        for p in running:
            p.send_signal(signal.SIGINT)
        for p in running:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        raise
