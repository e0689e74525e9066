"""Runs table and live curves, the API side (issue 12), in process.

One experiment with 10,000 runs and a run whose ``metrics.jsonl`` holds 1,000,000 lines.
Figures: the table built from scratch in a new process and built again in one that has read the record
(anchor: reading every ``run.json``), a poll while
nothing changed (goal under 20 ms: stat calls and a cached answer, not a re-scan), what such a
poll sends back when the client gives the stamp it holds (``?since=``; anchor: the whole table),
and a live curve's update after 100 new lines (anchor: re-reading the whole file).
The page side (first page on screen, sorting) is timed by ``tests/browser/test_runs_table.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import figure, median_time

N_RUNS = 10_000
N_LINES = 1_000_000
NEW_LINES = 100
HYPOTHESIS = "Momentum 0.9 lowers validation loss\nsuccess: val_loss <= 0.3\nmetrics: val_loss, acc\n"


def make_record(root: Path, n_runs: int = N_RUNS, n_lines: int = N_LINES):
    """``n_runs`` finished runs written in the core's format, and one run with ``n_lines`` metric lines."""
    from jupyter_mlexp.core.experiment import Experiment

    exp = Experiment("bench", root)
    exp.register(HYPOTHESIS)
    live = exp.start_run("full", run_id="live", params={"momentum": 0.9}, seed=0)
    live.log_metric("val_loss", 1.0)
    exp.finish_run(live, "completed")
    manifest = json.loads((live.path / "run.json").read_text())
    for i in range(n_runs):
        folder = exp.path / "full" / f"r-{i:06d}"
        folder.mkdir()
        loss = 0.2 + (i * 7919 % n_runs) / n_runs
        summary = {"val_loss": {"last": loss, "min": loss, "max": loss, "n": 1, "step": 0}}
        run = {**manifest, "run_id": folder.name, "seed": i % 5, "params": {"momentum": [0.5, 0.9][i % 2]}}
        (folder / "run.json").write_text(json.dumps({**run, "metrics_summary": summary}))
    lines = "".join(json.dumps({"name": "val_loss", "value": 1 / (s + 1), "step": s}) + "\n" for s in range(n_lines))
    (live.path / "metrics.jsonl").write_text(lines)
    return exp, live.path / "metrics.jsonl"


def run() -> list[dict]:
    from jupyter_mlexp.core.record.metric_curves import read_since as read_metrics_since
    from jupyter_mlexp.core.record.metric_lines import read_summaries
    from jupyter_mlexp.frontdoors.server import run_views, stamped

    root = Path(tempfile.mkdtemp(prefix="mlexp-bench-table-"))
    exp, metrics = make_record(root)

    def direct_read():
        return [json.loads(p.read_text()) for p in exp.path.glob("full/*/run.json")]

    def fresh_table():
        _cold(stamped)
        return run_views.runs_table_json(root, "bench")

    def rebuilt_table():
        stamped.clear()  # the server's answer built again; the record's files already parsed in this process
        return run_views.runs_table_json(root, "bench")

    anchor = median_time(direct_read, repeat=3)
    fresh = median_time(fresh_table, repeat=3)
    run_views.runs_table_json(root, "bench")
    rebuilt = median_time(rebuilt_table, repeat=3)
    cached = median_time(lambda: run_views.runs_table_json(root, "bench"), repeat=20)
    answer = run_views.runs_table_answer(root, "bench")
    unchanged = stamped.unchanged(answer.stamp) if answer.unchanged_since(answer.stamp) else answer.text

    end = metrics.stat().st_size
    with open(metrics, "a") as fh:
        for s in range(N_LINES, N_LINES + NEW_LINES):
            fh.write(json.dumps({"name": "val_loss", "value": 0.001, "step": s}) + "\n")
    update = median_time(lambda: read_metrics_since(metrics, end), repeat=20)
    whole = median_time(lambda: read_summaries(metrics), repeat=3)
    assert len(read_metrics_since(metrics, end).series["val_loss"]) == NEW_LINES
    return [
        figure(
            "runs_table_fresh_10000_runs",
            fresh,
            "s",
            anchor,
            "a new process's build, linear in the runs (near the read)",
        ),
        figure(
            "runs_table_rebuilt_10000_runs",
            rebuilt,
            "s",
            anchor,
            "the server's answer built again in a process that has read the record: near the direct read of run.json",
        ),
        figure("runs_table_poll_unchanged", cached, "s", anchor, "under 0.020 s (cache and file stamps)"),
        figure(
            "runs_table_poll_unchanged_bytes",
            len(unchanged),
            "B",
            len(answer.text),
            "a few bytes, not the whole table (anchor: the table's JSON)",
            bytes_per_row=round(len(answer.text) / (N_RUNS + 1)),
        ),
        figure("live_curve_update_100_of_1M_lines", update, "s", whole, "reads only the new lines"),
        *_sidebar_polls(root),
        *_scaling(fresh, anchor),
    ]


def _cold(stamped) -> None:
    """As in a process that has read nothing yet: no cached answer, no parsed file, no kept verdict."""
    from jupyter_mlexp.core.record import memo
    from jupyter_mlexp.core.stats.verdict import forget

    stamped.clear()
    memo.clear()
    forget()


def _sizes() -> list[int]:
    """The table's sizes to time besides 10,000: ``MLEXP_BENCH_TABLE_RUNS`` (``1000,100000``); 1,000 by
    default (100,000 runs take minutes to write and to read: measured only when asked)."""
    text = os.environ.get("MLEXP_BENCH_TABLE_RUNS", "1000")
    return sorted({int(n) for n in text.split(",") if n.strip()} - {N_RUNS})


def _scaling(fresh_10k: float, anchor_10k: float) -> list[dict]:
    """The fresh table at other sizes: linear when the time per run stays that of 10,000 runs."""
    from jupyter_mlexp.frontdoors.server import run_views, stamped

    out = []
    per_run_10k = fresh_10k / (N_RUNS + 1)
    for n in _sizes():
        root = Path(tempfile.mkdtemp(prefix=f"mlexp-bench-table-{n}-"))
        exp, _ = make_record(root, n, 10)

        def direct_read(exp=exp):
            return [json.loads(p.read_text()) for p in exp.path.glob("full/*/run.json")]

        def fresh_table(root=root):
            _cold(stamped)
            return run_views.runs_table_json(root, "bench")

        anchor = median_time(direct_read, repeat=3)
        fresh = median_time(fresh_table, repeat=3)
        shutil.rmtree(root, ignore_errors=True)
        out.append(
            figure(
                f"runs_table_fresh_{n}_runs",
                fresh,
                "s",
                anchor,
                "linear in the runs: the time per run near that of 10,000 runs",
                us_per_run=round(fresh / (n + 1) * 1e6, 1),
                us_per_run_10000=round(per_run_10k * 1e6, 1),
                anchor_10000=anchor_10k,
            )
        )
    return out


def _sidebar_polls(root: Path) -> list[dict]:
    """The sidebar's own endpoints (the card with the verdict, the runs lists) polled while nothing changed."""
    from jupyter_mlexp.frontdoors.server import record_views as api
    from jupyter_mlexp.frontdoors.server import stamped

    out = []
    for kind, answer in (("detail", api.experiment_detail_json), ("runs", api.list_runs_json)):

        def fresh(answer=answer):
            stamped.clear()
            return answer(root, "bench")

        built = median_time(fresh, repeat=3)
        answer(root, "bench")
        kept = median_time(lambda answer=answer: answer(root, "bench"), repeat=20)
        goal = "under 0.020 s (anchor: the same answer built fresh)"
        out.append(figure(f"sidebar_{kind}_poll_unchanged_10000_runs", kept, "s", built, goal))
    return out
