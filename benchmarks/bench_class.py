"""Class report of 30 students × 50 runs (notebook, HTML, CSV) against the verdicts alone.

One student's record is built through the product (``core.lifecycle`` start/finish with the
run's printed metrics: 10 configurations × 5 seeds, full runs, a chained log) and copied to 30
home folders; ``mlexp class collect`` gathers them into a class workspace. Timed: the class
report (a cold process's work after imports: every student's audit, verification with the
collection's heads, both verdicts, the notebook, nbconvert's HTML and the CSV). Anchor: the
verdict alone (``judge_experiment``) for the same 30 experiments. Goal: < 10 s.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import figure, median_time

STUDENTS = 30
CONFIGS, SEEDS = 10, 5


def build(root: Path) -> Path:
    from jupyter_mlexp.classroom.collect import collect
    from jupyter_mlexp.core.execution import lifecycle
    from jupyter_mlexp.core.experiment import Experiment

    one = root / "build"
    exp = Experiment("warmup", root=one)
    exp.register("Warm-up raises validation accuracy.\nsuccess: val_acc >= 0.9\nmetrics: val_acc, loss\nseeds: 5\n")
    rng = random.Random(0)
    for config in range(CONFIGS):
        for seed in range(SEEDS):
            value = 0.85 + 0.01 * config + rng.gauss(0, 0.01)
            r = lifecycle.start(exp, "full", source="train.py", seed=seed, params={"lr": config}, git={}, data={})
            lifecycle.finish(exp, r, "completed", printed=f"val_acc: {value}\nloss: {1 - value}\n")
    for i in range(STUDENTS):
        shutil.copytree(one / "experiments", root / "home" / f"s{i:02d}" / "ml101" / "experiments")
    collect([str(root / "home" / "*" / "ml101")], root / "class")
    return root / "class"


def _cold(out: Path) -> tuple[float, float]:
    """Wall time and CPU time of ``mlexp class report OUT`` in a new process."""
    import resource
    import subprocess
    import sys

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "class", "report", str(out)],
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run() -> list[dict]:
    os.environ.setdefault("MPLBACKEND", "Agg")
    from jupyter_mlexp.classroom.class_report import write_class_report
    from jupyter_mlexp.classroom.collect import iter_students, snapshots
    from jupyter_mlexp.core.experiment import Experiment
    from jupyter_mlexp.core.stats.verdict import judge_experiment

    tmp = Path(tempfile.mkdtemp(prefix="mlexp-bench-class-"))
    try:
        t0 = time.perf_counter()
        out = build(tmp)
        built = time.perf_counter() - t0
        write_class_report(out)  # warm the imports (nbconvert, scipy) once, as a cold process pays them anyway
        report = median_time(lambda: write_class_report(out), repeat=3, warmup=0)
        cpu0 = time.process_time()
        write_class_report(out)
        cpu = time.process_time() - cpu0  # this process's CPU: what a shared machine's load does not add
        cold, cold_cpu = _cold(out)
        roots = [root for _, root in iter_students(snapshots(out)[-1])]
        verdicts = median_time(lambda: [judge_experiment(e) for r in roots for e in Experiment.all(r)], repeat=3)
        return [
            figure(
                "class report, 30 students × 50 runs (notebook + HTML + CSV)",
                report,
                "s",
                verdicts,
                "< 10 s",
                anchor="the 30 verdicts alone (judge_experiment)",
                build_s=round(built, 2),
                report_cpu_s=round(cpu, 2),
            ),
            figure(
                "class report, 30 students × 50 runs, `mlexp class report` in a fresh process (imports included)",
                cold,
                "s",
                verdicts,
                "< 10 s",
                anchor="the 30 verdicts alone (judge_experiment), warm",
                cpu_s=round(cold_cpu, 2),
            ),
        ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
