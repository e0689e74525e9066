"""Kernel transport: a runner's kernel over Unix sockets (the default) against loopback TCP.

Both measured in the same run with the runner's own :class:`~jupyter_mlexp.runner.kernels.Kernel`:
the time to start a kernel and have it ready, and the median round trip of one ``evaluate``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time

from benchmarks.common import figure

STARTS = 5
ROUND_TRIPS = 200


async def _measure(transport: str, cwd: str) -> tuple[float, float]:
    from jupyter_mlexp.runner.kernels import Kernel, kernel_env

    os.environ["MLEXP_KERNEL_TRANSPORT"] = transport
    starts, trips = [], []
    for _ in range(STARTS):
        t0 = time.perf_counter()
        kernel = await Kernel.start("python3", cwd, kernel_env(), reuse=False)
        starts.append(time.perf_counter() - t0)
        try:
            for _ in range(ROUND_TRIPS // STARTS):
                t1 = time.perf_counter()
                await kernel.evaluate("1")
                trips.append(time.perf_counter() - t1)
        finally:
            await kernel.shutdown()
    return statistics.median(starts), statistics.median(trips)


def run() -> list[dict]:
    saved = os.environ.get("MLEXP_KERNEL_TRANSPORT")
    try:
        with tempfile.TemporaryDirectory() as cwd:
            # interleaved, so drift on a shared machine hits both alike
            results: dict[str, list[tuple[float, float]]] = {"ipc": [], "tcp": []}
            for _ in range(2):
                for transport in ("tcp", "ipc"):
                    results[transport].append(asyncio.run(_measure(transport, cwd)))
    finally:
        if saved is None:
            os.environ.pop("MLEXP_KERNEL_TRANSPORT", None)
        else:
            os.environ["MLEXP_KERNEL_TRANSPORT"] = saved
    ipc_start = statistics.median(s for s, _ in results["ipc"])
    tcp_start = statistics.median(s for s, _ in results["tcp"])
    ipc_trip = statistics.median(t for _, t in results["ipc"])
    tcp_trip = statistics.median(t for _, t in results["tcp"])
    goal = "Unix sockets no slower than loopback TCP (anchor = TCP, same run)"
    return [
        figure("kernel_round_trip_ipc_ms", ipc_trip * 1e3, "ms", tcp_trip * 1e3, goal),
        figure("kernel_start_ready_ipc_s", ipc_start, "s", tcp_start, goal),
    ]
