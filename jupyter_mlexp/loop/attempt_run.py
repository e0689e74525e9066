"""Run one attempt of the loop: its command (or notebook) once per seed, as runs of the experiment.

Each seed is one run through the runner every run goes through (:func:`~.script.run_script`
or :func:`~.api.run_notebook`, so the one life cycle: budget → ``timeout``, provenance,
metrics from stdout or the API). The training log stays in the run's files; the loop
reads back only the metric, peak memory and, for a crash, the last lines of the log.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.execution.lifecycle import RunResult
from jupyter_mlexp.core.experiment import Experiment, RunInfo
from jupyter_mlexp.core.record.run_record import RunRecord

TAIL_LINES = 20


@dataclass
class Measured:
    """What the runs of an attempt gave: a value per seed, or the crash that stopped them."""

    seeds: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    memory_gb: float | None = None
    crash: str | None = None
    log_tail: str = ""
    runs_s: float = 0.0


def is_notebook(command: Sequence[str]) -> bool:
    return len(command) == 1 and command[0].endswith(".ipynb")


def check_command(command: Sequence[str], cwd: Path) -> None:
    """Refuse a command that does not exist before anything is committed."""
    first = command[0]
    if is_notebook(command):
        if not (cwd / first).exists() and not Path(first).exists():
            raise MlexpError(f"notebook not found: {first!r}")
    elif shutil.which(first) is None and not (cwd / first).exists() and not Path(first).exists():
        raise MlexpError(f"command not found: {first!r}")


def check_scheduler(scheduler: str, command: Sequence[str], usage: str) -> None:
    """Refuse a script or an unreachable cluster before anything is committed (connecting also readies
    the workers: :mod:`.dask_preload`)."""
    if not is_notebook(command):
        raise MlexpError(
            f"--scheduler runs notebooks ({usage} --scheduler ADDRESS); a command after '--' runs on this machine"
        )
    from jupyter_mlexp.runner.executors import connect

    connect(scheduler).close()


def run_seeds(
    exp: Experiment,
    command: Sequence[str],
    seeds: Sequence[int],
    metric: str,
    *,
    attempt: int,
    budget: float | None,
    cwd: Path,
    on_run: Callable[[Measured], None] | None = None,
    scheduler: str | None = None,
) -> Measured:
    """One run per seed until one crashes (failed, timeout, no metric, NaN); ``on_run`` after each.

    With a Dask ``scheduler`` (notebooks) every seed runs at once on the cluster, and the results
    are read in seed order as if they had run one after another (the runs after a crash still ran).
    """
    out = Measured()
    t0 = time.perf_counter()
    for seed, result in _results(exp, command, seeds, attempt, budget, cwd, scheduler):
        out.runs_s += time.perf_counter() - t0
        if result.run_id:
            out.run_ids.append(result.run_id)
        if result.peak_memory_gb is not None:
            out.memory_gb = max(out.memory_gb or 0.0, result.peak_memory_gb)
        value, why = _value(result, metric)
        if not result.ok or value is None:
            out.crash = f"seed {seed}: " + (_failure(result) if not result.ok else why)
            out.log_tail = log_tail(result)
        else:
            out.seeds.append(int(seed))
            out.values.append(value)
        if on_run is not None:
            on_run(out)
        if out.crash:
            break
        t0 = time.perf_counter()
    return out


def _results(exp: Experiment, command: Sequence[str], seeds: Sequence[int], attempt: int, budget, cwd: Path, scheduler):
    """(seed, result) per seed: one at a time on this machine, or all at once on a Dask cluster."""
    if not scheduler:
        for seed in seeds:
            yield seed, _one(exp, command, seed, attempt, budget, cwd)
        return
    from jupyter_mlexp.runner.run_api import run_sweep

    nb = Path(command[0])
    sweep = run_sweep(
        nb if nb.is_absolute() else cwd / nb,
        seeds=list(seeds),
        own_params={"attempt": attempt},
        scheduler=scheduler,
        experiment=exp.name,
        budget=budget,
        root=exp.base.parent,
        progress=False,
        command=f"mlexp loop try (attempt {attempt}) on {scheduler}",
    )
    by_seed = {r.seed: r for r in sweep.runs}
    for seed in seeds:
        yield seed, by_seed[seed]


def _one(exp: Experiment, command: Sequence[str], seed: int, attempt: int, budget, cwd: Path) -> RunResult:
    if is_notebook(command):
        from jupyter_mlexp.runner.run_api import run_notebook

        nb = Path(command[0])
        return run_notebook(
            nb if nb.is_absolute() else cwd / nb,
            seed=seed,
            own_params={"attempt": attempt},
            experiment=exp.name,
            budget=budget,
            root=exp.base.parent,
            progress=False,
            command=f"mlexp loop try (attempt {attempt})",
        )
    from jupyter_mlexp.runner.script import QUIET, ScriptInterrupted, run_script

    try:
        (result,) = run_script(
            command, exp, seeds=[seed], params={"attempt": attempt}, budget=budget, cwd=cwd, echo=QUIET
        )
    except ScriptInterrupted:
        raise KeyboardInterrupt from None
    return result


def _value(result: RunResult, metric: str) -> tuple[float | None, str]:
    """The run's last value of ``metric``, or why there is none (not printed, NaN, infinite).

    Read from the run's ``metrics_summary`` (the one rule that folds printed and logged values):
    a NaN/inf last value leaves ``last`` None and counts in ``nonfinite``.
    """
    if not result.path:
        return None, "the run did not start"
    try:
        record = RunRecord.from_manifest(json.loads((Path(result.path) / "run.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None, "its run.json cannot be read"
    summary = record.metrics_summary.get(metric) or {}
    last = summary.get("last")
    if isinstance(last, (int, float)) and math.isfinite(last):
        return float(last), ""
    if summary.get("nonfinite"):
        return None, f"{metric} is NaN or infinite (not a finite number)"
    return None, f"no {metric} printed or logged"


def _failure(result: RunResult) -> str:
    return f"{result.status}: {result.message}".rstrip(": ")


def _stdout(result: RunResult) -> str:
    try:
        return (Path(result.path or "") / "stdout.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def log_tail(result: RunResult) -> str:
    """The last lines of the run's log (its stdout, else the error's traceback)."""
    text = _stdout(result) or str((result.error or {}).get("traceback") or result.message)
    return "\n".join(text.rstrip("\n").splitlines()[-TAIL_LINES:])


def tail_of_run_dir(path: Path) -> str:
    try:
        text = (path / "stdout.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-TAIL_LINES:])


def measured_from_runs(runs: Sequence[RunInfo], metric: str) -> Measured:
    """A :class:`Measured` from runs already recorded (a parallel arm's), in seed order."""
    out = Measured(run_ids=[r.run_id for r in runs])
    for info in sorted(runs, key=lambda r: r.record.seed or 0):
        r = info.record
        value = info.primary(metric)
        seed = r.seed
        if r.peak_memory_gb is not None:
            out.memory_gb = max(out.memory_gb or 0.0, float(r.peak_memory_gb))
        if info.status != "completed" or not isinstance(value, (int, float)) or not math.isfinite(value):
            why = r.error_message() or f"no finite {metric} printed or logged"
            out.crash = out.crash or f"seed {seed}: {info.status}: {why}"
            out.log_tail = out.log_tail or tail_of_run_dir(info.path)
            continue
        out.seeds.append(int(seed or 0))
        out.values.append(float(value))
    if not runs:
        out.crash = "no run was recorded"
    return out
