"""``mlexp run -- CMD``: a script as runs of an experiment, in real subprocesses."""

import json
import subprocess
import sys
import textwrap

import pytest
from runner_helpers import alive, wait_for

from jupyter_mlexp import Experiment
from jupyter_mlexp.frontdoors.cli import main

TRAIN = textwrap.dedent("""
    import json, os, sys, time
    import jupyter_mlexp as mlexp
    params = json.loads(os.environ["MLEXP_PARAMS"])
    seed = int(os.environ["MLEXP_SEED"])
    for step in range(3):
        mlexp.log_metric("loss", 1.0 / (step + 1 + seed))
    print(f"val_acc: {0.9 + 0.01 * seed}")
    if params.get("sleep"):
        time.sleep(params["sleep"])
    sys.exit(params.get("code", 0))
""")


@pytest.fixture
def script(workspace, tmp_path):
    Experiment("cmd").register("A script reaches 0.9 val_acc.\nsuccess: val_acc >= 0.9\nmetrics: val_acc, loss\n")
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    return path


def manifests(mode="quick"):
    return [json.loads((r.path / "run.json").read_text()) for r in Experiment("cmd").runs() if r.mode == mode]


def test_script_runs_per_seed_with_metrics_from_api_and_stdout(script, capsys):
    assert (
        main(
            [
                "run",
                "--full",
                "--seeds",
                "0,1",
                "-p",
                "lr",
                "0.1",
                "--experiment",
                "cmd",
                "--",
                sys.executable,
                str(script),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "val_acc: 0.9" in out and "completed" in out
    a, b = manifests("full")
    assert a["status"] == b["status"] == "completed" and (a["seed"], b["seed"]) == (0, 1)
    assert a["params"] == {"lr": 0.1, "args": str(script)} and a["source"] == "script" and "train.py" in a["command"]
    assert a["metrics_summary"]["loss"]["n"] == 3 and a["metrics_summary"]["val_acc"]["last"] == 0.9
    assert b["criterion_check"] == "met" and a["exit_code"] == 0
    run_dir = Experiment("cmd").runs()[0].path
    assert "val_acc: 0.9" in (run_dir / "stdout.txt").read_text()
    assert not (Experiment("cmd").path / "quick").exists()


def test_script_failure_timeout_and_gate(script, capsys, workspace):
    assert main(["run", "--experiment", "cmd", "-p", "code", "3", "--", sys.executable, str(script)]) == 1
    assert (
        main(["run", "--experiment", "cmd", "--budget", "1", "-p", "sleep", "30", "--", sys.executable, str(script)])
        == 1
    )
    failed, timeout = manifests()
    assert failed["status"] == "failed" and failed["error"]["exit_code"] == 3
    assert "val_acc: 0.9" in failed["error"]["traceback"]
    assert failed["metrics_summary"]["loss"]["n"] == 3  # kept
    assert timeout["status"] == "timeout" and timeout["duration_s"] < 10
    err = capsys.readouterr().err
    assert "exited with code 3" in err and "time budget" in err

    Experiment("nohyp").path.mkdir(parents=True)
    assert main(["run", "--experiment", "nohyp", "--", sys.executable, str(script)]) == 2
    assert "no registered hypothesis" in capsys.readouterr().err
    assert not (Experiment("nohyp").path / "quick").exists()
    assert main(["run", "--experiment", "cmd", "--", "no-such-command-xyz"]) == 2
    assert "command not found" in capsys.readouterr().err
    assert main(["run", "--experiment", "cmd", "--jobs", "2", "--", sys.executable, str(script)]) == 2


def test_ctrl_c_marks_the_script_run_interrupted(script, workspace):
    import os
    import signal
    import time

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_mlexp.frontdoors.cli",
            "run",
            "--experiment",
            "cmd",
            "-p",
            "sleep",
            "60",
            "--",
            sys.executable,
            str(script),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    deadline = time.time() + 30
    while time.time() < deadline and not any(m.get("status") == "running" for m in manifests()):
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    (m,) = manifests()
    assert m["status"] == "interrupted"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's prctl")
def test_killing_mlexp_run_kills_the_script_and_keeps_its_output(script, workspace, tmp_path):
    import os
    import signal

    pidfile = tmp_path / "child.pid"
    body = f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\nprint('val_acc: 0.95')\ntime.sleep(60)\n"
    train = tmp_path / "long.py"
    train.write_text(body)
    cli = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "run", "--experiment", "cmd", "--", sys.executable]
    parent = subprocess.Popen([*cli, str(train)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
        (run,) = Experiment("cmd").runs()
        assert wait_for(lambda: "val_acc: 0.95" in (run.path / "stdout.txt").read_text())
        child = int(pidfile.read_text())
        parent.send_signal(signal.SIGKILL)  # no handler, no cleanup: only the kernel can tell the child
        parent.wait(10)
        assert wait_for(lambda: not alive(child), timeout=10), "the script outlived mlexp run"
    finally:
        parent.kill()
        if pidfile.exists() and alive(int(pidfile.read_text() or 0)):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
    (run,) = Experiment("cmd").runs()
    assert "val_acc: 0.95" in (run.path / "stdout.txt").read_text()  # written by the script itself, not buffered
    assert run.status == "stale"  # its process is gone: not shown as running forever


def test_budget_holds_when_a_grandchild_keeps_the_output_open(workspace, tmp_path, capsys):
    import time

    Experiment("cmd").register("A script reaches 0.9 val_acc.\nsuccess: val_acc >= 0.9\nmetrics: val_acc\n")
    pidfile = tmp_path / "grandchild.pid"
    started = time.monotonic()
    code = main(
        ["run", "--experiment", "cmd", "--budget", "1", "--", "sh", "-c", f"sleep 30 & echo $! > {pidfile}; sleep 30"]
    )
    assert code == 1 and time.monotonic() - started < 10
    (run,) = Experiment("cmd").runs()
    assert run.manifest["status"] == "timeout"
    assert wait_for(lambda: not alive(int(pidfile.read_text())), timeout=10), "a grandchild outlived the run"


def test_printed_lines_spooled_while_running_end_in_metrics_jsonl_and_nowhere_else(script, workspace):
    import io

    from jupyter_mlexp.runner.script import run_script

    body = (
        "import jupyter_mlexp as mlexp\nmlexp.log_metric('loss', 0.5)\n"
        "for i in range(3):\n    print(f'val_acc: {0.9 + i / 100}')\n    print(f'other: {i}')\n    print('loss: 9')\n"
    )
    (r,) = run_script([sys.executable, "-c", body], Experiment("cmd"), echo=io.StringIO())
    rows = [json.loads(line) for line in (Experiment("cmd").runs()[0].path / "metrics.jsonl").read_text().splitlines()]
    assert [(x["name"], x["value"], x["step"]) for x in rows] == [
        ("loss", 0.5, 0),  # through the API: its printed lines do not count
        ("val_acc", 0.9, 0),
        ("val_acc", 0.91, 1),
        ("val_acc", 0.92, 2),
    ]  # 'other' is not a hypothesis metric
    assert r.primary_value == 0.92
    assert not [p.name for p in Experiment("cmd").runs()[0].path.iterdir() if p.name.startswith(".printed")]
    (only_printed,) = run_script(
        [sys.executable, "-c", "print('val_acc: 0.95')"], Experiment("cmd"), echo=io.StringIO()
    )
    folder = Experiment("cmd").runs()[1].path
    assert (folder / "metrics.jsonl").read_text().count("\n") == 1 and only_printed.primary_value == 0.95
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".printed")]


def test_output_printed_before_the_runner_starts_following_still_counts(workspace, tmp_path, capsys, monkeypatch):
    """A quick command on a loaded machine can print everything before the runner reads its output
    (CI lost `val_loss` this way: "no val_loss printed or logged"). Everything it prints counts."""
    from jupyter_mlexp.runner import script as script_mod

    Experiment("cmd").register("A script reaches 0.9 val_acc.\nsuccess: val_acc >= 0.9\nmetrics: val_acc\n")
    spawn = script_mod._spawn

    def slow_to_follow(*args, **kwargs):  # the command runs to its end before the runner reads on
        proc = spawn(*args, **kwargs)
        proc.wait()
        return proc

    monkeypatch.setattr(script_mod, "_spawn", slow_to_follow)
    code = main(["run", "--experiment", "cmd", "--", sys.executable, "-c", "print('epoch 1'); print('val_acc: 0.93')"])
    out = capsys.readouterr().out
    assert code == 0 and "val_acc: 0.93" in out  # echoed
    (run,) = manifests()
    assert run["metrics_summary"]["val_acc"]["last"] == 0.93
