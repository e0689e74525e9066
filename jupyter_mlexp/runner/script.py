"""Run a command (a training script) as runs of an experiment: ``mlexp run -- uv run train.py``.

The command runs in its own process group with the run named in its
environment (``MLEXP_RUN_DIR``, ``MLEXP_MODE``, ``MLEXP_EXPERIMENT``,
``MLEXP_ROOT``, ``MLEXP_SEED``, ``MLEXP_PARAMS`` as JSON), so
``import jupyter_mlexp as mlexp; mlexp.log_metric(...)`` inside it writes into
that run. Its output is shown as it comes, kept in ``stdout.txt``, and
``name: value`` lines count for the hypothesis' metrics it did not log
through the API. A command past ``budget`` is stopped (SIGTERM, then SIGKILL)
and recorded as ``timeout``; a non-zero exit is ``failed`` with the exit code
and the last lines of output; Ctrl-C marks the run ``interrupted``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlexp.core import provenance
from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.run import MODES, Run

KILL_GRACE_S = 5.0
TAIL_LINES = 40


@dataclass
class ScriptRun:
    run_id: str
    status: str
    duration_s: float
    path: Path
    seed: int
    exit_code: int | None
    primary_metric: str | None
    primary_value: float | None
    error: dict | None = None

    @property
    def ok(self) -> bool:
        return self.status == "completed"


class ScriptInterrupted(KeyboardInterrupt):
    def __init__(self, runs: list[ScriptRun]):
        super().__init__("interrupted")
        self.runs = runs


def run_script(
    command: Sequence[str],
    experiment: Experiment,
    *,
    mode: str = "quick",
    seeds: Sequence[int] = (0,),
    params: Mapping[str, Any] | None = None,
    budget: float | None = None,
    stage: str | None = None,
    data: Sequence[str] = (),
    cwd: str | os.PathLike | None = None,
    echo=None,
) -> list[ScriptRun]:
    """Run ``command`` once per seed, each as one run of ``experiment``; returns the runs in order."""
    if not command:
        raise MlexpError("no command given after '--' (e.g. mlexp run --experiment NAME -- python train.py)")
    if mode not in MODES:
        raise MlexpError(f"unknown mode {mode!r}")
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        raise MlexpError(f"command not found: {command[0]!r}")
    hyp = experiment.hypothesis  # the gate, before any run folder exists
    out = echo if echo is not None else sys.stdout
    done: list[ScriptRun] = []
    for seed in seeds:
        try:
            done.append(
                _one(command, experiment, hyp, mode, int(seed), dict(params or {}), budget, stage, data, cwd, out)
            )
        except KeyboardInterrupt as stop:
            done.append(stop.args[0] if stop.args and isinstance(stop.args[0], ScriptRun) else None)
            raise ScriptInterrupted([r for r in done if r is not None]) from None
    return done


def _one(command, exp: Experiment, hyp, mode, seed, params, budget, stage, data, cwd, out) -> ScriptRun:
    manifest = dict(
        params=params,
        seed=seed,
        budget_s=budget,
        command=shlex.join(command),
        source="script",
        git=provenance.git_info(exp.base.parent),
        environment=provenance.environment(),
        data=provenance.data_hashes(data, exp.base / ".cache" / "data_hashes.json"),
    )
    if stage:
        manifest["stage"] = stage
    run = exp.start_run(mode, **manifest)
    run._stop_log()  # the command's process and the final attach below write run.log
    env = dict(os.environ)
    env.update(
        MLEXP_ROOT=str(exp.base.parent),
        MLEXP_RUN_DIR=str(run.path),
        MLEXP_MODE=mode,
        MLEXP_EXPERIMENT=exp.name,
        MLEXP_SEED=str(seed),
        MLEXP_PARAMS=json.dumps(params),
        PYTHONUNBUFFERED="1",
    )
    expired = threading.Event()
    tail: list[str] = []
    captured: list[str] = []
    status, error, code = "completed", None, None
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            text=True,
            errors="replace",
            bufsize=1,
        )
    except OSError as err:
        _end(exp, Run.attach(run.path), "failed", {"name": type(err).__name__, "message": str(err)}, hyp, "")
        raise MlexpError(f"could not start {command[0]!r}: {err}") from None
    timer = None
    if budget:
        timer = threading.Timer(budget, lambda: (expired.set(), _stop(proc)))
        timer.daemon = True
        timer.start()
    try:
        with open(run.path / "stdout.txt", "a", encoding="utf-8") as log:
            for line in proc.stdout:
                out.write(line)
                log.write(line)
                captured.append(line)
                tail.append(line)
                if len(tail) > TAIL_LINES:
                    del tail[0]
        code = proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        status, error = "interrupted", {"name": "KeyboardInterrupt", "message": "interrupted by Ctrl-C"}
    finally:
        if timer is not None:
            timer.cancel()
    if status != "interrupted":
        if expired.is_set():
            status, error = "timeout", {"name": "RunTimeoutError", "message": f"time budget of {budget:g} s spent"}
        elif code != 0:
            status = "failed"
            error = {
                "name": "ExitCode",
                "message": f"{command[0]} exited with code {code}",
                "exit_code": code,
                "traceback": "".join(tail)[-4000:],
            }
    result = _end(exp, Run.attach(run.path), status, error, hyp, "".join(captured), code)
    if status == "interrupted":
        raise KeyboardInterrupt(result)
    return result


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the command's process group, SIGKILL after a grace period."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    except ProcessLookupError:
        pass


def _end(
    exp: Experiment, run: Run, status: str, error: dict | None, hyp, text: str, code: int | None = None
) -> ScriptRun:
    # ``run`` is re-read from disk: the command's own process merged its metrics into run.json.
    run.log_printed_metrics(text, wanted=set(hyp.metrics), skip=set(run.summary))
    run.record_verdict(hyp.success_criterion)
    run.manifest["exit_code"] = code
    if error:
        run.manifest["error"] = error
    try:
        import resource

        run.manifest["peak_memory_gb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    except (ImportError, OSError):
        pass
    manifest = exp.finish_run(run, status, description=run.manifest.get("command", "")[:80])
    primary = hyp.primary_metric
    return ScriptRun(
        run.run_id,
        status,
        manifest.get("duration_s") or 0.0,
        run.path,
        manifest.get("seed", 0),
        code,
        primary,
        (run.summary.get(primary) or {}).get("last"),
        error,
    )
