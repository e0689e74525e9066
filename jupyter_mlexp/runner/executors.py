"""Where runs execute: this machine (``--jobs N``) or a Dask cluster (``--scheduler ADDRESS``).

Both call :func:`~.execute.run_one` with a warm :class:`~.kernels.KernelPool`:
the local executor owns one pool of N kernels for the sweep; each Dask worker
process keeps a pool of as many kernels as it has threads, started ahead when
the sweep connects, and reused across tasks. Run folders are created where the
run executes, so the workers must see the same workspace (a shared file system,
as with papermill on a cluster).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import socket
import threading
from collections import deque
from collections.abc import Callable

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.lifecycle import RunResult, not_started
from jupyter_mlexp.core.run import Run
from jupyter_mlexp.runner.execute import SweepContext, run_one
from jupyter_mlexp.runner.kernels import KernelPool, kernel_env
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
    return client


def run_dask(specs: list[RunSpec], ctx: SweepContext, client, on_start: OnStart, on_done: OnDone) -> list[RunResult]:
    """Submit every spec to the cluster; results in sweep order. Ctrl-C cancels and marks runs interrupted."""
    from distributed import as_completed

    slots = sum(client.nthreads().values()) or 1
    client.run(_prewarm, ctx)  # every worker starts its kernels now, in parallel
    futures = [
        client.submit(_dask_task, spec, ctx, key=f"mlexp-{ctx.sweep_id}-{spec.index}", pure=False) for spec in specs
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
        m = info.manifest
        if m.get("sweep_id") != ctx.sweep_id or m.get("status") != "running":
            continue
        pid = (m.get("kernel") or {}).get("pid")
        if pid and m.get("host") == host:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        try:
            run = Run.attach(info.path)
        except (OSError, ValueError):
            continue
        run.manifest["error"] = {
            "name": "KeyboardInterrupt" if status == "interrupted" else "RunnerError",
            "message": message,
        }
        exp.finish_run(run, status, description=message)
        ended.append(info.run_id)
    return ended


# -- on a Dask worker ----------------------------------------------------------------------------


class _WorkerRuntime:
    """Per worker process: an event loop thread and a warm kernel pool, reused across tasks."""

    def __init__(self, size: int):
        self.size = size
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="mlexp-kernels", daemon=True)
        self.thread.start()
        self.pool: KernelPool | None = None
        self.key: tuple | None = None
        atexit.register(self.kill)

    def _pool(self, ctx: SweepContext) -> KernelPool:
        key = (ctx.source.kernel_name, ctx.cwd, ctx.root, ctx.fresh_kernel)
        if self.pool is None or self.key != key:
            if self.pool is not None:
                asyncio.ensure_future(self.pool.close())
            self.pool = make_pool(ctx, self.size, demand=None)
            self.key = key
        return self.pool

    def call(self, coro_fn):
        return asyncio.run_coroutine_threadsafe(coro_fn(), self.loop).result()

    def prewarm(self, ctx: SweepContext) -> int:
        async def go():
            self._pool(ctx).fill()
            return self.size

        return self.call(go)

    def run(self, spec: RunSpec, ctx: SweepContext) -> RunResult:
        async def go():
            return await run_one(spec, ctx, self._pool(ctx))

        return self.call(go)

    def kill(self) -> None:
        """At worker exit: kernels must not outlive it."""
        pool = self.pool
        for k in list(getattr(pool, "_all", ())):
            if k.pid:
                try:
                    os.kill(k.pid, signal.SIGKILL)
                except OSError:
                    pass


_runtime: _WorkerRuntime | None = None
_runtime_lock = threading.Lock()


def _get_runtime() -> _WorkerRuntime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            try:
                from distributed import get_worker

                w = get_worker()
                size = max(1, int(getattr(w, "nthreads", None) or w.state.nthreads))
            except Exception:
                size = 1
            _runtime = _WorkerRuntime(size)
        return _runtime


def _prewarm(ctx: SweepContext) -> int:
    return _get_runtime().prewarm(ctx)


def _dask_task(spec: RunSpec, ctx: SweepContext) -> RunResult:
    return _get_runtime().run(spec, ctx)
