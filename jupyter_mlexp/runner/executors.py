"""Where runs execute: this machine (``--jobs N``) or a Dask cluster (``--scheduler ADDRESS``).

Both call :func:`~.execute.run_one` with a warm :class:`~.kernels.KernelPool`:
the local executor owns one pool of N kernels for the sweep; each Dask worker
keeps a pool of as many kernels as it has threads (:mod:`.dask_worker`), started
ahead when a sweep begins and reused across tasks and sweeps; the worker plugin
registered on connect (:mod:`.dask_preload`) imports what a run needs ahead and
shuts the kernels down with the worker. Run folders are created where the
run executes, so the workers must see the same workspace (a shared file system,
as with papermill on a cluster).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections import deque
from collections.abc import Callable

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.execution import lifecycle
from jupyter_mlexp.core.execution.lifecycle import RunResult, not_started
from jupyter_mlexp.core.execution.run_folder import Run
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.runner.execute import SweepContext, run_one
from jupyter_mlexp.runner.kernel_launch import kernel_env
from jupyter_mlexp.runner.kernels import KernelPool
from jupyter_mlexp.runner.sweep import RunSpec

DEFAULT_CONNECT_TIMEOUT = 5.0

OnStart = Callable[[RunSpec], None]
OnDone = Callable[[RunResult], None]


class SchedulerError(MlexpError):
    """The Dask scheduler cannot be reached or has no workers."""


# -- local ---------------------------------------------------------------------------------------


def make_pool(ctx: SweepContext, size: int, demand: int | None) -> KernelPool:
    return KernelPool(
        size,
        kernel_name=ctx.source.kernel_name,
        cwd=ctx.cwd,
        env=kernel_env(ctx.root),
        reuse=not ctx.fresh_kernel,
        demand=demand,
    )


async def run_local(
    specs: list[RunSpec], ctx: SweepContext, jobs: int, on_start: OnStart, on_done: OnDone, stats: dict | None = None
) -> list[RunResult]:
    """Run ``specs`` ``jobs`` at a time in this process's event loop."""
    pool = make_pool(ctx, min(jobs, len(specs)), demand=len(specs))
    pool.fill()  # kernels start while the first run folders are prepared
    todo = deque(specs)
    results: list[RunResult] = []

    async def worker():
        while todo:
            spec = todo.popleft()
            on_start(spec)
            result = await run_one(spec, ctx, pool)
            results.append(result)
            on_done(result)

    tasks = [asyncio.ensure_future(worker()) for _ in range(pool.size)]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for t in done:
            err = t.exception()
            if err is not None:
                for p in pending:
                    p.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                raise err
    except asyncio.CancelledError:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        await pool.close()
        if stats is not None:
            stats.update(kernels_started=pool.started, shutdown_times=list(pool.shutdown_times), stalls=pool.stalls)
    return sorted(results, key=lambda r: r.index)


# -- Dask ----------------------------------------------------------------------------------------


def connect(address: str, timeout: float | None = None):
    """A ``dask.distributed.Client`` on ``address``, or a :class:`SchedulerError` naming it, fast."""
    try:
        from distributed import Client

        from jupyter_mlexp.runner import dask_preload
    except ImportError:
        raise SchedulerError("--scheduler needs dask.distributed: pip install 'jupyter-mlexp[dask]'") from None
    timeout = float(os.environ.get("MLEXP_SCHEDULER_TIMEOUT", DEFAULT_CONNECT_TIMEOUT)) if timeout is None else timeout
    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)
    except Exception as err:  # OSError, TimeoutError, ValueError for a malformed address
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address} (waited {timeout:g} s): {reason}. "
            "Start one (`dask scheduler` + `dask worker ADDRESS`) or drop --scheduler to run locally"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except Exception:
        client.close()
        raise SchedulerError(f"the Dask scheduler at {address} has no workers (waited {timeout:g} s)") from None
    dask_preload.register(client)  # workers start importing what a run needs while the sweep is planned
    return client


def run_dask(specs: list[RunSpec], ctx: SweepContext, client, on_start: OnStart, on_done: OnDone) -> list[RunResult]:
    """Submit every spec to the cluster; results in sweep order. Ctrl-C cancels and marks runs interrupted."""
    from distributed import as_completed

    from jupyter_mlexp.runner import dask_preload, dask_worker

    slots = sum(client.nthreads().values()) or 1
    dask_preload.register(client)  # a no-op when connect() did it
    client.run(dask_worker.prewarm, dask_worker.pool_key(ctx))  # every worker starts its kernels now, in parallel
    futures = [
        client.submit(dask_worker.run_task, spec, ctx, key=f"mlexp-{ctx.sweep_id}-{spec.index}", pure=False)
        for spec in specs
    ]
    waiting = deque(specs)
    for _ in range(min(slots, len(specs))):
        on_start(waiting.popleft())
    results: list[RunResult] = []
    try:
        for future in as_completed(futures, loop=client.loop):
            try:
                result = future.result()
            except Exception as err:  # a worker lost mid-run, a pickling problem
                spec = specs[int(future.key.rsplit("-", 1)[1])]
                result = not_started(
                    spec.mode, f"Dask task failed: {err}", index=spec.index, params=spec.params, seed=spec.seed
                )
            results.append(result)
            on_done(result)
            if waiting:
                on_start(waiting.popleft())
    except BaseException:
        client.cancel(futures, force=True)
        raise
    return sorted(results, key=lambda r: r.index)


def end_leftovers(ctx: SweepContext, status: str, message: str) -> list[str]:
    """Runs of this sweep still ``running`` (Ctrl-C, a lost worker): end them, kill their kernels."""
    exp = Experiment(ctx.experiment, root=ctx.root)
    ended = []
    host = socket.gethostname()
    for info in exp.runs():
        r = info.record
        if r.sweep_id != ctx.sweep_id or r.status != "running":
            continue
        pid = r.kernel.get("pid")
        if pid and r.host == host:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        try:
            run = Run.attach(info.path)
        except (OSError, ValueError):
            continue
        run.reload(rebuild_summary=True)  # its kernel was stopped before it wrote its summary
        error = {"name": "KeyboardInterrupt" if status == "interrupted" else "RunnerError", "message": message}
        lifecycle.finish(exp, run, status, error=error, description=message)
        ended.append(info.run_id)
    return ended
