"""Kernels for runs: started ahead, one persistent client each, reset between runs.

A fresh papermill run pays ~0.5 s of kernel start and a new client handshake,
and sometimes a ~3 s stall at shutdown (see ``shared/notes/anchors.md``). A
:class:`KernelPool` starts its kernels before they are needed and hands each
to one run at a time through the same client; between runs the kernel is reset
(:mod:`.kernelside`) instead of restarted. A run that failed, or that changed
state the reset cannot undo, gets its kernel replaced. With ``reuse=False``
(``--fresh-kernel``) every run gets a kernel of its own, still started ahead.
Kernels are always shut down immediately (SIGKILL after the run is recorded):
there is nothing left in them to save, and a polite shutdown is what stalls.

How a kernel process is launched (its environment, its sockets, its launcher) is
:mod:`.kernel_launch`.
"""

from __future__ import annotations

import ast
import asyncio
import shutil
import signal
import sys
import time
from queue import Empty

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.runner.kernel_launch import kernel_env, skip_debugger, socket_transport

__all__ = ["Kernel", "KernelError", "KernelPool", "kernel_env", "socket_transport"]

STALL_S = 1.0  # a shutdown slower than this paid the stall


class KernelError(MlexpError):
    """A kernel that could not be started or answered."""


READY_POLL_S = 0.05
KERNEL_ARGUMENTS = [
    # an in-memory history: parallel kernels must not fight over one sqlite file
    "--HistoryManager.hist_file=:memory:",
    # ipykernel sleeps 0.5 ms before each execute_reply, for clients that stop reading output
    # when the reply comes; nbclient reads IOPub until the kernel's "idle", which comes after every
    # output, so nothing is lost here. It cost 0.8 ms of each ~5 ms round trip (benchmarks).
    "--Kernel._execute_sleep=0",
]


async def _wait_ready(km, kc, timeout: float) -> None:
    """``kc.wait_for_ready`` with a 50 ms poll.

    jupyter_client waits up to 1 s for each kernel_info reply and then 0.2 s for an IOPub
    message (to know IOPub is subscribed), which costs a fresh kernel ~0.15-0.2 s of pure
    waiting (measured here: ready in 0.37-0.47 s instead of 0.54-0.60 s). Same checks: a
    kernel_info reply on shell, then any IOPub message.
    """
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            raise KernelError(f"kernel did not answer within {timeout:g} s")
        kc.kernel_info()
        try:
            msg = await kc.shell_channel.get_msg(timeout=READY_POLL_S)
        except Empty:
            if not await km.is_alive():
                raise KernelError("kernel died before it answered") from None
            continue
        if msg.get("msg_type") != "kernel_info_reply":
            continue
        try:
            await kc.iopub_channel.get_msg(timeout=READY_POLL_S)
        except Empty:
            continue  # IOPub not subscribed yet: ask again
        handle = getattr(kc, "_handle_kernel_info_reply", None)  # protocol adaptation, as wait_for_ready does
        if handle is not None:
            handle(msg)
        break
    # Requests queued while the kernel booted are answered together: drop the extra replies.
    for channel in (kc.shell_channel, kc.iopub_channel):
        while True:
            try:
                await channel.get_msg(timeout=0.01)
            except Empty:
                break


class Kernel:
    """One kernel process and its one client."""

    def __init__(self, km, kc, reuse: bool):
        self.km = km
        self.kc = kc
        self.reuse = reuse
        self.runs = 0
        self.started_s = 0.0
        self.shutdown_s: float | None = None
        self.socket_folder: str | None = None  # the Unix sockets' folder, removed at shutdown

    @property
    def pid(self) -> int | None:
        prov = getattr(self.km, "provisioner", None)
        return getattr(prov, "pid", None) or getattr(getattr(prov, "process", None), "pid", None)

    @classmethod
    async def start(
        cls, kernel_name: str, cwd: str | None, env: dict, reuse: bool = True, timeout: float = 60.0
    ) -> Kernel:
        from jupyter_client.manager import AsyncKernelManager

        t0 = time.perf_counter()
        transport, folder = socket_transport()
        km = AsyncKernelManager(kernel_name=kernel_name, **transport)
        if reuse:
            skip_debugger(km)
        try:
            await km.start_kernel(
                cwd=cwd,
                env=env,
                extra_arguments=KERNEL_ARGUMENTS,
            )
        except Exception as err:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
            raise KernelError(f"could not start kernel {kernel_name!r}: {err}") from err
        kc = km.client()
        kc.start_channels()
        kernel = cls(km, kc, reuse)
        kernel.socket_folder = folder
        try:
            await _wait_ready(km, kc, timeout)
            kc.allow_stdin = False
            if reuse:
                await kernel.evaluate("__import__('jupyter_mlexp.runner.kernelside').runner.kernelside.snapshot()")
        except BaseException:
            await kernel.shutdown()
            raise
        kernel.started_s = time.perf_counter() - t0
        return kernel

    async def alive(self) -> bool:
        try:
            return bool(await self.km.is_alive())
        except Exception:
            return False

    async def evaluate(self, expression: str, timeout: float = 30.0):
        """Evaluate one Python expression in the kernel, outside the notebook; its value, as a literal."""
        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"v": expression})
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelError(f"kernel did not answer within {timeout:g} s")
            try:
                msg = await self.kc.get_shell_msg(timeout=min(left, 1.0))
            except Empty:
                if not await self.alive():
                    raise KernelError("kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            value = msg["content"].get("user_expressions", {}).get("v")
            if not value or value.get("status") != "ok":
                err = value or msg["content"]
                raise KernelError(f"{err.get('ename', 'error')}: {err.get('evalue', '')}")
            text = value["data"].get("text/plain", "None")
            try:
                return ast.literal_eval(text)
            except (ValueError, SyntaxError):
                return text

    async def end_run(self, reset_after: bool) -> list[str]:
        """Flush the batch run's metrics and (``reset_after``) reset, in one round trip (:func:`.kernelside.end_run`)."""
        return list(
            await self.evaluate(
                f"__import__('jupyter_mlexp.runner.kernelside').runner.kernelside.end_run({reset_after})"
            )
        )

    async def reset(self) -> list[str]:
        """Reset for the next run; the reasons it cannot be reused (empty: reusable)."""
        try:
            return list(await self.evaluate("__import__('jupyter_mlexp.runner.kernelside').runner.kernelside.reset()"))
        except KernelError as err:
            return [f"reset failed: {err}"]

    async def shutdown(self) -> float:
        """Kill the kernel now and free its client; the seconds it took."""
        t0 = time.perf_counter()
        try:
            self.kc.stop_channels()
        except Exception:
            pass
        await self._kill_now()
        try:
            if self.km.has_kernel:
                await self.km.shutdown_kernel(now=True)
        except Exception:
            pass
        if self.socket_folder:
            shutil.rmtree(self.socket_folder, ignore_errors=True)
        self.shutdown_s = time.perf_counter() - t0
        return self.shutdown_s

    async def _kill_now(self) -> None:
        """SIGKILL the kernel's process group and reap it within milliseconds (jupyter_client's own
        wait polls every 100 ms, which every sweep paid at its end)."""
        prov = getattr(self.km, "provisioner", None)
        proc = getattr(prov, "process", None)
        if prov is None or proc is None:
            return
        try:
            await prov.send_signal(signal.SIGKILL)  # the process group: the kernel's children too
        except Exception:
            return
        for _ in range(500):
            if proc.poll() is not None:
                return
            await asyncio.sleep(0.002)

    # -- peak memory of the kernel process -------------------------------------------------
    def reset_peak_memory(self) -> None:
        """Linux: restart the process's high-water mark, so a reused kernel reports this run's peak."""
        pid = self.pid
        if pid and sys.platform.startswith("linux"):
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as fh:
                    fh.write("5")
            except OSError:
                pass

    def peak_memory_gb(self) -> float | None:
        pid = self.pid
        if not pid:
            return None
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024**2
        except OSError:
            pass
        try:
            import psutil

            return psutil.Process(pid).memory_info().rss / 1024**3
        except Exception:
            return None


class KernelPool:
    """Kernels started ahead for a sweep: ``acquire`` one per run, ``release`` it after.

    ``demand`` (runs still to start) keeps the pool from starting replacements no
    run will use; None means unbounded (a Dask worker's pool).
    """

    def __init__(
        self,
        size: int,
        kernel_name: str = "python3",
        cwd: str | None = None,
        env: dict | None = None,
        reuse: bool = True,
        demand: int | None = None,
    ):
        if size < 1:
            raise MlexpError("a kernel pool needs at least one kernel")
        self.size = size
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.env = env if env is not None else kernel_env()
        self.reuse = reuse
        self.demand = demand
        self._ready: asyncio.Queue = asyncio.Queue()
        self._starting: set[asyncio.Task] = set()
        self._all: set[Kernel] = set()
        self.shutdown_times: list[float] = []
        self.started = 0
        self.closed = False
        self._waiting = 0  # acquire calls waiting for a kernel

    def _want(self) -> bool:
        # a reused kernel in a run comes back; a fresh one does not
        have = (len(self._all) if self.reuse else self._ready.qsize()) + len(self._starting)
        want = self.size if self.demand is None else min(self.size, self.demand)
        return not self.closed and have < want

    def _spawn(self) -> None:
        task = asyncio.ensure_future(self._start_one())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _start_one(self) -> None:
        try:
            k = await Kernel.start(self.kernel_name, self.cwd, self.env, reuse=self.reuse)
        except BaseException as err:
            if not isinstance(err, asyncio.CancelledError):
                await self._ready.put(err)
            raise
        self.started += 1
        if self.closed:
            self.shutdown_times.append(await k.shutdown())
            return
        self._all.add(k)
        await self._ready.put(k)

    def fill(self) -> None:
        """Start kernels until the pool has what the remaining runs need."""
        while self._want():
            self._spawn()

    async def acquire(self) -> Kernel:
        if self.demand is not None:
            self.demand -= 1
        # Every waiter needs a kernel of its own, ready or starting: a kernel another waiter will
        # take is not this one's (a sweep whose runs all replaced their kernels hung on that).
        self._waiting += 1
        try:
            if self._ready.qsize() + len(self._starting) < self._waiting:
                self._spawn()
            item = await self._ready.get()
        finally:
            self._waiting -= 1
        if isinstance(item, BaseException):
            raise KernelError(f"kernel failed to start: {item}") from item
        self.fill()  # fresh kernels: start the next one while this one runs
        return item

    async def release(self, kernel: Kernel, reusable: bool) -> None:
        kernel.runs += 1
        if self.reuse and reusable and not self.closed and await kernel.alive():
            await self._ready.put(kernel)
            return
        await self.discard(kernel)
        self.fill()

    async def discard(self, kernel: Kernel) -> None:
        self._all.discard(kernel)
        self.shutdown_times.append(await kernel.shutdown())

    async def close(self) -> None:
        self.closed = True
        for task in list(self._starting):
            task.cancel()
        if self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)
        kernels = list(self._all)
        self._all.clear()
        times = await asyncio.gather(*(k.shutdown() for k in kernels), return_exceptions=True)
        self.shutdown_times += [t for t in times if isinstance(t, float)]

    @property
    def stalls(self) -> int:
        return sum(1 for t in self.shutdown_times if t > STALL_S)
