"""A %%run_quick budget ends what the cell started: subprocesses, worker processes, a grandchild that left the
process group; the record lists them and names the threads still alive."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jupyter_mlexp.core.execution.quickrun import execute_run


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.timeout(60)
def test_the_budget_ends_the_cells_processes_and_names_its_threads(experiment):
    started: dict = {}
    stop = threading.Event()

    def cell():
        # the thread first: under load, starting the processes can take most of the budget
        threading.Thread(target=stop.wait, args=(600,), name="cell-worker").start()
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
        started["child"] = subprocess.Popen(sleeper).pid
        started["session"] = subprocess.Popen(sleeper, start_new_session=True).pid  # left the process group
        workers = [multiprocessing.get_context("fork").Process(target=time.sleep, args=(600,)) for _ in range(2)]
        for w in workers:
            w.start()
        started["pool"] = [w.pid for w in workers]
        try:
            time.sleep(600)
        except BaseException as err:
            return err
        return None

    result = execute_run(experiment, cell, budget=2.0)  # room for the starts on a loaded machine
    stop.set()
    pids = [started["child"], started["session"], *started["pool"]]
    try:
        assert result.status == "timeout"
        assert not any(_alive(pid) for pid in pids)
        manifest = json.loads((Path(result.path) / "run.json").read_text())
        ended = manifest["budget_ended"]
        assert {p["pid"] for p in ended["killed"]} >= set(pids)
        assert ended["threads_alive"] == ["cell-worker"]
    finally:
        for pid in pids:  # the old code left them running
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _new_alive(before: set[int]) -> set[int]:
    from jupyter_mlexp.core.execution.proctree import _descendant_pids

    return {pid for pid in _descendant_pids() if pid not in before and _alive(pid)}


def _until(check, seconds: float = 15.0) -> bool:
    """Poll ``check`` until it holds or the deadline passes (no sleep is an assertion)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.mark.timeout(60)
def test_the_budget_ends_a_pool_that_respawns_its_workers(experiment):
    """A pool the cell keeps (no ``with``): its handler thread starts a new worker for each one that dies,
    so ending the workers found once left their replacements running."""
    from jupyter_mlexp.core.execution.proctree import _descendant_pids

    before = set(_descendant_pids())
    kept: dict = {}

    def cell():
        pool = multiprocessing.get_context("fork").Pool(2)
        kept["pool"] = pool
        pool.map_async(time.sleep, [600, 600])
        try:
            time.sleep(600)
        except BaseException as err:
            return err
        return None

    result = execute_run(experiment, cell, budget=1.0)
    pool = kept["pool"]
    try:
        assert result.status == "timeout"
        assert _until(lambda: not pool._worker_handler.is_alive())  # it no longer starts workers
        assert _until(lambda: not _new_alive(before)), _new_alive(before)
        manifest = json.loads((Path(result.path) / "run.json").read_text())
        assert len(manifest["budget_ended"]["killed"]) >= 2
    finally:
        pool.terminate()
        for pid in _new_alive(before):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["exec", "fork"])
def test_the_budget_ends_a_grandchild_that_left_the_tree(experiment, how):
    """A double fork (the middle process exits, its child is handed to init) and a new session: the
    grandchild is no longer below the kernel, so walking the kernel's descendants missed it."""
    got: dict = {}

    def cell():
        if how == "exec":
            out = subprocess.run(
                ["/bin/sh", "-c", "setsid sleep 600 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True
            )
            got["pid"] = int(out.stdout.strip())
        else:
            r, w = os.pipe()
            middle = os.fork()
            if middle == 0:  # pragma: no cover - runs in the child
                os.setsid()
                grandchild = os.fork()
                if grandchild == 0:
                    os.close(r)
                    os.write(w, str(os.getpid()).encode())
                    os.close(w)
                    time.sleep(600)
                os._exit(0)
            os.close(w)
            got["pid"] = int(os.read(r, 64))
            os.close(r)
            os.waitpid(middle, 0)
        try:
            time.sleep(600)
        except BaseException as err:
            return err
        return None

    result = execute_run(experiment, cell, budget=1.0)
    pid = got["pid"]
    try:
        assert result.status == "timeout"
        assert _until(lambda: not _alive(pid))
        manifest = json.loads((Path(result.path) / "run.json").read_text())
        assert pid in {p["pid"] for p in manifest["budget_ended"]["killed"]}
    finally:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
