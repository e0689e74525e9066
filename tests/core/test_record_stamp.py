"""The runs stamp changes with every change the runs table shows, and costs stat calls only."""

from __future__ import annotations

import time

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.record_stamp import pid_alive, runs_stamp


def test_stamp_changes_when_the_runs_change(tmp_path):
    exp = Experiment("demo", tmp_path)
    exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc")
    first = runs_stamp(exp.path)
    assert runs_stamp(exp.path) == first
    run = exp.start_run("quick", run_id="q-1", params={}, seed=0)
    started = runs_stamp(exp.path, [run.path])
    assert started != first
    time.sleep(0.01)
    run.log_metric("acc", 0.3)
    run.save_progress()
    assert runs_stamp(exp.path, [run.path]) != started
    logged = runs_stamp(exp.path, [run.path])
    exp.finish_run(run, "completed")
    assert runs_stamp(exp.path, [run.path]) != logged
    finished = runs_stamp(exp.path)
    exp.ignore("q-1", "bad split")
    assert runs_stamp(exp.path) != finished
    ignored = runs_stamp(exp.path)
    exp.register("x improves y\nsuccess: acc >= 0.95\nmetrics: acc", reason="stricter")
    assert runs_stamp(exp.path) != ignored


def test_pid_alive():
    import os

    assert pid_alive(os.getpid())
    assert pid_alive("not a pid")  # cannot tell: assume alive
    assert not pid_alive(2**22 + 12345)
