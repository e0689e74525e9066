"""The runner's Python API; ``mlexp run`` is a thin layer over :func:`run_sweep`.

Usable from a script, a scheduler, or a notebook cell (where an event loop is
already running, the sweep runs its own loop in a thread)::

    from jupyter_mlexp.runner import run_sweep
    result = run_sweep("train.ipynb", mode="full", seeds=[0, 1, 2], grid={"lr": [0.1, 0.01]}, jobs=2)
    result.failed  # the runs that did not complete
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core import registration
from jupyter_mlexp.core.errors import MlexpError, NoHypothesisError
from jupyter_mlexp.core.execution import lifecycle, provenance
from jupyter_mlexp.core.execution.lifecycle import RunResult
from jupyter_mlexp.core.execution.run_folder import MODES
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.hypothesis import STAGES, parse_body
from jupyter_mlexp.core.record.workspace import find_root, name_from_path
from jupyter_mlexp.core.stats.fresh import fresh_seeds, parse_fresh, rerun_note
from jupyter_mlexp.runner import notebook_io as nbio
from jupyter_mlexp.runner.execute import SweepContext
from jupyter_mlexp.runner.executors import connect, end_leftovers, run_dask, run_local
from jupyter_mlexp.runner.progress import Progress
from jupyter_mlexp.runner.sweep import RunSpec, expand, parse_grid, parse_params, parse_seeds, read_params_file

log = logging.getLogger("jupyter_mlexp.runner")


@dataclass
class SweepResult:
    """Every run of a sweep, in sweep order, and how the sweep went."""

    experiment: str
    mode: str
    runs: list[RunResult]
    wall_s: float
    sweep_id: str
    warnings: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)  # run ids ended as interrupted
    stats: dict = field(default_factory=dict)

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.runs if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep; ``.result`` holds what finished and which runs were interrupted."""

    def __init__(self, result: SweepResult):
        super().__init__(f"sweep interrupted; runs marked interrupted: {', '.join(result.interrupted) or 'none'}")
        self.result = result


def plan(
    notebook: str | os.PathLike,
    *,
    mode: str = "quick",
    params: Mapping[str, Any] | Iterable[tuple[str, str]] | None = None,
    params_file: str | os.PathLike | None = None,
    grid: Mapping[str, list] | Iterable[str] | None = None,
    seeds: Iterable[int] | str | None = None,
    experiment: str | None = None,
    stage: str | None = None,
    kernel_name: str | None = None,
    root: str | os.PathLike | None = None,
    own_params: Mapping[str, Any] | None = None,
) -> tuple[Experiment, nbio.SourceNotebook, list[RunSpec], list[str]]:
    """Check everything before anything runs: notebook, experiment and its gate, sweep.

    ``own_params`` are the caller's own bookkeeping (the loop's ``attempt``): injected and
    recorded like ``params``, but a notebook is not expected to declare them, so no warning.
    Returns the experiment, the read notebook, the run specs and warnings.
    """
    if mode not in MODES:
        raise MlexpError(f"unknown mode {mode!r}: use quick or full")
    if stage is not None and stage not in STAGES:
        raise MlexpError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    src = nbio.load(notebook, kernel_name)
    exp = _experiment(src, experiment, root)
    given = {**read_params_file(params_file), **parse_params(params)}
    fixed = {**given, **dict(own_params or {})}
    axes = parse_grid(grid) if grid is not None and not isinstance(grid, Mapping) else dict(grid or {})
    if (given or axes) and not src.has_parameters_cell:
        # papermill would inject them at the top and the notebook's own assignments would overwrite them:
        # every run recorded under values it never used
        raise MlexpError(
            f"{src.path.name} has no cell tagged 'parameters', so {', '.join(sorted({*given, *axes}))} "
            "would be set before the notebook's own assignments overwrite them: tag the cell that sets "
            "the parameters with 'parameters' (JupyterLab: select it, open the property inspector, "
            "Add Tag 'parameters'), then run again"
        )
    warnings = []
    fresh = parse_fresh(seeds)
    if fresh is not None:  # seeds no point of this sweep ever ran
        points = expand(mode, fixed, axes, [0], src.declared)
        seeds = fresh_seeds(exp, [s.params for s in points], fresh)
    specs = expand(mode, fixed, axes, parse_seeds(seeds), src.declared)
    if fresh is None and seeds is not None:
        note = rerun_note(exp, [s.params for s in specs], [s.seed for s in specs])
        if note:
            warnings.append(note)
    undeclared = sorted({k for s in specs for k in s.undeclared} - set(own_params or {}))
    if undeclared:
        warnings.append(
            f"parameter(s) {', '.join(undeclared)} not declared in the parameters cell of {src.path.name}; "
            "papermill injects them anyway, and each run's run.json records them under undeclared_params"
        )
    return exp, src, specs, warnings


def _experiment(src: nbio.SourceNotebook, name: str | None, root) -> Experiment:
    """The experiment to record into; the notebook's own ``%%hypothesis`` cell registers it, as the magic would."""
    cell_name = src.hypothesis_name or (name_from_path(src.path) if src.hypothesis_body else None)
    if name and src.hypothesis_name and src.hypothesis_name != name:
        raise MlexpError(
            f"--experiment {name} but {src.path.name} registers its hypothesis as {src.hypothesis_name!r}: "
            "drop --experiment or change the %%hypothesis cell"
        )
    name = name or cell_name or src.used_experiment
    if not name:
        raise MlexpError(
            f"{src.path.name} names no experiment: pass --experiment NAME, or add a %%hypothesis NAME cell "
            "(or register one with `mlexp hypothesis NAME --statement ... --success ... --metrics ...`)"
        )
    exp = Experiment(name, root)
    if src.hypothesis_body is not None:
        # the cell's own 'reason:' line is the only reason: a changed hypothesis with runs needs one
        reg = registration.register(exp, parse_body(src.hypothesis_body))
        if reg.changed:
            log.info(
                "experiment %s: hypothesis v%d registered from %s", exp.name, reg.hypothesis.version, src.path.name
            )
    try:
        _ = exp.hypothesis  # the gate
    except NoHypothesisError as err:
        raise NoHypothesisError(f"{err} (or add a %%hypothesis {name} cell to {src.path.name})") from None
    return exp


def run_sweep(
    notebook: str | os.PathLike,
    *,
    mode: str = "quick",
    params: Mapping[str, Any] | Iterable[tuple[str, str]] | None = None,
    params_file: str | os.PathLike | None = None,
    grid: Mapping[str, list] | Iterable[str] | None = None,
    seeds: Iterable[int] | str | None = None,
    budget: float | None = None,
    jobs: int = 1,
    scheduler: str | Any | None = None,
    experiment: str | None = None,
    stage: str | None = None,
    fresh_kernel: bool = False,
    progress: bool | None = None,
    kernel_name: str | None = None,
    root: str | os.PathLike | None = None,
    cwd: str | os.PathLike | None = None,
    data: Iterable[str] = (),
    command: str = "",
    own_params: Mapping[str, Any] | None = None,
) -> SweepResult:
    """Run ``notebook`` once per point of the sweep (grid × seeds) and record each run.

    ``mode`` is ``quick`` or ``full``; runs land under ``quick/`` or ``full/`` of the
    experiment. ``jobs`` runs that many at a time on this machine; ``scheduler`` (an
    address, or a ``dask.distributed.Client``) sends them to a Dask cluster instead.
    ``budget`` is the whole-notebook time limit per run, in seconds. The gate holds:
    without a registered hypothesis nothing runs. A failed run does not stop the sweep;
    ``result.failed`` lists them. Ctrl-C raises :class:`SweepInterrupted` after marking
    the running runs ``interrupted``.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise MlexpError(f"--jobs must be at least 1, got {jobs!r}")
    if budget is not None and budget <= 0:
        raise MlexpError(f"--budget must be a positive number of seconds, got {budget!r}")
    root = Path(root).resolve() if root is not None else find_root()
    exp, src, specs, warnings = plan(
        notebook,
        mode=mode,
        params=params,
        params_file=params_file,
        grid=grid,
        seeds=seeds,
        experiment=experiment,
        stage=stage,
        kernel_name=kernel_name,
        root=root,
        own_params=own_params,
    )
    for w in warnings:
        log.warning(w)
    lifecycle.end_stale_runs(exp)  # runs a killed runner left behind, ended from their files
    client, owned = _client(scheduler)  # connected before any run folder exists: nothing half-created
    ctx = SweepContext(
        experiment=exp.name,
        root=str(root),
        source=src,
        mode=mode,
        budget=budget,
        stage=stage,
        sweep_id=time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3),
        command=command or _command(src.path, mode),
        git=provenance.git_info(exp.base.parent),
        fresh_kernel=fresh_kernel,
        cwd=str(Path(cwd).resolve()) if cwd else str(src.path.parent),
        executor="dask" if client is not None else "local",
        data=provenance.data_hashes(list(data), exp.base / ".cache" / "data_hashes.json") if data else {},
    )
    try:
        return _dispatch(exp, specs, ctx, client, jobs, warnings, progress)
    finally:
        if owned is not None:
            owned.close()


def _client(scheduler: str | Any | None) -> tuple[Any, Any]:
    """(the Dask client to run on or None, the client this sweep opened and must close or None)."""
    if scheduler is None:
        return None, None
    if not isinstance(scheduler, str):
        return scheduler, None

    client = connect(scheduler)
    return client, client


def _dispatch(
    exp: Experiment,
    specs: list,
    ctx: SweepContext,
    client: Any,
    jobs: int,
    warnings: list[str],
    progress: bool | None,
) -> SweepResult:
    """Run the planned ``specs`` on this machine or on the Dask ``client``; end what a stop left running."""

    bar = Progress(len(specs), enabled=True if progress is None else progress)
    stats: dict = {}
    t0 = time.perf_counter()
    runs: list[RunResult] = []
    try:
        if client is None:
            runs = _run_async(lambda: run_local(specs, ctx, jobs, bar.started, bar.finished, stats))
        else:
            runs = run_dask(specs, ctx, client, bar.started, bar.finished)
    except (KeyboardInterrupt, asyncio.CancelledError):
        bar.close()
        end_leftovers(ctx, "interrupted", "interrupted (Ctrl-C on mlexp run)")
        stopped = _interrupted(exp, ctx.sweep_id)
        result = SweepResult(exp.name, ctx.mode, runs, time.perf_counter() - t0, ctx.sweep_id, warnings, stopped, stats)
        raise SweepInterrupted(result) from None
    except Exception as err:
        end_leftovers(ctx, "failed", f"the sweep stopped: {type(err).__name__}: {err}")
        raise
    finally:
        bar.close()
    if client is not None:  # a worker lost mid-run leaves its run folder behind
        end_leftovers(ctx, "failed", "the Dask task ended without finishing its run (worker lost?)")
    return SweepResult(exp.name, ctx.mode, runs, time.perf_counter() - t0, ctx.sweep_id, warnings, [], stats)


def run_notebook(
    notebook: str | os.PathLike,
    *,
    mode: str = "quick",
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    **kwargs,
) -> RunResult:
    """Run ``notebook`` once (one run); the :class:`RunResult`. Same options as :func:`run_sweep`."""
    result = run_sweep(notebook, mode=mode, params=params, seeds=[seed], **kwargs)
    return result.runs[0]


def _interrupted(exp: Experiment, sweep_id: str) -> list[str]:
    return [i.run_id for i in exp.runs() if i.record.sweep_id == sweep_id and i.status == "interrupted"]


def _command(path: Path, mode: str) -> str:
    return f"mlexp run {path} --{mode}"


def _run_async(coro_fn):
    """``asyncio.run`` here, or in a helper thread when this thread already runs a loop (a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    box: dict = {}

    def target():
        try:
            box["value"] = asyncio.run(coro_fn())
        except BaseException as err:
            box["error"] = err

    t = threading.Thread(target=target, name="mlexp-sweep")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
