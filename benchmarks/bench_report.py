"""Report from 1,000 runs × 10 metrics × 3 seeds against a hand-written floor; and 10× the runs.

The floor reads the same run.json and metrics.jsonl files, aggregates mean ± std
per configuration, writes the same five figures (one comparison, four learning
curves, WebP lossless) and a notebook with nbformat directly. Both are timed in
one warm process (imports excluded from both). Goal: report ≤ 1.5 × floor; the
report on 10 × the runs ≤ 11 × its time on 1 ×.
"""

from __future__ import annotations

import base64
import json
import math
import os
import random
import shutil
import statistics
import tempfile
from pathlib import Path

from benchmarks.common import figure, median_time

METRICS = [f"m{i}" for i in range(10)]
HYP_METRICS = METRICS[:4]  # pre-registered: 1 comparison + 4 learning curves = 5 figures
SEEDS = 3
STEPS = 10


def build_records(root: Path, n_runs: int) -> object:
    """An experiment with ``n_runs`` completed full runs (configurations of 3 seeds), files written directly."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from jupyter_mlexp.core.experiment import Experiment
    from jupyter_mlexp.core.record.hypothesis import Hypothesis

    exp = Experiment("bench", root=root)
    exp.register(
        Hypothesis(statement="A larger width raises m0", success="m0 >= 0.8", metrics=HYP_METRICS, stage="full")
    )
    rng = random.Random(0)
    full = exp.path / "full"
    full.mkdir(parents=True)
    for i in range(n_runs):
        config, seed = divmod(i, SEEDS)
        rid = f"r{i:06d}"
        folder = full / rid
        folder.mkdir()
        stage = "baselines" if config == 0 else ("ablations" if config % 50 == 1 else "full")
        base = 0.5 + 0.4 * (config % 97) / 97
        lines = []
        t = 1.7e9
        for step in range(STEPS):
            for j, name in enumerate(METRICS):
                v = base * (step + 1) / STEPS + rng.gauss(0, 0.01) + j * 0.01
                lines.append(f'{{"name":"{name}","value":{v!r},"step":{step},"time":{t + step:.6f}}}')
        (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n")
        manifest = {
            "run_id": rid,
            "mode": "full",
            "stage": stage,
            "params": {"width": 64 + config, "depth": 2},
            "seed": seed,
            "status": "completed",
            "started": "2026-11-20T10:00:00.000+00:00",
            "ended": "2026-11-20T10:00:01.000+00:00",
            "duration_s": 1.0,
            "budget_s": None,
            "git": {"commit": "a" * 40, "branch": "main", "dirty": False},
            "environment": {"python": "3.11.7", "platform": "Linux"},
            "data": {},
            "notebook": "train.ipynb",
            "metrics_summary": {},
        }
        (folder / "run.json").write_text(json.dumps(manifest))
    return exp


def floor(exp, out_dir: Path) -> None:
    """The same work written by hand: read, aggregate, 5 figures, notebook."""
    import nbformat
    from matplotlib.figure import Figure
    from nbformat import v4

    runs = []
    for folder in sorted((exp.path / "full").iterdir()):
        with open(folder / "run.json") as fh:
            m = json.load(fh)
        series: dict = {}
        with open(folder / "metrics.jsonl") as fh:
            for line in fh:
                r = json.loads(line)
                series.setdefault(r["name"], []).append((r["step"], r["value"]))
        runs.append((m, series))
    groups: dict = {}
    for m, series in runs:
        key = ", ".join(f"{k}={v}" for k, v in sorted(m["params"].items()))
        groups.setdefault((m["stage"], key), []).append(series)
    agg = {}
    for key, members in groups.items():
        for name in METRICS:
            vals = [s[name][-1][1] for s in members if name in s]
            mean = sum(vals) / len(vals)
            std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else None
            agg[key, name] = (mean, std, len(vals))
    rows = ["| configuration | " + " | ".join(METRICS) + " |", "|" + "---|" * (len(METRICS) + 1)]
    for key in groups:
        cells = []
        for name in METRICS:
            mean, std, n = agg[key, name]
            cells.append(f"{mean:.4g} (n = 1)" if std is None else f"{mean:.4g} ± {std:.4g} (n = {n})")
        rows.append(f"| {key[1]} | " + " | ".join(cells) + " |")
    table = "\n".join(rows)
    base = next(k for k in groups if k[0] == "baselines")
    top = sorted(groups, key=lambda k: -agg[k, METRICS[0]][0])[:10]
    if base not in top:
        top.append(base)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    # The same figures as the report: bars with std error bars and n, curves with a ± std band.
    fig = Figure(figsize=(7, max(2.4, 0.9 + 0.32 * len(top))))
    ax = fig.subplots()
    ys = list(range(len(top)))[::-1]
    ax.barh(
        ys,
        [agg[k, METRICS[0]][0] for k in top],
        xerr=[agg[k, METRICS[0]][1] or 0 for k in top],
        color="#4878a8",
        ecolor="black",
        capsize=3,
    )
    for y, k in zip(ys, top):
        mean, std, n = agg[k, METRICS[0]]
        ax.annotate(
            f"n = {n}", (mean + (std or 0), y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7
        )
    ax.set_yticks(ys, [k[1] for k in top], fontsize=7)
    ax.set_xlabel(METRICS[0])
    ax.set_title(f"{METRICS[0]}: configurations compared", fontsize=10)
    fig.tight_layout()
    paths.append(out_dir / "bars.webp")
    fig.savefig(paths[-1], format="webp", dpi=100, pil_kwargs={"lossless": True, "quality": 80, "method": 0})
    for name in HYP_METRICS:
        fig = Figure(figsize=(7, 4.2))
        ax = fig.subplots()
        for k in top:
            by_step: dict = {}
            for s in groups[k]:
                for step, v in s[name]:
                    by_step.setdefault(step, []).append(v)
            steps = sorted(by_step)
            means, stds = [], []
            for st in steps:
                vs = by_step[st]
                m = sum(vs) / len(vs)
                means.append(m)
                stds.append(math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1)) if len(vs) > 1 else 0.0)
            (line,) = ax.plot(steps, means, label=f"{k[1]} (n = {len(groups[k])})", linewidth=1.2)
            if len(groups[k]) > 1:
                ax.fill_between(
                    steps,
                    [m - d for m, d in zip(means, stds)],
                    [m + d for m, d in zip(means, stds)],
                    color=line.get_color(),
                    alpha=0.15,
                    linewidth=0,
                )
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.set_title(f"{name}: learning curve", fontsize=10)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        paths.append(out_dir / f"curve_{name}.webp")
        fig.savefig(paths[-1], format="webp", dpi=100, pil_kwargs={"lossless": True, "quality": 80, "method": 0})
    cells = [v4.new_markdown_cell("# Report"), v4.new_markdown_cell(table)]
    for p in paths:
        c = v4.new_markdown_cell(f"![{p.name}](attachment:{p.name})")
        c["attachments"] = {p.name: {"image/webp": base64.b64encode(p.read_bytes()).decode()}}
        cells.append(c)
    nb = v4.new_notebook(cells=cells)
    nbformat.validate(nb)
    nbformat.write(nb, str(out_dir / "floor.ipynb"))


def run() -> list[dict]:
    os.environ.setdefault("MPLBACKEND", "Agg")
    from jupyter_mlexp.report.build import build_report

    tmp = Path(tempfile.mkdtemp(prefix="mlexp-bench-report-"))
    try:
        exp1 = build_records(tmp / "x1", 1000)
        build_report(exp1)  # warm: imports, font cache
        floor(exp1, tmp / "floor1")
        t_floor, t_report = [], []
        for _ in range(5):  # interleaved: the machine is shared
            t_floor.append(median_time(lambda: floor(exp1, tmp / "floor1"), repeat=1, warmup=0))
            t_report.append(median_time(lambda: build_report(exp1), repeat=1, warmup=0))
        f1, r1 = statistics.median(t_floor), statistics.median(t_report)
        exp10 = build_records(tmp / "x10", 10000)
        r10 = median_time(lambda: build_report(exp10), repeat=1, warmup=0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [
        figure(
            "report of 1,000 runs × 10 metrics × 3 seeds (tables, 5 figures, notebook)",
            r1,
            "s",
            f1,
            "≤ 1.5 × floor (hand-written: read the same files, same 5 figures and notebook with nbformat)",
        ),
        figure("report of 10,000 runs vs 1,000 runs", r10, "s", r1, "ratio ≤ 11"),
    ]


if __name__ == "__main__":
    for fig in run():
        print(json.dumps(fig))
