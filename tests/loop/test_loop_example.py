"""The loop end to end with the real ``mlexp`` command on the committed example (examples/loop/train.py):
eight attempts that keep, discard within seed noise, crash, time out, die by kill -9 and are
recovered, and revive; every attempt's patch applies to its base and its ref exists; the figure."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_mlexp.loop.attempt_run import TAIL_LINES

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "loop" / "train.py"
MLEXP = str(Path(sys.executable).with_name("mlexp"))
PY = sys.executable

pytestmark = pytest.mark.slow


def sh(cwd: Path, *argv: str, env=None, ok=(0,)) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in ok, f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr}"
    return proc.stdout.strip()


def set_constants(path: Path, **values) -> None:
    text = path.read_text()
    for name, value in values.items():
        text = re.sub(rf"^{name} = .*$", f"{name} = {value}", text, count=1, flags=re.M)
    path.write_text(text)


def test_eight_attempts_on_the_example_with_the_real_command(tmp_path):
    root, env = tmp_path, {**os.environ, "MLEXP_ROOT": str(tmp_path)}
    train = root / "train.py"
    train.write_text(EXAMPLE.read_text())
    set_constants(train, EPOCHS=8)  # a short baseline, so the test stays quick
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "init")
    sh(root, "git", "add", "train.py")
    sh(root, "git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "the example")
    sh(root, "git", "config", "user.name", "t")
    sh(root, "git", "config", "user.email", "t@e")
    mlexp = lambda *a, ok=(0,): sh(root, MLEXP, *a, env=env, ok=ok)  # noqa: E731
    mlexp("hypothesis", "digits", "--statement", "Changes to the MLP lower val_loss on digits.",
          "--success", "val_loss < 0.1", "--metrics", "val_loss")  # fmt: skip
    mlexp("loop", "start", "d", "--experiment", "digits", "--seeds", "0,1,2", "--budget", "30")

    def attempt(message: str, *extra: str, ok=(0,), **constants) -> dict:
        set_constants(train, **constants)
        return json.loads(mlexp("loop", "try", "-m", message, "--json", *extra, "--", PY, "train.py", ok=ok))

    assert attempt("baseline")["status"] == "keep"
    assert attempt("16 epochs", EPOCHS=16)["status"] == "keep"
    noise = attempt("another initialisation stream", INIT=1)
    assert noise["status"] == "discard" and noise["p"] > 0.05 and noise["delta"] > 0  # better, within noise
    crash = attempt("typo", ok=(1,), LR="lr_typo")
    assert crash["status"] == "crash" and "NameError" in crash["log_tail"]
    slow = attempt("100000 epochs", "--budget", "1", ok=(1,), LR=0.1, EPOCHS=100000)
    assert slow["status"] == "crash" and "timeout" in slow["reason"]
    # attempt 5 dies with its process (kill -9) while its run runs
    set_constants(train, EPOCHS=100000)
    proc = subprocess.Popen([MLEXP, "loop", "try", "-m", "killed", "--", PY, "train.py"], cwd=root, env=env)
    runs = root / "experiments" / "digits" / "quick"
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not any(
            _running(p) and "epoch 0" in _read(p / "stdout.txt") for p in runs.iterdir()
        ):
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    status = json.loads(mlexp("loop", "status", "--json"))  # the next command recovers it
    assert status["recovered"] == [5] and status["pending"] is None
    assert "EPOCHS = 16" in train.read_text()  # back on the best kept commit
    revived = json.loads(mlexp("loop", "revive", "2", "--json"))
    assert revived["status"] == "discard" and revived["revived_from"] == 2
    assert attempt("learning rate 0.2", LR=0.2)["status"] == "keep"

    status = json.loads(mlexp("loop", "status", "--json"))
    assert status["counts"] == {"keep": 3, "discard": 2, "crash": 3} and status["best"]["attempt"] == 7
    assert Path(status["figure"]).stat().st_size > 0
    state = json.loads((root / "experiments" / "digits" / "loops" / "d" / "loop.json").read_text())
    killed = state["attempts"][5]
    # the tail is the killed run's own output (its last lines: how many epochs ran before the kill varies)
    killed_out = (runs / killed["run_ids"][0] / "stdout.txt").read_text().rstrip("\n").splitlines()
    assert (
        re.search(r"^epoch \d+ ", killed["log_tail"], re.M)
        and killed["log_tail"].splitlines() == killed_out[-TAIL_LINES:]
    )
    for a in state["attempts"][1:]:
        ref = f"refs/mlexp/attempts/{a['n']:04d}"
        assert sh(root, "git", "rev-parse", ref) == a["commit"]
        patch = root / "experiments" / "digits" / "loops" / "d" / "attempts" / f"{a['n']:04d}.patch"
        index = {**env, "GIT_INDEX_FILE": str(tmp_path / f"index{a['n']}")}
        sh(root, "git", "read-tree", a["parent"], env=index)
        sh(root, "git", "apply", "--cached", "--check", str(patch), env=index)  # applies on its base


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _running(run: Path) -> bool:
    try:
        return json.loads(_read(run / "run.json")).get("status") == "running"
    except ValueError:
        return False
