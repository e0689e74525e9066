"""The one verdict at scale: 1,000 configurations x 5 seeds (issue 9's speed figure).

The goal (issue 9): judging 1,000 configurations x 5 seeds, all surfaces included, within 1.5x the
statistics alone computed with scipy in a hand-written loop, measured in the same run. The anchor of
both figures is that loop: ``scipy.stats.ttest_1samp`` per configuration (one-sided, the verdict's test
family) and a Holm step-down, over the values already in memory.

- ``verdict_stats_1000x5_s``: ``core.verdict.judge`` on the observations in memory.
- ``verdict_one_surface_cold_1000x5_s``: ``judge_experiment`` from the files in a process that has read
  none of them yet (what ``mlexp status`` pays).
- ``verdict_all_surfaces_1000x5_s``: every surface's path to the verdict, from the files: the REST
  experiment detail, ``mlexp status``/``runs`` and the panel (``judge_experiment``, then ``to_dict`` as
  JSON, the text and the panel's rows) and the report's (``load_experiment`` + ``report.verdict.judge``),
  one after the other in one process that starts cold. One loader serves them all: the listing, each
  run's observation and the verdict are kept while their files keep their stat (``core.memo``,
  ``Experiment.runs``, ``verdict.judge_once``), so the report's path shares the first surface's read.
- ``verdict_cold_N_runs_s``: ``judge_experiment`` cold at other sizes (``MLEXP_BENCH_VERDICT_RUNS``),
  to show the time per run stays flat.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import figure

CONFIGS, SEEDS = 1_000, 5
THRESHOLD = 0.9


def _record(root: str, configs: int = CONFIGS):
    from jupyter_mlexp import Experiment

    os.environ["MLEXP_ROOT"] = root
    exp = Experiment("grid")
    exp.register(f"A grid of noise.\nsuccess: val_acc >= 0.9\nmetrics: val_acc\nstage: full\nseeds: {SEEDS}\n")
    rng = random.Random(0)
    version, sha = exp.hypothesis.version, exp.hypothesis.content_sha256
    for c in range(configs):
        for s in range(SEEDS):
            d = exp.path / "full" / f"c{c:04d}-s{s}"
            d.mkdir(parents=True)
            v = 0.88 + rng.gauss(0, 0.02)
            (d / "metrics.jsonl").write_text(json.dumps({"name": "val_acc", "value": v, "step": 0, "time": 1.0}) + "\n")
            manifest = {
                "run_id": d.name,
                "mode": "full",
                "status": "completed",
                "stage": "full",
                "params": {"c": c},
                "seed": s,
                "started": f"2026-11-22T10:{c % 60:02d}:{s:02d}+00:00",
                "hypothesis_version": version,
                "hypothesis_sha256": sha,
                "metrics_summary": {"val_acc": {"last": v, "n": 1}},
            }
            (d / "run.json").write_text(json.dumps(manifest))
    return exp


def _scipy_loop(values: dict[int, list[float]]) -> list[float]:
    """The statistics alone: a one-sided one-sample t-test per configuration, then Holm."""
    from scipy import stats

    ps = [float(stats.ttest_1samp(v, THRESHOLD, alternative="greater").pvalue) for v in values.values()]
    k, running, out = len(ps), 0.0, [0.0] * len(ps)
    for rank, i in enumerate(sorted(range(k), key=ps.__getitem__)):
        running = max(running, min(1.0, (k - rank) * ps[i]))
        out[i] = running
    return out


def _read_plain(exp) -> dict[int, list[float]]:
    """A plain read of the same files: each run.json and the last line of its metrics.jsonl."""
    values: dict[int, list[float]] = {}
    for d in (Path(exp.path) / "full").iterdir():
        m = json.loads((d / "run.json").read_text())
        last = (d / "metrics.jsonl").read_text().splitlines()[-1]
        values.setdefault(m["params"]["c"], []).append(json.loads(last)["value"])
    return values


def _timed(fns: dict, repeat: int = 5) -> dict[str, float]:
    """Median wall time of each function, timed alternately so the shared machine's load weighs on all alike."""
    import gc

    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def run() -> list[dict]:
    from jupyter_mlexp.core.record import memo
    from jupyter_mlexp.core.stats.observations import load_observations
    from jupyter_mlexp.core.stats.verdict import forget, judge, judge_experiment
    from jupyter_mlexp.report.load import load_experiment
    from jupyter_mlexp.report.report_verdict import judge as report_judge

    with tempfile.TemporaryDirectory() as root:
        exp = _record(root)
        time.sleep(memo.SETTLE_S + 0.1)  # files just written are never kept (core.memo); a real record is older
        hyp = exp.hypothesis
        obs = load_observations(exp)
        values = _read_plain(exp)
        v = judge(obs, hyp)
        assert len(v.candidates) == CONFIGS and all(a.n == SEEDS for a in v.candidates)
        ref = _scipy_loop(values)
        ours = sorted(a.p_adjusted or 1.0 for a in v.candidates)
        assert all(abs(a - b) < 1e-9 for a, b in zip(ours, sorted(ref)))  # the same numbers

        def cold():
            memo.clear()  # a new process: nothing parsed yet
            forget()
            return judge_experiment(exp)

        def surfaces():
            memo.clear()  # the first surface reads every file; the others reuse what did not change
            forget()
            got = judge_experiment(exp)  # the core surfaces judge once, from the files
            json.dumps(got.to_dict())  # the REST answer (the sidebar)
            got.text()  # mlexp status / runs, %mlexp status / runs
            got.summary()  # the ipywidgets panel's rows
            report = report_judge(load_experiment(exp))  # the report's path: the same loader and verdict
            assert report is got  # one verdict, shared by every surface

        med = _timed(
            {
                "stats": lambda: judge(obs, hyp),
                "surfaces": surfaces,
                "cold": cold,
                "anchor": lambda: _scipy_loop(values),
            }
        )
    scaling = _scaling(med["cold"] / (CONFIGS * SEEDS))
    extra = {"configurations": CONFIGS, "seeds": SEEDS, "decision": v.decision}
    goal = "at most 1.5x (anchor: the statistics alone, scipy ttest_1samp + Holm in a hand-written loop, in memory)"
    return [
        figure("verdict_stats_1000x5_s", med["stats"], "s", med["anchor"], goal, **extra),
        figure("verdict_one_surface_cold_1000x5_s", med["cold"], "s", med["anchor"], goal, **extra),
        figure("verdict_all_surfaces_1000x5_s", med["surfaces"], "s", med["anchor"], goal, **extra),
        *scaling,
    ]


def _sizes() -> list[int]:
    """Numbers of runs to judge cold besides 5,000: ``MLEXP_BENCH_VERDICT_RUNS`` (``1000,100000``); 1,000
    by default (100,000 runs take minutes to write: measured only when asked)."""
    text = os.environ.get("MLEXP_BENCH_VERDICT_RUNS", "1000")
    return sorted({int(n) for n in text.split(",") if n.strip()} - {CONFIGS * SEEDS})


def _scaling(per_run_5000: float) -> list[dict]:
    """The cold verdict at other sizes: linear when the time per run stays that of 5,000 runs (anchor:
    a plain read of the same files)."""
    from jupyter_mlexp.core.record import memo
    from jupyter_mlexp.core.stats.verdict import forget, judge_experiment

    out = []
    for n in _sizes():
        with tempfile.TemporaryDirectory() as root:
            exp = _record(root, max(1, n // SEEDS))
            time.sleep(memo.SETTLE_S + 0.1)

            def cold(exp=exp):
                memo.clear()
                forget()
                return judge_experiment(exp)

            med = _timed({"cold": cold, "anchor": lambda exp=exp: _read_plain(exp)}, repeat=3)
        out.append(
            figure(
                f"verdict_cold_{n}_runs_s",
                med["cold"],
                "s",
                med["anchor"],
                "linear in the runs: the time per run near that of 5,000 runs (anchor: a plain read of the files)",
                us_per_run=round(med["cold"] / n * 1e6, 1),
                us_per_run_5000=round(per_run_5000 * 1e6, 1),
            )
        )
    return out
