"""The agents' server (issue 22): a ``runs`` call on 1,000 runs through a warm ``mlexp mcp``.

The record is the REST benchmark's experiment (1,000 runs, 50 of them ignored). The server is a
real ``mlexp mcp`` subprocess driven by the MCP SDK's stdio client; one call warms it (imports,
the first read of the record), then each timed call is a whole round trip: the request, the
tool (the record's stamp, a few stat calls; ``views.runs_dict`` and the verdict kept while it
holds; the filter and the bounded page), the response. The anchor is what the tool would cost
without the kept read: ``runs_dict`` and ``judge_experiment`` in this process.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_api import REPO, make_record
from benchmarks.common import figure, median_time


def _round_trips(root: Path, repeat: int = 25) -> tuple[float, float]:
    import anyio
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    env = {k: v for k, v in os.environ.items() if not k.startswith("MLEXP_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "jupyter_mlexp.frontdoors.cli", "mcp", "--root", str(root)], env=env
    )

    async def go() -> tuple[float, float]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            t0 = time.perf_counter()
            first = await s.call_tool("runs", {"experiment": "bench"})
            cold = time.perf_counter() - t0
            assert not first.is_error, first.content
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                await s.call_tool("runs", {"experiment": "bench"})
                times.append(time.perf_counter() - t0)
            return statistics.median(times), cold

    return anyio.run(go)


def run() -> list[dict]:
    try:
        import mcp  # noqa: F401
    except ImportError:
        return [{"name": "mcp_runs_round_trip_ms", "skipped": "pip install 'jupyter-mlexp[agents]'"}]
    from jupyter_mlexp.core import views
    from jupyter_mlexp.core.experiment import Experiment
    from jupyter_mlexp.core.stats.verdict import judge_experiment

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_record(root)
        warm, cold = _round_trips(root)
        exp = Experiment("bench", root)

        def in_process():
            views.runs_dict(exp)
            judge_experiment(exp)

        anchor = median_time(in_process, repeat=9, warmup=2)
    return [
        figure(
            "mcp_runs_round_trip_ms",
            warm * 1e3,
            "ms",
            anchor * 1e3,
            "<= 50 ms",
            first_call_ms=round(cold * 1e3, 1),
            runs=1000,
            anchor="runs_dict + judge_experiment in process, warm",
        )
    ]
