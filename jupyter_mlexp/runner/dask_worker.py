"""On a Dask worker: one event loop thread and one warm kernel pool, reused across tasks, closed with the worker.

A worker keeps as many kernels as it has threads for each kernel, folder and workspace in use
(:class:`PoolKey`). They start when a sweep asks for them (:func:`prewarm`, called on every
worker before the sweep's tasks are submitted) and stay warm for the next sweep with the same key.
:func:`close_runtime` shuts them down; the worker plugin of :mod:`.dask_preload` calls it
when the worker closes, so no kernel outlives its worker (an ``atexit`` kill covers a
worker process that ends without closing).

This module imports only the kernel pool at first: kernels can start while the rest of
what a run needs is still being imported.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import signal
import threading
from collections import Counter, OrderedDict
from typing import Any, NamedTuple

from jupyter_mlexp.runner.kernel_launch import kernel_env
from jupyter_mlexp.runner.kernels import KernelPool

CLOSE_TIMEOUT_S = 10.0
WATCH_S = 0.5  # how often a running task checks that it is still wanted
UNWANTED = "the Dask client that sent this run is gone (killed, or it cancelled the sweep)"
MAX_POOLS = 4  # warm pools a worker keeps for different kernels, folders or workspaces


class PoolKey(NamedTuple):
    """What a warm kernel is good for: runs with the same kernel, working folder, workspace and reuse."""

    kernel_name: str
    cwd: str | None
    root: str | None
    fresh_kernel: bool = False


def pool_key(ctx: Any) -> PoolKey:
    """The :class:`PoolKey` of a sweep's ``SweepContext``."""
    return PoolKey(ctx.source.kernel_name, ctx.cwd, ctx.root, bool(ctx.fresh_kernel))


class WorkerRuntime:
    """Per worker: an event loop thread and warm kernel pools, one per :class:`PoolKey` in use.

    Sweeps from different folders can share a worker at once (the arms of a loop batch, each in
    its worktree): each keeps its own pool, so none closes kernels another's run is using. Past
    :data:`MAX_POOLS`, the least recently used pools with no run going are closed.
    """

    def __init__(self, size: int):
        self.size = size
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="mlexp-kernels", daemon=True)
        self.thread.start()
        self.pools: OrderedDict[PoolKey, KernelPool] = OrderedDict()
        self.busy: Counter[PoolKey] = Counter()
        self.closed = False
        atexit.register(self.kill)

    def _pool(self, key: PoolKey) -> KernelPool:
        """The pool for ``key``, created on first use (in the runtime's loop)."""
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = KernelPool(
                self.size,
                kernel_name=key.kernel_name,
                cwd=key.cwd,
                env=kernel_env(key.root),
                reuse=not key.fresh_kernel,
                demand=None,
            )
        self.pools.move_to_end(key)
        idle = [k for k in self.pools if k != key and not self.busy[k]]
        for old in idle[: max(0, len(self.pools) - MAX_POOLS)]:
            asyncio.ensure_future(self.pools.pop(old).close())
        return pool

    def call(self, coro_fn, wanted=lambda: True):
        """``coro_fn()`` in the runtime's loop, waited for here; cancelled (with :data:`UNWANTED`) once
        ``wanted()`` turns false: Dask cannot stop a running task, so a run watches whether it is still wanted."""
        if self.closed:
            raise RuntimeError("this worker's kernel pool is closed (the worker is closing)")
        task: list[asyncio.Task] = []

        async def tracked():
            current = asyncio.current_task()
            if current is not None:
                task.append(current)
            return await coro_fn()

        done = asyncio.run_coroutine_threadsafe(tracked(), self.loop)
        while True:
            try:
                return done.result(timeout=WATCH_S)
            except concurrent.futures.TimeoutError:
                if wanted() or not task:
                    continue
            # a cancelled run is recorded interrupted (run_one's own end for it), then this call ends
            self.loop.call_soon_threadsafe(task[0].cancel, UNWANTED)
            try:
                return done.result(timeout=CLOSE_TIMEOUT_S * 3)
            except concurrent.futures.CancelledError:
                return None  # nobody waits for this task's result any more

    def prewarm(self, key: PoolKey) -> int:
        """Start the kernels for ``key`` (in the background); the pool's size."""

        async def go():
            self._pool(key).fill()
            return self.size

        return self.call(go)

    def run(self, spec, ctx, wanted=lambda: True):
        """One run on the warm pool; stopped (recorded ``interrupted``) once ``wanted()`` turns false."""
        # here, not at the top: the worker's plugin imports this module before it keeps jsonschema's
        # slow optional modules out (runner/dask_preload.py); execute imports nbformat, which imports them
        from jupyter_mlexp.runner.execute import run_one

        key = pool_key(ctx)

        async def go():
            self.busy[key] += 1
            try:
                return await run_one(spec, ctx, self._pool(key))
            finally:
                self.busy[key] -= 1

        return self.call(go, wanted)

    def pids(self) -> list[int]:
        """The kernel processes of the pools."""
        return [k.pid for pool in list(self.pools.values()) for k in list(pool._all) if k.pid]

    async def aclose(self) -> None:
        """Shut the kernels down (SIGKILL what is left after :data:`CLOSE_TIMEOUT_S`), stop the thread."""
        if self.closed:
            return
        self.closed = True
        pools = list(self.pools.values())
        if pools:

            async def close_all():
                await asyncio.gather(*(p.close() for p in pools), return_exceptions=True)

            done = asyncio.run_coroutine_threadsafe(close_all(), self.loop)
            try:
                await asyncio.wait_for(asyncio.wrap_future(done), CLOSE_TIMEOUT_S)
            except Exception:
                pass
        self.kill()
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self.thread.join, CLOSE_TIMEOUT_S)
        atexit.unregister(self.kill)

    def kill(self) -> None:
        """At worker exit: kernels must not outlive it."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


_runtimes: dict[str, WorkerRuntime] = {}
_lock = threading.Lock()


def _this_worker():
    try:
        from distributed import get_worker

        return get_worker()
    except Exception:  # not in a task or on a worker's event loop
        return None


def _name(worker) -> str:
    return str(getattr(worker, "address", "") or "") if worker is not None else ""


def runtime_for(worker=None) -> WorkerRuntime:
    """The runtime of ``worker`` (default: the worker running this code), created on first use."""
    worker = worker if worker is not None else _this_worker()
    name = _name(worker)
    with _lock:
        rt = _runtimes.get(name)
        if rt is None or rt.closed:
            try:
                size = max(1, int(getattr(worker, "nthreads", None) or worker.state.nthreads))
            except Exception:
                size = 1
            rt = _runtimes[name] = WorkerRuntime(size)
        return rt


async def close_runtime(worker=None) -> list[int]:
    """Close ``worker``'s runtime, if it has one; the kernel PIDs it had."""
    with _lock:
        rt = _runtimes.pop(_name(worker), None)
    if rt is None:
        return []
    pids = rt.pids()
    await rt.aclose()
    return pids


def prewarm(key: PoolKey, dask_worker=None) -> int:
    """On every worker, before a sweep's tasks: its kernels start (``client.run`` passes ``dask_worker``)."""
    return runtime_for(dask_worker).prewarm(key)


def run_task(spec, ctx):
    """One run of a sweep, as a Dask task: on this worker's warm kernels, stopped if the task is
    no longer wanted (its client is gone: killed, or cancelled the sweep)."""
    return runtime_for().run(spec, ctx, _task_wanted())


def _task_wanted():
    """Whether the Dask task running this code is still wanted by the scheduler (it releases the
    tasks of a client that disconnected or cancelled them; the worker then marks a running one
    ``cancelled`` but cannot stop its thread)."""
    worker = _this_worker()
    try:
        from distributed.worker import thread_state

        key = thread_state.key
    except Exception:
        key = None
    if worker is None or key is None:
        return lambda: True

    def wanted() -> bool:
        ts = worker.state.tasks.get(key)
        return ts is not None and ts.state not in ("cancelled", "released", "forgotten")

    return wanted
