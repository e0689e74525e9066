"""A run with a million metric lines: ``mlexp runs`` / ``status`` in bounded memory and linear time, its curve sampled.

One experiment with one completed run whose ``metrics.jsonl`` holds ``N_LINES`` lines (two
metrics). Figures: ``mlexp runs`` and ``mlexp status`` in a fresh process, wall time and peak
memory (anchor: a fresh process that json.loads each line and keeps nothing); the streamed
summary of 10x the lines over 1x (goal: about 10, linear); the sampled curve the REST API
serves (2,000 points a metric; anchor: the same file read from offset 0 in the unsampled
chunks a client would loop over), and the same curve read again after 10,000 more lines (anchor:
the first sampled read). 10M lines take minutes to write here, so
``MLEXP_BENCH_METRIC_LINES=10000000`` measures them by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import figure, median_time, peak_mb_of

N_LINES = int(os.environ.get("MLEXP_BENCH_METRIC_LINES", "1000000"))
HYPOTHESIS = "Momentum 0.9 lowers validation loss\nsuccess: val_loss <= 0.3\nmetrics: val_loss, acc\n"

#: The anchor: a fresh process that parses every line with json.loads and keeps nothing (the floor
#: of any reader in Python that looks at each value).
PARSE_FLOOR = """
import json, sys
with open(sys.argv[1], "rb") as fh:
    for line in fh:
        json.loads(line)
"""


def write_lines(path: Path, n: int) -> None:
    """``n`` lines as ``log_metric`` writes them: val_loss every step, acc every tenth."""
    with open(path, "w") as fh:
        batch = []
        for s in range(n):
            batch.append(
                f'{{"name":"val_loss","value":{1 / (s + 1)!r},"step":{s},"time":1700000000.{s % 999999:06d}}}\n'
            )
            if s % 10 == 9:
                batch.append(f'{{"name":"acc","value":{(s % 1000) / 1000!r},"step":{s // 10},"time":1700000000.0}}\n')
            if len(batch) >= 100_000:
                fh.write("".join(batch))
                batch.clear()
        fh.write("".join(batch))


def make_record(root: Path, n: int) -> Path:
    from jupyter_mlexp.core.experiment import Experiment

    exp = Experiment("bench", root)
    exp.register(HYPOTHESIS)
    run = exp.start_run("full", run_id="long", params={"momentum": 0.9}, seed=0)
    run.log_metric("val_loss", 1.0)
    exp.finish_run(run, "completed")
    write_lines(run.path / "metrics.jsonl", n)
    return run.path / "metrics.jsonl"


def in_fresh_process(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = peak_mb_of(proc)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 2):
        raise RuntimeError(f"{argv} exited {proc.returncode}")
    return wall, peak


def run() -> list[dict]:
    from jupyter_mlexp.core.record import memo
    from jupyter_mlexp.core.record.metric_curves import read_since
    from jupyter_mlexp.core.record.metric_lines import read_summaries
    from jupyter_mlexp.frontdoors.server import run_views

    root = Path(tempfile.mkdtemp(prefix="mlexp-bench-lines-"))
    metrics = make_record(root, N_LINES)
    lines = N_LINES + N_LINES // 10
    env = {**os.environ, "MLEXP_ROOT": str(root)}
    mlexp = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli"]
    bare_s, bare_mb = in_fresh_process([sys.executable, "-c", PARSE_FLOOR, str(metrics)], env)
    out = []
    for command in ("runs", "status"):
        wall, mb = min(in_fresh_process([*mlexp, command, "bench"], env) for _ in range(2))
        out.append(
            figure(
                f"mlexp_{command}_{N_LINES}_metric_lines_s", wall, "s", bare_s, "time linear in the lines", lines=lines
            )
        )
        out.append(
            figure(f"mlexp_{command}_{N_LINES}_metric_lines_peak_mb", mb, "MB", bare_mb, "< 500 MB at 10M lines")
        )

    small = metrics.with_name("small.jsonl")
    write_lines(small, N_LINES // 10)
    t_small = median_time(lambda: read_summaries(small), repeat=3)
    t_big = median_time(lambda: read_summaries(metrics), repeat=1, warmup=0)
    out.append(
        figure(
            "metric_summaries_10x_lines_time_ratio", t_big / t_small, "x", 10.0, "about 10 (linear)", small_s=t_small
        )
    )

    def chunks() -> int:
        offset, n = 0, 0
        while True:
            chunk = read_since(metrics, offset)
            n += sum(map(len, chunk.series.values()))
            if chunk.next_offset >= chunk.size:
                return n
            offset = chunk.next_offset

    from jupyter_mlexp.core.record import metric_curves

    memo.clear()
    whole = median_time(chunks, repeat=1, warmup=0)
    metric_curves._kept.clear()
    sampled = median_time(lambda: run_views.run_metrics(root, "bench", "long", points=2000), repeat=1, warmup=0)

    def grown() -> None:  # a running run's next poll: 10,000 more lines since the last read
        with open(metrics, "a") as fh:
            fh.write("".join(f'{{"name":"val_loss","value":0.5,"step":{s},"time":1.0}}\n' for s in range(10_000)))
        run_views.run_metrics(root, "bench", "long", points=2000)

    again = median_time(grown, repeat=5, warmup=0)
    answer = run_views.run_metrics(root, "bench", "long", points=2000)
    assert answer["sampled"] and all(len(p) <= 2000 for p in answer["series"].values())
    out.append(
        figure(
            f"curve_sampled_2000_points_of_{N_LINES}_lines_s",
            sampled,
            "s",
            whole,
            "< 1 s at 10M lines (anchor: every unsampled chunk)",
        )
    )
    out.append(
        figure(
            f"curve_sampled_again_10000_more_of_{N_LINES}_lines_s",
            again,
            "s",
            sampled,
            "< 1 s at 10M lines (anchor: the first sampled read; the next decodes only the new lines)",
        )
    )
    return out
