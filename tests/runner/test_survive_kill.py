"""A script killed from outside keeps what it logged: the summary is rebuilt from metrics.jsonl."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap

import pytest
from runner_helpers import manifests, mlexp_cmd, wait_for

SCRIPT = textwrap.dedent(
    """
    import os, time
    import jupyter_mlexp as mlexp
    for i in range(100):
        mlexp.log_metric("acc", i / 100)
    open("pid.txt", "w").write(str(os.getpid()))
    time.sleep(3600)
    """
)


def _lines(path) -> int:
    try:
        return len(path.read_text().splitlines())
    except OSError:
        return 0


@pytest.mark.timeout(120)
def test_a_script_killed_from_outside_keeps_its_summary(ws):
    (ws / "train.py").write_text(SCRIPT)
    import sys

    runner = subprocess.Popen(
        mlexp_cmd("run", "--experiment", "exp", "--", sys.executable, "train.py"),
        cwd=ws,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_for(lambda: (ws / "pid.txt").exists() and (ws / "pid.txt").read_text().strip(), timeout=60)
        (run_json,) = (ws / "experiments" / "exp" / "quick").glob("*/run.json")
        assert wait_for(lambda: _lines(run_json.parent / "metrics.jsonl") == 100, timeout=30)  # the flusher wrote them
        os.kill(int((ws / "pid.txt").read_text()), signal.SIGKILL)
        assert runner.wait(timeout=60) == 1, runner.stderr.read() if runner.stderr else ""
    finally:
        runner.kill()
        runner.wait()
    (m,) = manifests(ws, mode="quick")
    assert m["status"] == "failed" and m["exit_code"] == -9
    assert m["metrics_summary"]["acc"]["n"] == 100
    assert m["metrics_summary"]["acc"]["last"] == pytest.approx(0.99)
    assert json.loads((run_json.parent / "run.json").read_text())["criterion_check"] == "met"
