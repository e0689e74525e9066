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
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
        started["child"] = subprocess.Popen(sleeper).pid
        started["session"] = subprocess.Popen(sleeper, start_new_session=True).pid  # left the process group
        workers = [multiprocessing.get_context("fork").Process(target=time.sleep, args=(600,)) for _ in range(2)]
        for w in workers:
            w.start()
        started["pool"] = [w.pid for w in workers]
        threading.Thread(target=stop.wait, args=(600,), name="cell-worker").start()
        try:
            time.sleep(600)
        except BaseException as err:
            return err
        return None

    result = execute_run(experiment, cell, budget=1.0)
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
