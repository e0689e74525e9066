"""A sweep always finishes: a run that leaves threads running, a script whose grandchild holds on."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time

import pytest
from runner_helpers import manifests, mlexp_cmd

from jupyter_mlexp.runner import kernels
from jupyter_mlexp.runner.kernels import KernelPool


class _FakeKernel:
    """Enough of a Kernel for the pool's bookkeeping."""

    def __init__(self):
        self.runs = 0

    async def alive(self):
        return True

    async def shutdown(self):
        return 0.0


@pytest.fixture
def fake_kernels(monkeypatch):
    async def start(kernel_name, cwd, env, reuse=True, timeout=60.0):
        await asyncio.sleep(0.01)
        return _FakeKernel()

    monkeypatch.setattr(kernels.Kernel, "start", staticmethod(start))


def test_the_pool_replaces_every_kernel_it_threw_away(fake_kernels):
    """Two workers, four runs, every run's kernel thrown away: the fourth run got no kernel (it
    waited on a kernel that the third run had taken) and the sweep hung at 3/4."""

    async def sweep():
        pool = KernelPool(2, env={}, reuse=True, demand=4)
        pool.fill()
        k1, k2 = await pool.acquire(), await pool.acquire()
        await pool.release(k1, reusable=False)  # a thread left running: replaced
        third = asyncio.ensure_future(pool.acquire())
        await asyncio.sleep(0)
        await pool.release(k2, reusable=False)
        fourth = asyncio.ensure_future(pool.acquire())
        got = await asyncio.wait_for(asyncio.gather(third, fourth), timeout=5)
        await pool.close()
        return got

    k3, k4 = asyncio.run(sweep())
    assert k3 is not k4


NON_DAEMON = "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,), name='left-behind').start()"


@pytest.mark.timeout(240)
def test_a_sweep_whose_runs_leave_threads_finishes(nb, ws):
    path = nb(
        "threads.ipynb",
        "%load_ext jupyter_mlexp",
        NON_DAEMON,
        "import jupyter_mlexp as mlexp\nmlexp.log_metric('acc', lr)",
    )
    cmd = mlexp_cmd("run", str(path), "--experiment", "exp", "--full", "--jobs", "2", "--seeds", "0,1,2,3")
    proc = subprocess.run(cmd, cwd=ws, capture_output=True, text=True, timeout=180)  # a hang fails here
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    runs = manifests(ws, mode="full")
    assert [m["status"] for m in runs] == ["completed"] * 4
    for m in runs:  # the record says why its kernel was not reused
        assert any("left-behind" in reason for reason in m["kernel_replaced"]), m.get("kernel_replaced")


SCRIPT = textwrap.dedent(
    """
    import os, subprocess, sys, time
    # a grandchild in a session of its own (it left the process group), holding our stdout
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"], start_new_session=True)
    # and one in the group
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    print("acc: 0.5", flush=True)
    """
)


@pytest.mark.timeout(120)
def test_a_script_whose_children_hold_its_output_finishes(ws):
    (ws / "train.py").write_text(SCRIPT)
    cmd = mlexp_cmd("run", "--experiment", "exp", "--", sys.executable, "train.py")
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ws, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert time.monotonic() - t0 < 30
    (m,) = manifests(ws, mode="quick")
    assert m["status"] == "completed"
    left = m["left_running"]
    assert len(left["killed"]) == 2, left
    for pid in left["killed"]:
        assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _is_subreaper() -> bool:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    flag = ctypes.c_int(0)
    assert libc.prctl(37, ctypes.byref(flag), 0, 0, 0) == 0  # PR_GET_CHILD_SUBREAPER
    return bool(flag.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreapers are Linux's")
def test_a_script_run_in_process_leaves_the_process_as_it_was(workspace):
    """mlexp run -- CMD adopts orphans only while its run goes. A process that stayed a subreaper (a server, a
    test process calling the library) would keep later orphans: a kernel whose runner was killed would see it
    as its parent instead of init and never exit (two runner tests failed so, after another ran a script)."""
    from jupyter_mlexp import Experiment
    from jupyter_mlexp.runner.script import run_script

    exp = Experiment("e")
    exp.register("The script prints a score.\nsuccess: score >= 0.5\nmetrics: score\n")
    assert not _is_subreaper()
    (result,) = run_script([sys.executable, "-c", "print('score: 0.9')"], exp, mode="quick", seeds=[0])
    assert result.status == "completed"
    assert not _is_subreaper()
