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
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core import provenance
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.run import FINAL_STATUSES, Run
from jupyter_mlexp.runner import notebook as nbio
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


@dataclass
class RunResult:
    """How one run ended; what ``run_sweep`` returns per run."""

    index: int
    run_id: str | None
    mode: str
    status: str
    params: dict
    seed: int
    path: str | None
    duration_s: float
    error: dict | None = None
    primary_metric: str | None = None
    primary_value: float | None = None
    peak_memory_gb: float | None = None
    kernel_reused: bool = False
    overhead_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def describe(self) -> str:
        what = " ".join([f"seed={self.seed}"] + [f"{k}={v!r}" for k, v in self.params.items() if k != "seed"])
        text = f"{self.mode} run {self.run_id or '(not started)'} [{what}]: {self.status} in {self.duration_s:.2f} s"
        if self.error:
            text += f" — {self.error.get('message', '')}"
        return text

    def to_dict(self) -> dict:
        return asdict(self)


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
        run = exp.start_run(
            spec.mode,
            params=spec.params,
            seed=spec.seed,
            budget_s=ctx.budget,
            command=ctx.command,
            source="mlexp run (papermill parameters, nbclient)",
            notebook=str(src.path),
            git=ctx.git,
            environment=provenance.environment(),
            data=ctx.data,
            **({"stage": ctx.stage} if ctx.stage else {}),
            parameters_cell=src.has_parameters_cell,
            parameters_injected=bool(spec.params),
            **(
                {"parameters_note": "parameters injected at the top: the notebook has no cell tagged 'parameters'"}
                if spec.params and not src.has_parameters_cell
                else {}
            ),
            undeclared_params=spec.undeclared,
            sweep_id=ctx.sweep_id,
            sweep_index=spec.index,
            executor=ctx.executor,
            kernel={"pid": kernel.pid, "reused": reused, "fresh": not pool.reuse, "name": src.kernel_name},
        )
        nb, source_index = nbio.prepare(src, spec.params, run.path, spec.mode, ctx.experiment, spec.seed)
        output = run.path / "output.ipynb"
        kernel.reset_peak_memory()
        state.nb, state.source_index, state.output = nb, source_index, output
        await _execute(kernel, state, ctx.budget)
    except asyncio.CancelledError:
        state.status, state.error = "interrupted", {"name": "KeyboardInterrupt", "message": "interrupted (Ctrl-C)"}
        state.kernel_ok = False
        if run is None:
            await pool.discard(kernel)
            raise
        await _record(exp, run, state, kernel, pool, t0)
        raise
    except BaseException as err:
        if run is None:
            await pool.release(kernel, reusable=True)
            raise
        state.status = "failed"
        state.error = {"name": type(err).__name__, "message": f"runner error: {err}"}
        state.kernel_ok = False
    return await _record(exp, run, state, kernel, pool, t0, spec=spec, reused=reused)


@dataclass
class _Exec:
    nb: Any = None
    source_index: list = field(default_factory=list)
    output: Path | None = None
    status: str = "completed"
    error: dict | None = None
    kernel_ok: bool = True  # alive and not stopped mid-cell
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
    i = getattr(st, "running_index", None)
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
        if time.monotonic() - st.last_save > SAVE_EVERY_S:
            nbio.write(st.nb, st.output)
            st.last_save = time.monotonic()
    st.running_index = None


async def _record(
    exp: Experiment,
    run: Run,
    st: _Exec,
    kernel: Kernel,
    pool: KernelPool,
    t0: float,
    spec: RunSpec | None = None,
    reused: bool = False,
) -> RunResult:
    """Flush the kernel's metrics, write output.ipynb, stamp the final status, free the kernel."""
    peak = None
    reasons: list[str] = []
    if st.kernel_ok and await kernel.alive():
        try:
            await kernel.evaluate("__import__('jupyter_mlexp.core.tracking').core.tracking.flush_batch_run()")
        except Exception as err:
            st.kernel_ok = False
            reasons.append(f"flush failed: {err}")
        peak = kernel.peak_memory_gb()
        if st.status == "completed" and st.kernel_ok and pool.reuse:
            reasons += await kernel.reset()
    else:
        st.kernel_ok = False
    if st.nb is not None and st.output is not None:
        nbio.write(st.nb, st.output)
    # the kernel merged its progress (metrics_summary, cells...) into run.json: read it back
    # into this process's Run (whose run.log handle is still open) before finishing
    final = run
    try:
        with open(run.path / "run.json", encoding="utf-8") as fh:
            on_disk = json.load(fh)
        run.manifest = on_disk
        run.summary = dict(on_disk.get("metrics_summary") or {})
    except (OSError, ValueError):
        pass
    already = final.manifest.get("status")
    if already in FINAL_STATUSES:  # someone (Ctrl-C on the client of a Dask sweep) ended it first
        st.status = already
    else:
        if not st.kernel_ok:
            _summary_from_metrics(final)
        if st.nb is not None:
            _stdout_metrics(exp, final, st.nb)
        extra: dict[str, Any] = {"output_notebook": "output.ipynb"}
        if peak is not None:
            extra["peak_memory_gb"] = round(peak, 4)
        if getattr(st, "exit", None):
            extra["exit"] = st.exit
        if reasons:
            extra["kernel_replaced"] = reasons
        final.manifest["error"] = st.error
        _verdict(exp, final)
        desc = spec.label if spec is not None and spec.label else ""
        exp.finish_run(final, st.status, description=(f"{spec.describe()}" if spec else desc), **extra)
    final._stop_log()
    await pool.release(kernel, reusable=st.kernel_ok and st.status == "completed" and not reasons)
    summary = final.manifest.get("metrics_summary") or {}
    try:
        primary = exp.hypothesis.primary_metric
    except Exception:
        primary = None
    return RunResult(
        index=spec.index if spec else -1,
        run_id=run.run_id,
        mode=run.mode,
        status=st.status,
        params=dict(run.manifest.get("params") or {}),
        seed=run.manifest.get("seed"),
        path=str(run.path),
        duration_s=round(time.perf_counter() - t0, 4),
        error=st.error,
        primary_metric=primary,
        primary_value=(summary.get(primary or "") or {}).get("last"),
        peak_memory_gb=peak,
        kernel_reused=reused,
        overhead_s=round(time.perf_counter() - t0 - st.exec_s, 4),
    )


def _summary_from_metrics(run: Run) -> None:
    """The kernel died before writing run.json: rebuild the summary from metrics.jsonl."""
    path = run.path / "metrics.jsonl"
    if not path.exists():
        return
    summary: dict[str, dict] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut by the crash
            v, name = rec.get("value"), rec.get("name")
            if not isinstance(name, str) or v is None:
                continue
            s = summary.get(name)
            if s is None:
                summary[name] = {"last": v, "min": v, "max": v, "n": 1, "step": rec.get("step")}
            else:
                s.update(last=v, step=rec.get("step"), n=s["n"] + 1, min=min(s["min"], v), max=max(s["max"], v))
    run.summary.update(summary)


def _stdout_metrics(exp: Experiment, run: Run, nb) -> None:
    """``name: value`` lines printed outside ``%%run_quick`` cells, for the hypothesis' metrics not logged."""
    try:
        wanted = set(exp.hypothesis.metrics)
    except Exception:
        return
    run.log_printed_metrics(nbio.stdout_text(nb), wanted=wanted, skip=set(run.summary))
    run.close_metrics()


def _verdict(exp: Experiment, run: Run) -> None:
    try:
        crit = exp.hypothesis.success_criterion
    except Exception:
        return
    run.record_verdict(crit)
