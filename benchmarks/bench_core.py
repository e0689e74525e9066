"""Core figures (issue 2): %%run_quick overhead, log_metric cost, reading a big experiment."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import figure, median_time


def _shell():
    # IPython's own shell, not its test shell (IPython.testing needs pytest, not in the bench extra)
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def run_quick_overhead() -> dict:
    """Median extra cost of ``%%run_quick`` over running the same trivial cell plainly."""
    with tempfile.TemporaryDirectory() as root:
        os.environ["MLEXP_ROOT"] = root
        import subprocess

        subprocess.run(["git", "init", "-q", root], check=True)  # git capture included
        ip = _shell()
        from jupyter_mlexp import load_ipython_extension

        load_ipython_extension(ip)
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):  # stdout carries only the JSON figures
            ip.run_cell_magic("hypothesis", "bench", "A trivial cell runs.\nsuccess: x >= 1\nmetrics: x\n")
        body = "y = 1 + 1\n"
        plain = median_time(lambda: ip.run_cell(body, store_history=False), repeat=41, warmup=3)

        def quick():
            with contextlib.redirect_stdout(io.StringIO()):
                ip.run_cell_magic("run_quick", "", body)

        magic = median_time(quick, repeat=41, warmup=3)
    overhead = magic - plain
    return figure(
        "run_quick_overhead",
        overhead * 1e3,
        "ms",
        plain * 1e3,
        "overhead <= 50 ms over the plain cell (anchor = plain cell time)",
        plain_cell_ms=round(plain * 1e3, 3),
        run_quick_ms=round(magic * 1e3, 3),
    )


def log_metric_cost() -> list[dict]:
    """µs per ``log_metric`` (median of 5 batches of 100,000), vs a raw JSON line write and MLflow."""
    import json

    from jupyter_mlexp import Experiment
    from jupyter_mlexp.core.execution import tracking

    n = 100_000
    with tempfile.TemporaryDirectory() as root:
        os.environ["MLEXP_ROOT"] = root
        exp = Experiment("bench")
        exp.register("Logging is cheap.\nsuccess: loss <= 1\nmetrics: loss\n")
        ours, raw = [], []
        for _ in range(5):
            run = exp.start_run("quick")
            tracking.push(run)
            log = tracking.log_metric
            t0 = time.perf_counter()
            for i in range(n):
                log("loss", 0.5, i)
            ours.append((time.perf_counter() - t0) / n * 1e6)
            tracking.pop(run)
            exp.finish_run(run, "completed")
            lines = sum(1 for _ in open(run.path / "metrics.jsonl"))
            assert lines == n, f"{lines} of {n} metrics on disk"
            with open(Path(root) / "raw.jsonl", "w") as fh:
                t0 = time.perf_counter()
                for i in range(n):
                    fh.write(json.dumps({"name": "loss", "value": 0.5, "step": i, "time": time.time()}) + "\n")
                raw.append((time.perf_counter() - t0) / n * 1e6)
    out = [
        figure(
            "log_metric_us",
            statistics.median(ours),
            "us/metric",
            statistics.median(raw),
            "<= 20 us per call, all 100,000 on disk at run end (anchor = raw json.dumps line write)",
        )
    ]
    mlflow_us = _mlflow_log_metric_us()
    if mlflow_us is not None:
        out.append(
            figure(
                "log_metric_vs_mlflow_us",
                statistics.median(ours),
                "us/metric",
                mlflow_us,
                "far below MLflow log_metric to its default SQLite store (anchor = MLflow, 300 calls)",
            )
        )
    return out


def _mlflow_log_metric_us() -> float | None:
    try:
        import mlflow
    except ImportError:
        return None
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as root:
        mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
        mlflow.set_experiment("bench")
        with mlflow.start_run():
            for i in range(10):
                mlflow.log_metric("loss", 0.5, step=i)
            k = 300
            t0 = time.perf_counter()
            for i in range(k):
                mlflow.log_metric("loss", 0.5, step=i)
            return (time.perf_counter() - t0) / k * 1e6


def _big_record(root: str, scale: int):
    import json

    from jupyter_mlexp import Experiment
    from jupyter_mlexp.core.record.journal import format_entry

    os.environ["MLEXP_ROOT"] = root
    exp = Experiment("big")
    exp.register("Reading is fast.\nsuccess: loss <= 1\nmetrics: loss\n")
    with open(exp.journal_md, "a") as fh:
        for i in range(10_000 * scale):
            fh.write(
                format_entry(f"entry {i} about something odd\nwith a second line", ["WEIRD"] if i % 3 else ["TODO"])
            )
    for i in range(1_000 * scale):
        d = exp.path / "full" / f"run-{i:05d}"
        d.mkdir(parents=True)
        (d / "run.json").write_text(
            json.dumps(
                {
                    "run_id": d.name,
                    "mode": "full",
                    "status": "completed",
                    "params": {"lr": 0.1},
                    "seed": i % 3,
                    "started": str(i),
                    "metrics_summary": {"loss": {"last": 0.1}},
                }
            )
        )
    return exp


def read_experiment() -> list[dict]:
    """Reading journal (10,000 entries) and runs (1,000): our parse vs a bare file read; 2x size for linearity.

    The two sizes are timed alternately, after a garbage collection each, so that what earlier
    benchmarks left in this process weighs on both alike.
    """
    import gc
    import json

    with tempfile.TemporaryDirectory() as r1, tempfile.TemporaryDirectory() as r2:
        records = {1: _big_record(r1, 1), 2: _big_record(r2, 2)}
        times: dict = {(scale, kind): [] for scale in (1, 2) for kind in ("ours", "floor")}
        for _ in range(7):
            for scale, exp in records.items():

                def ours(exp=exp, scale=scale):
                    assert len(exp.journal().entries) >= 10_000 * scale
                    assert len(exp.runs()) == 1_000 * scale

                def floor(exp=exp):
                    exp.journal_md.read_text()
                    for p in (exp.path / "full").iterdir():
                        json.loads((p / "run.json").read_text())

                for kind, fn in (("ours", ours), ("floor", floor)):
                    gc.collect()
                    t0 = time.perf_counter()
                    fn()
                    times[(scale, kind)].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    t1, f1, t2 = med[(1, "ours")], med[(1, "floor")], med[(2, "ours")]
    return [
        figure("read_10k_journal_1k_runs_s", t1, "s", f1, "well under 1 s (anchor = bare read of the same files)"),
        figure("read_scaling_2x", t2 / t1, "x", 2.0, "linear: doubling the record costs about 2x"),
    ]


def run() -> list[dict]:
    return [run_quick_overhead(), *log_metric_cost(), *read_experiment()]
