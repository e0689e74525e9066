"""The run that ``log_metric`` and ``log_array`` write to.

Inside ``%%run_quick`` the magic activates its run. In a notebook executed by
the batch runner, the runner names the run folder and mode (environment
variables ``MLEXP_RUN_DIR`` / ``MLEXP_MODE``, or :func:`attach_batch_run` in an
injected cell); every ``%%run_quick`` cell of that notebook then adds to that
one run.
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import MlexpError, NoActiveRunError
from jupyter_mlexp.core.execution import provenance
from jupyter_mlexp.core.execution.printed import parse_stdout_metrics  # noqa: F401 - public here too
from jupyter_mlexp.core.execution.run_folder import Run

ENV_RUN_DIR = "MLEXP_RUN_DIR"
ENV_MODE = "MLEXP_MODE"

_active: list[Run] = []
ENV_EXPERIMENT = "MLEXP_EXPERIMENT"

_batch: dict[str, Any] = {"run": None, "mode": None, "experiment": None, "checked": False, "parameters": []}


def active_run() -> Run | None:
    return _active[-1] if _active else None


def push(run: Run) -> None:
    _active.append(run)


def pop(run: Run) -> None:
    if run in _active:
        _active.remove(run)


def attach_batch_run(
    run_dir: str | os.PathLike | None,
    mode: str | None,
    experiment: str | None = None,
    parameters: list[str] | None = None,
) -> Run | None:
    """Make this process log into the runner's run folder (``run_dir``), in ``mode``.

    ``experiment`` becomes the magics' current experiment when a cell names none; ``parameters``
    names the notebook's parameters (the runner reads their values back at the run's end).
    Called again (a warm kernel reused for the next run) it detaches the previous run.
    """
    _batch["checked"] = True
    _batch["mode"] = mode
    _batch["experiment"] = experiment
    _batch["parameters"] = list(parameters or [])
    if _batch["run"] is not None:
        _batch["run"].close_metrics()
        pop(_batch["run"])
        _batch["run"] = None
    if run_dir:
        run = Run.attach(Path(run_dir))
        _batch["run"] = run
        _active.insert(0, run)
        if not _batch.get("atexit"):
            # A script or kernel that exits without calling flush_batch_run still leaves its metrics.
            atexit.register(flush_batch_run)
            _batch["atexit"] = True
    return _batch["run"]


def batch_context() -> tuple[Run | None, str | None]:
    """The runner's run and mode, if this process runs under the batch runner."""
    if not _batch["checked"]:
        _batch["checked"] = True
        run_dir, mode = os.environ.get(ENV_RUN_DIR), os.environ.get(ENV_MODE)
        experiment = os.environ.get(ENV_EXPERIMENT)
        if run_dir and Path(run_dir, "run.json").exists():
            run = attach_batch_run(run_dir, mode, experiment)
            if run is not None and _is_pool_worker():
                run.worker = True  # spawned by multiprocessing: the process it serves owns the run
        else:
            _batch["mode"], _batch["experiment"] = mode, experiment
    return _batch["run"], _batch["mode"]


def _is_pool_worker() -> bool:
    """Whether this process was started by ``multiprocessing`` (spawn, forkserver) for another one."""
    mp = sys.modules.get("multiprocessing.process")
    return mp is not None and mp.parent_process() is not None


def batch_experiment() -> str | None:
    """The experiment the batch runner names for this process, if any."""
    batch_context()
    return _batch["experiment"]


def batch_parameters() -> list[str]:
    """The notebook parameters the batch runner named for this process ([] outside it)."""
    if batch_context()[0] is None:
        return []
    return list(_batch.get("parameters") or [])


def flush_batch_run() -> None:
    """Write what the batch run logged to disk (the runner calls this before reading the folder)."""
    run = _batch["run"]
    if run is not None:
        run.manifest["environment"] = provenance.environment()  # this process ran the code: what it imported
        run.save_progress()


def log_metric(name: str, value: Any, step: int | None = None) -> None:
    """Log one scalar to the active run's ``metrics.jsonl``."""
    run = _active[-1] if _active else None
    if run is None:
        batch_context()
        run = _active[-1] if _active else None
        if run is None:
            raise NoActiveRunError(
                f"log_metric({name!r}) called outside a run: put it in a %%run_quick cell, "
                "or execute the notebook with `mlexp run`"
            )
    run.log_metric(name, value, step)


def log_array(name: str, array: Any) -> Path:
    """Save ``array`` as ``experiment_results/<name>.npy`` in the active run."""
    run = active_run() or batch_context()[0]
    if run is None:
        raise NoActiveRunError(f"log_array({name!r}) called outside a run: put it in a %%run_quick cell")
    return run.log_array(name, array)


def artifact_path(name: str) -> Path:
    """Where the active run keeps a file of its own: ``<run folder>/artifacts/<name>`` (folders made).

    Files written by a relative path in the working directory are kept with the run too (copied at
    its end); this is the path for runs that run in parallel in one folder, or for large files."""
    run = active_run() or batch_context()[0]
    if run is None:
        raise NoActiveRunError(f"artifact_path({name!r}) called outside a run: put it in a %%run_quick cell")
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise MlexpError(f"artifact_path({name!r}): give a relative path inside the run's artifacts folder")
    path = run.path / "artifacts" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
