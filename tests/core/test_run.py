import json
import math

import numpy as np
import pytest

from jupyter_mlexp.core.errors import MetricValueError, NoActiveRunError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.fsio import atomic_write_json, read_jsonl


def test_all_metrics_on_disk_when_run_ends(experiment):
    run = experiment.start_run("quick")
    for i in range(100_000):
        run.log_metric("loss", 1.0 / (i + 1))
    experiment.finish_run(run, "completed")
    records, bad = read_jsonl(run.path / "metrics.jsonl")
    assert not bad and len(records) == 100_000
    assert records[-1] == {"name": "loss", "value": 1 / 100_000, "step": 99_999, "time": records[-1]["time"]}
    manifest = json.loads((run.path / "run.json").read_text())
    assert manifest["status"] == "completed" and manifest["metrics_summary"]["loss"]["n"] == 100_000


def test_nonfinite_and_non_numbers(experiment):
    run = experiment.start_run("quick")
    run.log_metric("acc", np.float32(0.5))
    run.log_metric("acc", float("nan"))
    run.log_metric("acc", math.inf, step=7)
    with pytest.raises(MetricValueError, match="not a number"):
        run.log_metric("acc", "high")
    with pytest.raises(MetricValueError):
        run.log_metric("acc", [1, 2])
    experiment.finish_run(run, "completed")
    records, _ = read_jsonl(run.path / "metrics.jsonl")
    assert [r["value"] for r in records] == [0.5, None, None]
    assert [r.get("nonfinite") for r in records] == [None, "nan", "inf"]
    assert records[2]["step"] == 7
    manifest = json.loads((run.path / "run.json").read_text())
    assert any("non-finite" in w for w in manifest["warnings"])
    assert "non-finite" in (run.path / "run.log").read_text()


def test_log_metric_outside_a_run(workspace):
    import jupyter_mlexp as mlexp

    with pytest.raises(NoActiveRunError, match="%%run_quick"):
        mlexp.log_metric("x", 1)


def test_run_folders_are_never_reused(experiment):
    run = experiment.start_run("quick", run_id="fixed-id")
    with pytest.raises(FileExistsError):
        experiment.start_run("quick", run_id="fixed-id")
    assert run.path.name == "fixed-id"


def test_atomic_replace_keeps_old_content_on_crash(tmp_path):
    target = tmp_path / "run.json"
    atomic_write_json(target, {"status": "running"})

    class Boom:
        def __str__(self):
            raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        atomic_write_json(target, {"status": Boom()})
    assert json.loads(target.read_text()) == {"status": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temp file left


def test_manifest_captures_reproducibility_fields(experiment, tmp_path):
    from jupyter_mlexp.core.execution import provenance

    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n")
    run = experiment.start_run(
        "quick",
        seed=3,
        git=provenance.git_info(tmp_path),
        environment=provenance.environment(),
        data=provenance.data_hashes([data], tmp_path / "cache.json"),
    )
    experiment.finish_run(run, "completed")
    m = json.loads((run.path / "run.json").read_text())
    assert m["git"]["repo"] is None and "not inside a git" in m["git"]["note"]
    assert m["environment"]["python"] and "numpy" in m["environment"]["packages"]
    assert len(m["data"][str(data)]["sha256"]) == 64
    assert m["seed"] == 3 and m["stage"] == "implementation" and m["hypothesis_version"] == 1
    assert m["duration_s"] >= 0 and m["ended"]


def test_each_run_log_holds_its_own_runs_lines_only(workspace, capfd):
    from loguru import logger as users_logger

    exp = Experiment("logs")
    exp.register("Runs keep their own logs.\nsuccess: acc >= 0.5\nmetrics: acc")
    a = exp.start_run("quick", seed=0)
    b = exp.start_run("quick", seed=1)  # two runs open at once in one process
    a.logger.info("only in a")
    b.logger.info("only in b")
    users_logger.info("the user's own message")  # the user's loguru keeps its own sinks
    exp.finish_run(a, "completed")
    b.logger.info("still b")
    exp.finish_run(b, "completed")
    log_a, log_b = (r.path / "run.log" for r in (a, b))
    text_a, text_b = log_a.read_text(), log_b.read_text()
    assert "only in a" in text_a and "only in b" not in text_a and "still b" not in text_a
    assert "only in b" in text_b and "still b" in text_b and "only in a" not in text_b
    assert "ended: completed" in text_a and "ended: completed" in text_b
    assert "the user's own message" not in text_a + text_b
    assert "only in" not in capfd.readouterr().err  # run messages never reach the terminal


def test_a_killed_process_keeps_the_metrics_it_logged_a_second_ago(workspace, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    ready = tmp_path / "ready"
    child = f"""
import time
from jupyter_mlexp.core.experiment import Experiment
exp = Experiment("crash")
exp.register("Metrics survive a kill.\\nsuccess: acc >= 0.5\\nmetrics: acc")
run = exp.start_run("quick")
for i in range(200):  # a burst well inside the file buffer, then nothing more is logged
    run.log_metric("acc", i / 200)
open({str(ready)!r}, "w").write(run.run_id)
time.sleep(60)
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", child], cwd=workspace, env={**os.environ, "MLEXP_ROOT": str(workspace)}
    )
    try:
        deadline = time.monotonic() + 60
        while not (ready.exists() and ready.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)  # no atexit, no finally: only what reached the file counts
        proc.wait(10)
    finally:
        proc.kill()
    (info,) = Experiment("crash").runs()
    lines = (info.path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 200 and json.loads(lines[-1])["step"] == 199
