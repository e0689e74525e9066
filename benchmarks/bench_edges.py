"""Figures at the edges (issue 21): pathological IGNORED_RUNS.md, a script's huge output.

Each with its anchor measured in the same run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import figure, median_time, peak_mb_of


def ignored_listing() -> list[dict]:
    """Listing an IGNORED_RUNS.md of 200,000 lines, one in ten with 2 x 200 spaces (the lines that made
    the old single pattern backtrack), vs reading the file and splitting each line: the first reading
    (parsed) and a listing again of the unchanged file (the sidebar's polls: compared, not parsed)."""
    from jupyter_mlexp.core.record import ignored
    from jupyter_mlexp.core.record.ignored import read_ignored

    spaces = " " * 200
    lines = []
    for i in range(200_000):
        if i % 10 == 0:
            lines.append(f"- `run-{i}`:{spaces}x{spaces}(ignored")
        else:
            lines.append(f"- `20261201-000000-{i:06x}`: a reason (ignored 2026-12-01T00:00:00+00:00)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "IGNORED_RUNS.md"
        path.write_text("\n".join(lines) + "\n")

        def first():
            ignored._read_cache.clear()
            found, _ = read_ignored(path)
            assert len(found) == 200_000

        def again():
            found, _ = read_ignored(path)
            assert len(found) == 200_000

        def floor():
            for line in path.read_text().splitlines():
                line.strip().split(":", 1)

        t, f = median_time(first, repeat=5), median_time(floor, repeat=5)
        w = median_time(again, repeat=5)
    goal = "< 1 s, linear (anchor = read the file and split each line)"
    return [
        figure("ignored_200k_lines_pathological_s", t, "s", f, goal),
        figure("ignored_200k_lines_listed_again_s", w, "s", f, goal + "; the file unchanged since it was read"),
    ]


BIG_SCRIPT = """
import sys
block = ("x" * 99 + "\\n") * 10486  # ~1 MiB
for _ in range(int(sys.argv[1])):
    sys.stdout.write(block)
print("acc: 0.5")
"""


def _runner_peak_mb(root: Path, mib: int) -> float:
    """Peak memory of ``mlexp run --json -- python big.py MIB`` (the runner, not the script): its
    ``VmHWM``, read while it runs. Not ``wait4``'s ``ru_maxrss``: a child forked from this process
    starts at this process's size and keeps that figure through ``exec`` (after the report figures of
    this module it read 363 MB for the runner of a 1 MiB script)."""
    import os
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "run", "--experiment", "big", "--json"]
    proc = subprocess.Popen(
        [*cmd, "--", sys.executable, "big.py", str(mib)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "MLEXP_ROOT": str(root)},
    )
    peak = peak_mb_of(proc)
    assert proc.returncode == 0
    return peak


def script_output_memory() -> dict:
    """The runner's peak memory while a script prints 1 GiB (MLEXP_BENCH_STDOUT_MIB to change it), vs
    the same runner for a script that prints 1 MiB."""
    import os

    from jupyter_mlexp import Experiment

    mib = int(os.environ.get("MLEXP_BENCH_STDOUT_MIB", "1024"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["MLEXP_ROOT"] = tmp
        try:
            Experiment("big", root=tmp).register("Printing raises acc.\nsuccess: acc >= 0.1\nmetrics: acc")
        finally:
            del os.environ["MLEXP_ROOT"]
        (root / "big.py").write_text(BIG_SCRIPT)
        small = _runner_peak_mb(root, 1)
        big = _runner_peak_mb(root, mib)
    return figure(
        f"runner_peak_mb_for_{mib}_mib_of_stdout",
        big,
        "MB",
        small,
        "< 200 MB for 1 GiB (anchor = the same runner for 1 MiB of output)",
    )


def journal_report() -> list[dict]:
    """``mlexp report`` and ``--html`` of an experiment with a 50 MiB journal (one entry in five
    untagged), vs parsing that journal alone; and the notebook's size."""
    import time

    from jupyter_mlexp import Experiment
    from jupyter_mlexp.report.build import write_report

    with tempfile.TemporaryDirectory() as tmp:
        exp = Experiment("j", root=tmp)
        exp.register("Warmup helps.\nsuccess: acc >= 0.5\nmetrics: acc")
        run = exp.start_run("quick")
        run.log_metric("acc", 0.6)
        exp.finish_run(run, "completed")
        chunks, size, i = [exp.journal_md.read_text()], 0, 0
        tags = ("[WEIRD]", "[HUNCH]", "[TODO]", "[LESSON]", "")
        while size < 50 * 2**20:
            entry = f"## 2026-12-07T03:00:{i % 60:02d}+00:00 {tags[i % 5]}\n\n" + f"observation {i} of the loss. " * 20
            chunks.append(entry + "\n\n")
            size += len(entry) + 2
            i += 1
        exp.journal_md.write_text("".join(chunks))
        t0 = time.perf_counter()
        assert len(Experiment("j", root=tmp).journal().entries) >= i
        parse = time.perf_counter() - t0
        t0 = time.perf_counter()
        target, _ = write_report(Experiment("j", root=tmp))
        plain = time.perf_counter() - t0
        nb_size = target.stat().st_size
        t0 = time.perf_counter()
        write_report(Experiment("j", root=tmp), html=True)
        html = time.perf_counter() - t0
    goal = "< 30 s, report.ipynb < 5 MB (anchor = parsing the journal alone)"
    return [
        figure("report_50mib_journal_s", plain, "s", parse, goal, notebook_bytes=nb_size),
        figure("report_html_50mib_journal_s", html, "s", parse, goal),
    ]


def run() -> list[dict]:
    return [*ignored_listing(), script_output_memory(), *journal_report()]
