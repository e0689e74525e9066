"""Dask workers made ready by the runner's plugin (or preload), and their kernels gone when they close."""

from __future__ import annotations

import importlib.util
import sys
import time

import pytest
from runner_helpers import manifests

from jupyter_mlexp.runner import run_sweep
from jupyter_mlexp.runner.executors import connect

pytestmark = pytest.mark.slow
cloudpickle = pytest.importorskip("cloudpickle")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module

TRAIN = "import jupyter_mlexp as mlexp\nmlexp.log_metric('acc', lr * epochs)"


def _gone(pid: int, timeout: float = 10.0) -> bool:
    """The process has exited (a zombie waiting for its parent counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


def _modules(dask_worker=None) -> dict:
    from jupyter_mlexp.runner import dask_preload

    dask_preload._imported.wait(60)
    return {name: name in sys.modules for name in ("nbformat", "nbclient", "jsonschema", "rfc3987_syntax")}


def _import_rfc3987_syntax() -> bool:
    import importlib

    importlib.import_module("rfc3987_syntax")
    return True


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_worker_kernels_are_shut_down_when_the_cluster_closes(nb, ws):
    from distributed import LocalCluster

    path = nb("train.ipynb", TRAIN)
    # in-process workers: the kernels' parent (this process) lives on, so only the plugin's teardown ends them
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        first = run_sweep(path, experiment="exp", seeds=[0, 1], scheduler=cluster.scheduler_address, progress=False)
        second = run_sweep(path, experiment="exp", seeds=[2, 3], scheduler=cluster.scheduler_address, progress=False)
        assert [r.status for r in first.runs + second.runs] == ["completed"] * 4
        assert all(r.kernel_reused for r in second.runs)  # the second sweep found the kernels warm
        pids = {m["kernel"]["pid"] for m in manifests(ws)}
        assert len(pids) == 2 and not any(_gone(p, timeout=0) for p in pids)
    assert all(_gone(p) for p in pids), "a worker's kernel outlived its worker"


def test_the_plugin_imports_what_a_run_needs_on_connect_without_the_slow_optional_one(ws):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        client = connect(cluster.scheduler_address)
        try:
            (seen,) = client.run(_modules).values()
            assert seen["nbformat"] and seen["nbclient"] and seen["jsonschema"]
            assert not seen["rfc3987_syntax"]  # 0.8-1.4 s of Lark grammar nbformat never uses
            if importlib.util.find_spec("rfc3987_syntax") is not None:  # still importable by whoever needs it
                assert list(client.run(_import_rfc3987_syntax).values()) == [True]
        finally:
            client.close()


def test_preload_module_prepares_workers_started_with_it(nb, ws):
    from distributed import LocalCluster

    path = nb("train.ipynb", TRAIN)
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        preload=["jupyter_mlexp.runner.dask_preload"],
    ) as cluster:
        from distributed import Client

        with Client(cluster.scheduler_address, set_as_default=False) as client:
            (seen,) = client.run(_modules).values()  # before any mlexp client connected
            assert seen["nbformat"] and not seen["rfc3987_syntax"]
        result = run_sweep(path, experiment="exp", seeds=[0], scheduler=cluster.scheduler_address, progress=False)
        assert result.runs[0].status == "completed"
        pid = manifests(ws)[0]["kernel"]["pid"]
    assert _gone(pid)


def test_sweeps_from_two_folders_share_a_worker_at_once(nb, ws):
    """Each folder keeps its own warm kernels: neither sweep closes kernels the other's runs are using."""
    import threading

    from distributed import LocalCluster

    paths = []
    for folder in ("a", "b"):
        (ws / folder).mkdir()
        paths.append(nb(f"{folder}/train.ipynb", "import time\ntime.sleep(0.3)", TRAIN))
    results: dict = {}
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as cluster:

        def sweep(path):
            results[path.parent.name] = run_sweep(
                path, experiment="exp", seeds=[0, 1, 2], scheduler=cluster.scheduler_address, progress=False
            )

        threads = [threading.Thread(target=sweep, args=(p,), daemon=True) for p in paths]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert not any(t.is_alive() for t in threads), "a sweep hung: its kernels were closed under it"
    assert sorted(results) == ["a", "b"]
    assert [r.status for r in results["a"].runs + results["b"].runs] == ["completed"] * 6
