"""The sidebar's card and runs lists answer unchanged polls from the cache and see every change at the next poll."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.frontdoors.server import record_views as api

HYPOTHESIS = "x improves y\nsuccess: acc >= 0.9\nmetrics: acc"


def _counting(monkeypatch) -> list:
    reads: list = []
    real_runs = Experiment.runs
    monkeypatch.setattr(Experiment, "runs", lambda self, *a, **k: reads.append(1) or real_runs(self, *a, **k))
    return reads


def test_detail_and_runs_polls_come_from_the_cache_until_something_changes(tmp_path, monkeypatch):
    exp = Experiment("demo", tmp_path)
    exp.register(HYPOTHESIS)
    for seed, acc in enumerate((0.95, 0.96, 0.97)):
        run = exp.start_run("full", run_id=f"f-{seed}", params={"lr": 0.1}, seed=seed)
        run.log_metric("acc", acc)
        exp.finish_run(run, "completed")
    reads = _counting(monkeypatch)

    def detail():
        return api.experiment_detail(tmp_path, "demo")

    def runs():
        return {r["run_id"]: r for r in api.list_runs(tmp_path, "demo")["runs"]}

    first = detail()
    assert first["counts"]["full"] == 3 and detail() == first
    assert runs()["f-0"]["status"] == "completed" and "f-0" in runs()
    n = len(reads)
    detail(), runs(), detail(), runs()
    assert len(reads) == n  # unchanged polls: no run read

    going = exp.start_run("full", run_id="f-9", params={"lr": 0.1}, seed=9)
    assert detail()["counts"]["full"] == 4 and runs()["f-9"]["status"] == "running"
    time.sleep(0.01)
    going.log_metric("acc", 0.5)
    going.save_progress()  # a running run rewrites its run.json
    assert runs()["f-9"]["primary_value"] == 0.5
    exp.finish_run(going, "completed")
    assert runs()["f-9"]["status"] == "completed"
    exp.ignore("f-0", "bad split")
    assert detail()["counts"]["ignored"] == 1 and runs()["f-0"]["ignored"]
    exp.unignore("f-0")
    assert detail()["counts"]["ignored"] == 0
    exp.register(HYPOTHESIS.replace("0.9", "0.99"), reason="stricter after a reviewer asked")
    card = detail()
    assert card["hypothesis"]["version"] == 2 and card["hypothesis"]["success"] == "acc >= 0.99"
    assert card["verdict"] != first["verdict"]  # judged again, under version 2


def test_a_running_run_whose_process_died_turns_stale_in_the_runs_list(tmp_path):
    exp = Experiment("demo", tmp_path)
    exp.register(HYPOTHESIS)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    run = exp.start_run("full", run_id="f-1", params={}, seed=1)
    manifest = json.loads((run.path / "run.json").read_text())
    manifest.pop("pid_start", None)
    (run.path / "run.json").write_text(json.dumps({**manifest, "pid": child.pid, "host": socket.gethostname()}))
    assert api.list_runs(tmp_path, "demo")["runs"][0]["status"] == "running"
    child.kill()
    child.wait()
    assert api.list_runs(tmp_path, "demo")["runs"][0]["status"] == "stale"
