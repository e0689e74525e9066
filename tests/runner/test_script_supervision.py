"""``mlexp run -- CMD`` killed, interrupted at a bad moment, or measured: nothing outlives it, nothing is lost."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from runner_helpers import alive, wait_for

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.execution import lifecycle
from jupyter_mlexp.frontdoors.cli import main
from jupyter_mlexp.runner import script as script_runner

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc tells a live process")

CLI = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "run", "--experiment", "cmd", "--"]


@pytest.fixture
def exp(workspace):
    e = Experiment("cmd")
    e.register("A script reaches 0.9 val_acc.\nsuccess: val_acc >= 0.9\nmetrics: val_acc, loss\n")
    return e


def _kill_runner_once(tmp_path, command, ready) -> None:
    """Start ``mlexp run -- command``, wait until ``ready()``, SIGKILL the runner (no cleanup of its own)."""
    parent = subprocess.Popen([*CLI, *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(ready), "the command did not start"
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    finally:
        parent.kill()
        parent.wait()


def test_a_script_that_ignores_sigterm_dies_with_the_killed_runner(exp, tmp_path):
    pidfile = tmp_path / "child.pid"
    body = (
        "import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    (tmp_path / "stubborn.py").write_text(body)
    _kill_runner_once(
        tmp_path,
        [sys.executable, str(tmp_path / "stubborn.py")],
        lambda: pidfile.exists() and pidfile.read_text() != "",
    )
    child = int(pidfile.read_text())
    try:
        assert wait_for(lambda: not alive(child), timeout=15), "a SIGTERM-ignoring script outlived mlexp run"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_grandchild_dies_with_the_killed_runner(exp, tmp_path):
    flag, started = tmp_path / "flag", tmp_path / "started"
    (tmp_path / "slow.py").write_text(f"open({str(started)!r}, 'w').write('1')\nimport time\ntime.sleep(60)\n")
    command = ["sh", "-c", f"(sleep 2; touch {flag}) & exec {sys.executable} {tmp_path / 'slow.py'}"]
    _kill_runner_once(tmp_path, command, started.exists)
    time.sleep(3)
    assert not flag.exists(), "a grandchild outlived mlexp run"


def test_a_killed_script_run_is_finished_from_disk_by_the_next_listing(exp, tmp_path, capsys):
    marker = tmp_path / "logged"
    body = (
        "import time\nimport jupyter_mlexp as mlexp\n"
        "for i in range(3):\n    mlexp.log_metric('loss', 1.0 / (i + 1))\n"
        f"print('val_acc: 0.1', flush=True)\ntime.sleep(1.2)\nopen({str(marker)!r}, 'w').write('1')\ntime.sleep(60)\n"
    )
    (tmp_path / "train.py").write_text(body)
    _kill_runner_once(tmp_path, [sys.executable, str(tmp_path / "train.py")], marker.exists)
    (info,) = exp.runs()
    assert info.status == "stale"  # shown as it is until a command ends it
    assert wait_for(lambda: lifecycle.end_stale_runs(exp) == [info.run_id], timeout=10)
    m = json.loads((info.path / "run.json").read_text())
    assert m["status"] == "failed" and "process gone" in m["error"]["message"]
    assert m["metrics_summary"]["val_acc"]["last"] == 0.1  # printed into stdout.txt
    assert m["metrics_summary"]["loss"] == {"last": 1 / 3, "min": 1 / 3, "max": 1.0, "n": 3, "step": 2}
    assert m["duration_s"] < 30  # up to its last sign of life, not up to the listing
    assert lifecycle.end_stale_runs(exp) == []  # once
    assert len((exp.path / "results.tsv").read_text().splitlines()) == 2  # header + one row
    assert main(["runs", "cmd"]) == 0  # and `mlexp runs` does it too (nothing left to do here)
    assert "failed" in capsys.readouterr().out


def test_peak_memory_is_the_runs_own_not_the_largest_child_so_far(exp):
    # Through the `mlexp` command, as a user runs it: a runner process of its ordinary size. (Linux
    # counts the starting process's size into a command's figure; a command smaller than the runner
    # is measured from samples of its own VmHWM instead: docs/runner.md. Inside a pytest process of
    # several hundred MB a 300 MB command would be such a small one.)
    # One runner process, two runs: seed 0 takes 300 MB for a moment, seed 1 next to nothing.
    code = "import os, time\nif os.environ['MLEXP_SEED'] == '0':\n    x = b'x' * (300 * 2**20)\nelse:\n    time.sleep(0.5)\n"
    mlexp = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "run", "--experiment", "cmd", "--seeds", "0,1"]
    subprocess.run([*mlexp, "--", sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
    first, second = sorted(exp.runs(), key=lambda r: r.manifest["seed"])
    assert first.manifest["peak_memory_gb"] > 0.28, first.manifest["peak_memory_gb"]
    small_peak = second.manifest["peak_memory_gb"]
    assert small_peak is not None and small_peak < 0.1, small_peak


def test_ctrl_c_while_the_command_is_being_started_interrupts_the_run(exp, tmp_path, monkeypatch):
    class HitByCtrlC(script_runner.Command):
        def __init__(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)  # arrives while the run's command is being started
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(script_runner, "Command", HitByCtrlC)
    started = time.monotonic()
    with pytest.raises(script_runner.ScriptInterrupted) as stop:
        script_runner.run_script([sys.executable, "-c", "import time; time.sleep(30)"], exp, echo=io.StringIO())
    assert time.monotonic() - started < 15
    (result,) = stop.value.runs
    assert result.status == "interrupted"
    (info,) = exp.runs()
    assert info.status == "interrupted"
