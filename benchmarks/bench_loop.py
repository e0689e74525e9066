"""The keep/discard loop's own overhead per attempt, and a command run as a run against run plainly.

The loop's overhead (commit, ref, patch, bookkeeping, decision, restore) is what
``try_attempt`` spends outside the runs (``Attempt.overhead_s``), medians over
attempts that alternate keep and discard, in a small repository and in one of 10,000
files. Goals (issue 11): at most 5 % of a 10-second attempt; at most 0.3 s at 10,000
files; a script as a run at most 5 % over the same command run plainly, for a command
that prints 100,000 metric lines.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import figure

ATTEMPTS = 6
PRINT = "import os\nSHIFT = {shift}\nprint(f'val_loss: {{0.5 - SHIFT:.6f}}')\n"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _repo(root: Path, n_files: int) -> None:
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "bench@example.com")
    _git(root, "config", "user.name", "bench")
    for i in range(n_files):
        d = root / "src" / f"d{i // 500:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.py").write_text(f"X = {i}\n")
    (root / "train.py").write_text(PRINT.format(shift=0.0))
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "code")


def _overheads(n_files: int) -> list[float]:
    from jupyter_mlexp import Experiment
    from jupyter_mlexp.loop import driver as loop
    from jupyter_mlexp.loop.session import open_loop

    old_cwd, old_root = os.getcwd(), os.environ.get("MLEXP_ROOT")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _repo(root, n_files)
        os.environ["MLEXP_ROOT"] = tmp
        os.chdir(root)
        try:
            exp = Experiment("bench")
            exp.register("A change lowers val_loss.\nsuccess: val_loss < 0.4\nmetrics: val_loss\n")
            # --confirm 0: the figure is the loop's own bookkeeping per attempt, not a confirmation's runs
            loop.start("b", exp, seeds=[0], min_delta=0.0, confirm=0)
            opened = open_loop()
            command = [sys.executable, "train.py"]
            loop.try_attempt(opened, "baseline", command)
            out = []
            for i in range(ATTEMPTS):
                shift = 0.01 * (i + 1) if i % 2 == 0 else -0.5  # keep, discard, keep, ...
                (root / "train.py").write_text(PRINT.format(shift=shift))
                a = loop.try_attempt(opened, f"attempt {i}", command)
                out.append(a.overhead_s or 0.0)
            return out
        finally:
            os.chdir(old_cwd)
            if old_root is None:
                os.environ.pop("MLEXP_ROOT", None)
            else:
                os.environ["MLEXP_ROOT"] = old_root


def _script_vs_plain(lines: int = 100_000) -> tuple[float, float, float]:
    """Medians: the command run plainly with its output kept in a file (``> log.txt``, what a run keeps),
    the same with its output thrown away, and the command run as a run."""
    from jupyter_mlexp import Experiment
    from jupyter_mlexp.runner.script import run_script

    code = f"import sys\nw = sys.stdout.write\nfor i in range({lines}):\n    w(f'loss: {{1.0 / (i + 1)}}\\n')\n"
    command = [sys.executable, "-c", code]
    old_root = os.environ.get("MLEXP_ROOT")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MLEXP_ROOT"] = tmp
        try:
            exp = Experiment("bench")
            exp.register("Printing is cheap.\nsuccess: loss < 1\nmetrics: loss\n")
            plain, dropped, as_run = [], [], []
            for _ in range(9):  # interleaved, medians: the plain anchor alone moves by +-15 % between runs here
                t0 = time.perf_counter()
                with open(Path(tmp) / "log.txt", "wb") as log:
                    subprocess.run(command, stdout=log, check=True)
                plain.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
                dropped.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                run_script(command, exp, echo=io.StringIO())
                as_run.append(time.perf_counter() - t0)
            return statistics.median(plain), statistics.median(dropped), statistics.median(as_run)
        finally:
            if old_root is None:
                os.environ.pop("MLEXP_ROOT", None)
            else:
                os.environ["MLEXP_ROOT"] = old_root


def run() -> list[dict]:
    small = statistics.median(_overheads(10))
    big = statistics.median(_overheads(10_000))
    plain, dropped, as_run = _script_vs_plain()
    return [
        figure("loop_overhead_per_attempt_small_repo", small, "s", 10.0, "ratio <= 0.05 (5 % of a 10-s attempt)"),
        figure("loop_overhead_per_attempt_10k_files", big, "s", 0.3, "ratio <= 1 (at most 0.3 s)"),
        figure(
            "script_as_run_100k_metric_lines",
            as_run,
            "s",
            plain,
            "ratio <= 1.05 (vs the command run plainly, its output kept in a file as a run keeps it)",
            vs_output_discarded=round(as_run / dropped, 3),
            output_discarded_s=round(dropped, 4),
        ),
    ]
