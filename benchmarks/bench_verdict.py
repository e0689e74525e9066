"""The one verdict at scale: 1,000 configurations x 5 seeds (issue 9's speed figure).

Two figures, each against an anchor measured in the same run:

- ``verdict_stats_1000x5_s``: ``core.verdict.judge`` on the values in memory, against the
  statistics alone computed with scipy in a hand-written loop (``scipy.stats.ttest_1samp`` per
  configuration, one-sided, and a Holm step-down). Goal: at most 1.5x.
- ``verdict_all_surfaces_1000x5_s``: the verdict read from the files (``judge_experiment``) and
  rendered for every surface (the REST ``to_dict`` as JSON, the status/runs text, the panel's rows),
  against the same hand-written loop plus a plain read of the same files (each run.json and the last
  line of its metrics.jsonl). Goal: at most 1.5x.
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


def _record(root: str):
    from jupyter_mlexp import Experiment

    os.environ["MLEXP_ROOT"] = root
    exp = Experiment("grid")
    exp.register("A grid of noise.\nsuccess: val_acc >= 0.9\nmetrics: val_acc\nstage: full\n")
    rng = random.Random(0)
    version = exp.hypothesis.version
    for c in range(CONFIGS):
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
    from jupyter_mlexp.core.observations import load_observations
    from jupyter_mlexp.core.verdict import judge, judge_experiment

    with tempfile.TemporaryDirectory() as root:
        exp = _record(root)
        hyp = exp.hypothesis
        obs = load_observations(exp)
        values = _read_plain(exp)
        v = judge(obs, hyp)
        assert len(v.candidates) == CONFIGS and all(a.n == SEEDS for a in v.candidates)
        ref = _scipy_loop(values)
        ours = sorted(a.p_adjusted or 1.0 for a in v.candidates)
        assert all(abs(a - b) < 1e-9 for a, b in zip(ours, sorted(ref)))  # the same numbers

        def surfaces():
            got = judge_experiment(exp)  # each surface judges once, from the files
            json.dumps(got.to_dict())  # the REST answer (the sidebar)
            got.text()  # mlexp status / runs, %mlexp status / runs
            got.summary()  # the ipywidgets panel's rows

        med = _timed(
            {
                "stats": lambda: judge(obs, hyp),
                "stats_anchor": lambda: _scipy_loop(values),
                "surfaces": surfaces,
                "surfaces_anchor": lambda: _scipy_loop(_read_plain(exp)),
            }
        )
    extra = {"configurations": CONFIGS, "seeds": SEEDS, "decision": v.decision}
    return [
        figure(
            "verdict_stats_1000x5_s",
            med["stats"],
            "s",
            med["stats_anchor"],
            "at most 1.5x (anchor: scipy ttest_1samp per configuration + Holm, hand-written loop, same values)",
            **extra,
        ),
        figure(
            "verdict_all_surfaces_1000x5_s",
            med["surfaces"],
            "s",
            med["surfaces_anchor"],
            "at most 1.5x (anchor: plain read of the same files + the scipy loop)",
            **extra,
        ),
    ]
