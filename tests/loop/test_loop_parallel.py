"""Attempts in worktrees: ``loop batch`` with ``--confirm``, ``loop try --worktree``, arms tied to the loop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conftest import PYTHON, attempt, edit, git, mlexp

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.execution import procs
from jupyter_mlexp.loop.loop_state import LoopFiles


def files(tag: str = "t1") -> LoopFiles:
    return LoopFiles(Experiment("tune").path, tag)


def prepare(root, branch: str, base: str = "autoresearch/t1", **values) -> str:
    git(root, "switch", "-q", "-c", branch, base)
    edit(root, **values)
    git(root, "commit", "-q", "-am", branch)
    sha = git(root, "rev-parse", "HEAD")
    git(root, "switch", "-q", base)
    return sha


def test_a_batch_winner_is_confirmed_on_fresh_seeds(repo, capsys):
    code, _, err = mlexp(capsys, "loop", "start", "c", "--experiment", "tune", "--seeds", "0,1,2", "--confirm", "3")
    assert code == 0, err
    attempt(capsys, "baseline")
    prepare(repo, "wide", "autoresearch/c", SHIFT=0.08)
    code, out, err = mlexp(capsys, "loop", "batch", "wide", "--json", "--", "python3", "train.py")
    assert code == 0, err
    (won,) = json.loads(out)
    # the fresh seeds follow the baseline's 0..5
    assert won["status"] == "keep" and won["confirm_seeds"] == [6, 7, 8], won["reason"]
    assert won["seeds"] == [0, 1, 2, 6, 7, 8] and "confirmed on fresh seeds" in won["reason"]
    arms = [r.manifest["params"] for r in Experiment("tune").runs() if "loop_batch" in (r.manifest["params"] or {})]
    assert sorted(p["arm"] for p in arms) == ["1"] * 6 + ["reference"] * 6  # the reference re-ran them too


def test_an_arm_is_the_loops_own_process_not_a_front_door(started, capsys):
    from jupyter_mlexp.loop.batch import _arm_process
    from jupyter_mlexp.loop.session import open_loop

    spec = _arm_process(open_loop(), started, "1", ["python3", "train.py"], [0], "b", None)
    assert "jupyter_mlexp.loop" in spec["argv"] and not any("frontdoors" in a for a in spec["argv"])


def _arm_runs(arm: str):
    return [r for r in Experiment("tune").runs() if str((r.manifest.get("params") or {}).get("arm")) == arm]


def test_a_killed_batch_takes_its_arms_along_and_is_recovered_with_their_runs(started, capsys):
    root = started
    attempt(capsys, "baseline")
    prepare(root, "slow", SHIFT=0.05, SLEEP=60.0)
    cmd = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "loop", "batch", "slow", "--", "python3", "train.py"]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not any(r.status == "running" for r in _arm_runs("1")):
            time.sleep(0.1)
        (run,) = _arm_runs("1")
        time.sleep(0.5)  # its first lines printed
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    pid, started = run.manifest["pid"], run.manifest.get("pid_start")
    end = time.monotonic() + 10
    while time.monotonic() < end and not procs.is_gone(pid, started):
        time.sleep(0.1)
    assert procs.is_gone(pid, started), "the arm's run outlived the loop"
    st = json.loads(mlexp(capsys, "loop", "status", "--json", "--no-figure")[1])
    assert st["recovered"] == [1]
    a = files().load().get(1)
    assert a.run_ids == [run.run_id] and "step 2 loss" in a.log_tail


def test_try_worktree_runs_the_attempt_aside_while_the_tree_is_edited(started, capsys):
    root = started
    attempt(capsys, "baseline")
    base = git(root, "rev-parse", "HEAD")
    edit(root, SHIFT=0.08, SLEEP=1.0)
    cmd = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "loop", "try", "--worktree", "-m", "wide", "--json"]
    proc = subprocess.Popen([*cmd, "--", "python3", "train.py"], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not _arm_runs("1"):
            time.sleep(0.1)
        # the change left the tree for the attempt's commit: the next idea is edited from the best kept one
        assert "SHIFT = 0.0\n" in (root / "train.py").read_text()
        (root / "notes.txt").write_text("next idea\n")
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    won = json.loads(out)
    assert won["status"] == "keep" and won["values"] and proc.returncode == 0, won["reason"]
    assert git(root, "rev-parse", "HEAD") == won["commit"] and git(root, "rev-parse", "HEAD~1") == base
    assert "SHIFT = 0.08" in (root / "train.py").read_text()
    assert {r.manifest["git"]["commit"] for r in _arm_runs("1")} == {won["commit"]}
    assert (root / "notes.txt").exists() and "mlexp-worktrees" not in git(root, "worktree", "list")


def test_a_try_killed_during_its_confirmation_is_recovered_with_the_arms_runs(started, capsys):
    root = started
    attempt(capsys, "baseline")  # seeds 0..5
    # a clear win whose confirmation seeds (6 and up) hang: the kill lands in the confirmation
    text = (root / "train.py").read_text().replace("time.sleep(SLEEP)", "time.sleep(60 if seed >= 6 else 0)")
    (root / "train.py").write_text(text)
    edit(root, SHIFT=0.05)
    cmd = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "loop", "try", "-m", "win", "--", PYTHON, "train.py"]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not any(r.status == "running" for r in _arm_runs("1")):
            time.sleep(0.1)
        running = [r for r in _arm_runs("1") if r.status == "running"]
        assert running, "the confirmation never started"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    pid, started_at = running[0].manifest["pid"], running[0].manifest.get("pid_start")
    st = json.loads(mlexp(capsys, "loop", "status", "--json", "--no-figure")[1])
    assert st["recovered"] == [1] and st["best"]["attempt"] == 0
    assert procs.is_gone(pid, started_at), "the confirmation's run outlived the loop"
    a = files().load().get(1)
    assert a.status == "crash" and running[0].run_id in a.run_ids and len(a.run_ids) >= 4  # its 3 seeds too
    assert "mlexp-worktrees" not in git(root, "worktree", "list")
    assert "SHIFT = 0.0\n" in (root / "train.py").read_text()  # back on the best kept commit
