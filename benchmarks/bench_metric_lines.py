"""A run with a million metric lines: ``mlexp runs`` / ``status`` in bounded memory and linear time, its curve sampled.

One experiment with one completed run whose ``metrics.jsonl`` holds ``N_LINES`` lines as
``log_metric`` writes them: val_loss, acc and lr at each step, interleaved. Figures: ``mlexp runs``
and ``mlexp status`` in a fresh process, wall time and peak memory (its ``VmHWM``; anchor: a fresh
process that json.loads each line and keeps nothing); the streamed summary of 10x the lines over 1x
(goal: about 10, linear); the curve the sidebar asks for (4,000 points a metric): its first read,
an approximate sample of evenly spaced windows whose cost does not grow with the file (anchor: the
exact read, which the server then does in the background), the next read once that is done (exact),
and a read after 10,000 more lines (anchor: the first read). 10M lines take minutes to write and
read here, so ``MLEXP_BENCH_METRIC_LINES=10000000`` measures them by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import figure, median_time, peak_mb_of

N_LINES = int(os.environ.get("MLEXP_BENCH_METRIC_LINES", "1000000"))
SAMPLE_POINTS = 4000  # what the sidebar asks for (labextension/src/runsModel.ts)
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
    """``n`` lines as ``log_metric`` writes them (:func:`metric_lines.line`): val_loss, acc and lr at each step."""
    from jupyter_mlexp.core.record.metric_lines import line, quoted

    names = quoted("val_loss"), quoted("acc"), quoted("lr")
    with open(path, "w") as fh:
        batch = []
        for i in range(n):
            s, k = divmod(i, 3)
            value = 1 / (s + 1) if k == 0 else (s % 1000) / 1000 if k == 1 else 0.1 * 0.999 ** (s // 1000)
            batch.append(line(names[k], value, s, 1700000000.0 + s / 1000))
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


#: The server's runs listing grouped as the verdict counts, which reads each run's finals with the same
#: reader as ``mlexp runs`` (``load_observations``), in a fresh process.
SERVER_GROUPS = """
import sys
from pathlib import Path
from jupyter_mlexp.frontdoors.server import run_views
run_views.groups_answer(Path(sys.argv[1]), "bench")
"""


def run() -> list[dict]:
    root = Path(tempfile.mkdtemp(prefix="mlexp-bench-lines-"))
    try:
        return _run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(root: Path) -> list[dict]:
    from jupyter_mlexp.core.record import memo
    from jupyter_mlexp.core.record.metric_lines import read_summaries
    from jupyter_mlexp.frontdoors.server import run_views

    metrics = make_record(root, N_LINES)
    lines = N_LINES
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
    wall, mb = in_fresh_process([sys.executable, "-c", SERVER_GROUPS, str(root)], env)
    out.append(figure(f"server_groups_{N_LINES}_metric_lines_s", wall, "s", bare_s, "time linear in the lines"))
    out.append(figure(f"server_groups_{N_LINES}_metric_lines_peak_mb", mb, "MB", bare_mb, "< 500 MB at 10M lines"))

    small = metrics.with_name("small.jsonl")
    write_lines(small, N_LINES // 10)
    t_small = median_time(lambda: read_summaries(small), repeat=3)
    t_big = median_time(lambda: read_summaries(metrics), repeat=1, warmup=0)
    out.append(
        figure(
            "metric_summaries_10x_lines_time_ratio", t_big / t_small, "x", 10.0, "about 10 (linear)", small_s=t_small
        )
    )

    from jupyter_mlexp.core.record import metric_curves

    memo.clear()
    metric_curves._kept.clear()
    t0 = time.perf_counter()
    first = run_views.run_metrics(root, "bench", "long", points=SAMPLE_POINTS)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert metric_curves.settle(timeout=3600)
    exact_s = time.perf_counter() - t0 + first_s  # the exact read started with the first answer
    t0 = time.perf_counter()
    exact = run_views.run_metrics(root, "bench", "long", points=SAMPLE_POINTS)
    then_s = time.perf_counter() - t0
    assert first["approximate"] == (metrics.stat().st_size > metric_curves.EXACT_BYTES)
    assert not exact["approximate"] and exact["points"]["val_loss"] == (N_LINES + 2) // 3

    def grown() -> None:  # a running run's next poll: 10,000 more lines since the last read
        with open(metrics, "a") as fh:
            fh.write("".join(f'{{"name":"val_loss","value":0.5,"step":{s},"time":1.0}}\n' for s in range(10_000)))
        run_views.run_metrics(root, "bench", "long", points=SAMPLE_POINTS)

    again = median_time(grown, repeat=5, warmup=0)
    answer = run_views.run_metrics(root, "bench", "long", points=SAMPLE_POINTS)
    assert answer["sampled"] and not answer["approximate"]
    assert all(len(p) <= SAMPLE_POINTS for p in answer["series"].values())
    span = [first["series"]["val_loss"][i][0] for i in (0, -1)]
    out.append(
        figure(
            f"curve_first_read_{SAMPLE_POINTS}_points_of_{N_LINES}_lines_s",
            first_s,
            "s",
            exact_s,
            "< 1 s at 10M lines (anchor: the exact read, done in the background after this answer)",
            approximate=first["approximate"],
            steps=span,
        )
    )
    out.append(
        figure(
            f"curve_exact_read_after_the_background_{N_LINES}_lines_s",
            then_s,
            "s",
            first_s,
            "< 1 s (anchor: the first read; the background read kept where it stopped)",
        )
    )
    out.append(
        figure(
            f"curve_sampled_again_10000_more_of_{N_LINES}_lines_s",
            again,
            "s",
            first_s,
            "< 1 s at 10M lines (anchor: the first read; the next decodes only the new lines)",
        )
    )
    return out
