"""One run, top to bottom: create the run folder, parameterize, execute, record.

:func:`run_one` is what every executor calls, in this process or on a Dask
worker. It takes a kernel from a :class:`~.kernels.KernelPool`, executes the
notebook's cells through that kernel's client with nbclient, and always ends
the run with a final status — ``completed``, ``failed`` (cell index, error name
and message), ``timeout`` (whole-notebook budget: the kernel is killed) or
``interrupted`` — and writes ``output.ipynb``, the partial one included.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.execution import lifecycle
from jupyter_mlexp.core.execution.lifecycle import RunResult
from jupyter_mlexp.core.execution.run_folder import FINAL_STATUSES, Run
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.parameters import overwritten
from jupyter_mlexp.runner import notebook_io as nbio
from jupyter_mlexp.runner.kernels import Kernel, KernelPool
from jupyter_mlexp.runner.sweep import RunSpec

SAVE_EVERY_S = 2.0  # write the partial output.ipynb at most this often during a run
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class SweepContext:
    """What every run of one sweep shares; picklable, so Dask workers get it too."""

    experiment: str
    root: str  # the workspace root (its experiments/ folder holds the record)
    source: Any  # notebook.SourceNotebook
    mode: str
    budget: float | None = None
    stage: str | None = None
    sweep_id: str = ""
    command: str = ""
    git: dict = field(default_factory=dict)
    fresh_kernel: bool = False
    cwd: str | None = None
    executor: str = "local"
    data: dict = field(default_factory=dict)


async def run_one(spec: RunSpec, ctx: SweepContext, pool: KernelPool) -> RunResult:
    """Execute ``spec`` as one run of ``ctx.experiment``; never leaves the run ``running``."""
    exp = Experiment(ctx.experiment, root=ctx.root)
    t0 = time.perf_counter()
    kernel = await pool.acquire()
    reused = kernel.runs > 0
    run: Run | None = None
    state = _Exec()
    try:
        src = ctx.source
        run = lifecycle.start(
            exp,
            spec.mode,
            source="mlexp run (papermill parameters, nbclient)",
            seed=spec.seed,
            params=spec.params,
            budget=ctx.budget,
            command=ctx.command,
            data=ctx.data,
            git=ctx.git,
            notebook=str(src.path),
            **_stage(ctx),
            parameters_cell=src.has_parameters_cell,
            parameters_injected=bool(spec.params),
            undeclared_params=spec.undeclared,
            sweep_id=ctx.sweep_id,
            sweep_index=spec.index,
            executor=ctx.executor,
            workdir=ctx.cwd or str(src.path.parent),
            kernel={"pid": kernel.pid, "reused": reused, "fresh": not pool.reuse, "name": src.kernel_name},
        )
        nb, source_index = nbio.prepare(src, spec.params, run.path, spec.mode, ctx.experiment, spec.seed)
        output = run.path / "output.ipynb"
        kernel.reset_peak_memory()
        state.nb, state.source_index, state.output = nb, source_index, output
        await _execute(kernel, state, ctx.budget)
    except asyncio.CancelledError as stop:
        why = stop.args[0] if stop.args and isinstance(stop.args[0], str) else None  # a Dask worker says why
        state.status = "interrupted"
        state.error = {"name": "RunnerGone", "message": why} if why else _CTRL_C
        state.kernel_ok = False
        if run is None:
            await pool.discard(kernel)
            raise
        await _record(exp, run, state, kernel, pool, t0, spec=spec, reused=reused)
        raise
    except BaseException as err:
        if run is None:
            await pool.release(kernel, reusable=True)
            raise
        state.status = "failed"
        state.error = {"name": type(err).__name__, "message": f"runner error: {err}"}
        state.kernel_ok = False
    return await _record(exp, run, state, kernel, pool, t0, spec=spec, reused=reused)


def _stage(ctx: SweepContext) -> dict[str, Any]:
    return {"stage": ctx.stage} if ctx.stage else {}


_CTRL_C = {"name": "KeyboardInterrupt", "message": "interrupted (Ctrl-C)"}


@dataclass
class _Exec:
    """How the execution of one run's notebook is going, and how it ended."""

    nb: Any = None
    source_index: list = field(default_factory=list)
    output: Path | None = None
    status: str = "completed"
    error: dict | None = None
    kernel_ok: bool = True  # alive and not stopped mid-cell
    running_index: int | None = None  # the cell being executed
    exit: dict | None = None  # the notebook ended early with sys.exit(0)
    stopped: bool = False  # the runner stopped it (budget, Ctrl-C): the cell loop must not judge
    exec_s: float = 0.0
    last_save: float = 0.0


async def _execute(kernel: Kernel, st: _Exec, budget: float | None) -> None:
    """Run every cell; fill ``st`` with how it ended."""
    task = asyncio.ensure_future(_cells(kernel, st))
    t0 = time.perf_counter()
    try:
        done, _ = await asyncio.wait({task}, timeout=budget if budget and budget > 0 else None)
    except asyncio.CancelledError:
        st.stopped = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    st.exec_s = time.perf_counter() - t0
    if not done:  # the whole-notebook budget is spent: stop the kernel, keep what ran
        st.status = "timeout"
        st.error = {
            "name": "RunTimeoutError",
            "message": f"notebook budget of {budget:g} s spent",
            "cell_index": _current_cell(st),
        }
        st.kernel_ok = False
        st.stopped = True
        await kernel.shutdown()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return
    exc = task.exception()
    if exc is not None:
        raise exc


def _current_cell(st: _Exec) -> int | None:
    i = st.running_index
    return None if i is None else st.source_index[i]


async def _cells(kernel: Kernel, st: _Exec) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    client = NotebookClient(st.nb, km=kernel.km, timeout=None, allow_errors=False, kernel_name=kernel.km.kernel_name)
    client.kc = kernel.kc
    st.last_save = time.monotonic()
    for index, cell in enumerate(st.nb.cells):
        if cell.cell_type != "code":
            continue
        st.running_index = index
        try:
            await client.async_execute_cell(cell, index)
        except CellExecutionError as err:
            if st.stopped:
                return
            if err.ename == "SystemExit" and err.evalue.strip() in ("", "0", "None"):
                # papermill's rule: sys.exit(0) ends the notebook early, successfully
                st.error = None
                st.exit = {"cell_index": st.source_index[index], "code": 0}
                st.running_index = None
                return
            st.status = "failed"
            st.error = {
                "name": err.ename,
                "message": f"{err.ename}: {err.evalue}" if err.evalue else err.ename,
                "evalue": err.evalue,
                "cell_index": st.source_index[index],
                "output_cell_index": index,
                "execution_count": cell.get("execution_count"),
                "source": cell.source[:500],
                "traceback": _ANSI.sub("", str(err))[-4000:],
            }
            if err.ename == "SystemExit":
                st.error["message"] = f"the notebook called sys.exit({err.evalue}) in cell {st.source_index[index]}"
            nbio.mark_error(st.nb, index, st.error["message"])
            return
        except DeadKernelError:
            if st.stopped:
                return
            st.status = "failed"
            st.error = {
                "name": "DeadKernelError",
                "message": "the kernel died while running cell "
                f"{st.source_index[index]} (killed, out of memory, os._exit or exit())",
                "cell_index": st.source_index[index],
                "output_cell_index": index,
            }
            st.kernel_ok = False
            return
        if st.output is not None and time.monotonic() - st.last_save > SAVE_EVERY_S:
            nbio.write(st.nb, st.output)
            st.last_save = time.monotonic()
    st.running_index = None


async def _end_in_kernel(st: _Exec, kernel: Kernel, pool: KernelPool) -> tuple[float | None, list[str]]:
    """One round trip: the kernel writes the run's metrics and, for a kernel to reuse, resets itself.
    Its peak memory, and the reasons it must not be reused."""
    if not (st.kernel_ok and await kernel.alive()):
        st.kernel_ok = False
        return None, []
    reset_after = st.status == "completed" and pool.reuse
    try:
        reasons = list(await kernel.end_run(reset_after))
    except Exception as err:
        st.kernel_ok = False
        reasons = [f"flush failed: {err}"]
    return kernel.peak_memory_gb(), reasons


def _finish_run(
    exp: Experiment, run: Run, st: _Exec, spec: RunSpec, peak: float | None, reasons: list[str]
) -> RunResult:
    """End the run through the life cycle, unless someone already ended it; its result."""
    already = run.record.status
    if already in FINAL_STATUSES:  # someone (Ctrl-C on the client of a Dask sweep) ended it first
        st.status = already
        run.stop_log()
        return lifecycle.result_of(run, lifecycle.hypothesis_of(exp))
    extra: dict[str, Any] = {"output_notebook": "output.ipynb"}
    extra.update(configuration(run.manifest, spec.params))
    if st.exit:
        extra["exit"] = st.exit
    if reasons:
        extra["kernel_replaced"] = reasons
    result = lifecycle.finish(
        exp,
        run,
        st.status,
        error=st.error,
        printed=nbio.stdout_text(st.nb) if st.nb is not None else "",
        peak_memory=None if peak is None else round(peak, 4),
        description=_describe(spec.seed, extra.get("params", spec.params)),
        **extra,
    )
    if extra.get("params_overwritten"):
        result.notes.append(overwritten_note(extra["params_overwritten"]))
    return result


def _describe(seed: int, params: dict[str, Any]) -> str:
    """The results.tsv description: the seed and the values the run used."""
    return " ".join([f"seed={seed}"] + [f"{k}={v!r}" for k, v in params.items() if k != "seed"])


def overwritten_note(changed: dict[str, dict[str, Any]]) -> str:
    """One line: which injected parameters the notebook overwrote, and that the run counts under the used values."""
    items = ", ".join(f"{k} (injected {v['injected']!r}, used {v['used']!r})" for k, v in changed.items())
    return f"the notebook overwrote {items}: recorded under the values it used"


def configuration(manifest: dict[str, Any], injected: dict[str, Any]) -> dict[str, Any]:
    """What the run records as its configuration: the values the kernel read back at the end
    (``params_seen``) over what was injected, with the injected values kept and any the notebook
    overwrote flagged. A kernel that could not be asked leaves the injected values, flagged unread."""
    seen = manifest.pop("params_seen", None)
    if not isinstance(seen, dict):
        return {"params": dict(injected), "params_read_back": False} if injected else {}
    out: dict[str, Any] = {"params": {**injected, **seen}, "params_read_back": True}
    if injected:
        out["params_injected"] = dict(injected)
    changed = overwritten(injected, seen)
    if changed:
        out["params_overwritten"] = changed
    return out


async def _record(
    exp: Experiment,
    run: Run,
    st: _Exec,
    kernel: Kernel,
    pool: KernelPool,
    t0: float,
    spec: RunSpec,
    reused: bool = False,
) -> RunResult:
    """Flush the kernel's metrics, write output.ipynb, end the run (the life cycle), free the kernel.
    The life cycle's result, with this executor's own fields added."""
    peak, reasons = await _end_in_kernel(st, kernel, pool)
    if st.nb is not None and st.output is not None:
        nbio.write(st.nb, st.output)
    # The kernel merged its progress (metrics summary, cells...) into run.json; a dead one
    # left only metrics.jsonl.
    run.reload(rebuild_summary=not st.kernel_ok)
    result = _finish_run(exp, run, st, spec, peak, reasons)
    await pool.release(kernel, reusable=st.kernel_ok and st.status == "completed" and not reasons)
    result.index, result.kernel_reused = spec.index, reused
    result.overhead_s = round(time.perf_counter() - t0 - st.exec_s, 4)
    return result
