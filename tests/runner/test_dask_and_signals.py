"""The Dask path on a real LocalCluster, an unreachable scheduler, Ctrl-C and a killed runner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from runner_helpers import manifests, mlexp_cmd

from jupyter_mlexp.frontdoors.cli import main
from jupyter_mlexp.runner import run_sweep
from jupyter_mlexp.runner.executors import SchedulerError

pytestmark = pytest.mark.slow

TRAIN = "import jupyter_mlexp as mlexp\nmlexp.log_metric('acc', lr * epochs)"


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


def _comparable(m: dict) -> tuple:
    return (
        m["mode"],
        m["status"],
        json.dumps(m["params"], sort_keys=True),
        m["seed"],
        m["metrics_summary"]["acc"]["last"],
        m["criterion_check"],
        m["parameters_cell"],
    )


def test_dask_path_produces_the_same_records_as_the_local_executor(nb, ws, cluster):
    path = nb("train.ipynb", TRAIN)
    local = run_sweep(
        path, experiment="exp", mode="full", grid={"lr": [0.1, 0.2]}, seeds=[0, 1], jobs=2, progress=False
    )
    dask = run_sweep(
        path,
        experiment="exp",
        mode="full",
        grid={"lr": [0.1, 0.2]},
        seeds=[0, 1],
        scheduler=cluster.scheduler_address,
        progress=False,
    )
    assert [r.status for r in dask.runs] == ["completed"] * 4
    by_sweep: dict = {}
    for m in manifests(ws, mode="full"):
        by_sweep.setdefault(m["sweep_id"], []).append(m)
    local_m, dask_m = by_sweep[local.sweep_id], by_sweep[dask.sweep_id]
    assert sorted(map(_comparable, local_m)) == sorted(map(_comparable, dask_m))
    assert {m["executor"] for m in dask_m} == {"dask"}
    assert {m["pid"] for m in dask_m} != {os.getpid()}  # created on the workers
    assert all((ws / "experiments/exp/full" / m["run_id"] / "output.ipynb").exists() for m in dask_m)
    assert len((ws / "experiments/exp/results.tsv").read_text().splitlines()) == 1 + 8
    assert not (ws / "experiments/exp/quick").exists()


def test_dask_path_records_failures_too(nb, ws, cluster):
    path = nb("fail.ipynb", "raise RuntimeError('nope')")
    code = main(["run", str(path), "--experiment", "exp", "--scheduler", cluster.scheduler_address, "--seeds", "0,1"])
    assert code == 1
    assert [m["status"] for m in manifests(ws)] == ["failed", "failed"]
    assert all(m["error"]["name"] == "RuntimeError" for m in manifests(ws))


def test_unreachable_scheduler_fails_fast_and_creates_nothing(nb, ws, monkeypatch, capsys):
    path = nb("train.ipynb", TRAIN)
    monkeypatch.setenv("MLEXP_SCHEDULER_TIMEOUT", "1")
    t0 = time.monotonic()
    with pytest.raises(SchedulerError, match="tcp://127.0.0.1:9"):
        run_sweep(path, experiment="exp", scheduler="tcp://127.0.0.1:9", progress=False)
    assert time.monotonic() - t0 < 10
    assert main(["run", str(path), "--experiment", "exp", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert manifests(ws) == []
    assert not (ws / "experiments/exp/quick").exists()


def _start_runner(ws: Path, path: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        mlexp_cmd("run", str(path), "--experiment", "exp", *extra),
        cwd=ws,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_running(ws: Path, n: int, proc: subprocess.Popen, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ms = [m for m in manifests(ws) if m["status"] == "running"]
        if len(ms) >= n:
            time.sleep(0.5)  # inside the sleeping cell
            return ms
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("runs did not start")


def test_ctrl_c_marks_running_runs_interrupted(nb, ws):
    path = nb("sleep.ipynb", "import time\nprint('sleeping', flush=True)\ntime.sleep(60)")
    proc = _start_runner(ws, path, "--seeds", "0,1,2", "--jobs", "2")
    running = _wait_running(ws, 2, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "runs marked interrupted" in err
    ms = manifests(ws)
    assert len(ms) == 2  # the third never started
    assert {m["status"] for m in ms} == {"interrupted"}
    for m in ms:
        assert m["run_id"] in err
        assert (ws / "experiments/exp/quick" / m["run_id"] / "output.ipynb").exists()
        pid = m["kernel"]["pid"]
        with pytest.raises(ProcessLookupError):  # no kernel left behind
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
    assert {r["run_id"] for r in running} == {m["run_id"] for m in ms}


def test_killed_runner_leaves_a_stale_run_that_mlexp_runs_ends(nb, ws):
    path = nb("sleep.ipynb", "import time\ntime.sleep(60)")
    proc = _start_runner(ws, path)
    _wait_running(ws, 1, proc)
    proc.kill()
    proc.communicate(timeout=10)
    (m,) = manifests(ws)
    assert m["status"] == "running"  # as the killed runner left it: listings show it stale
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{m['kernel']['pid']}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{m['kernel']['pid']}").exists(), "the kernel outlived its killed runner"
    out = subprocess.run(mlexp_cmd("runs", "exp"), cwd=ws, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "failed" in out.stdout and "stale" not in out.stdout
    (m,) = manifests(ws)
    assert m["status"] == "failed" and m["error"]["name"] == "ProcessGone"


def test_a_dask_run_stops_when_the_runner_that_sent_it_dies(nb, ws, cluster):
    """kill -9 of `mlexp run --scheduler`: the scheduler drops the dead client's tasks, and the worker
    stops the run it was running (recorded `interrupted`, its kernel gone) instead of running it to the end."""
    path = nb("sleep.ipynb", "import time\ntime.sleep(60)")
    proc = _start_runner(ws, path, "--scheduler", cluster.scheduler_address)
    (m,) = _wait_running(ws, 1, proc)
    proc.kill()
    proc.communicate(timeout=10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and manifests(ws)[0]["status"] == "running":
        time.sleep(0.2)
    (m,) = manifests(ws)
    assert m["status"] == "interrupted", m["status"]
    assert "client" in m["error"]["message"] and m["duration_s"] < 40
    pid = m["kernel"]["pid"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), "the run's kernel lives on"
