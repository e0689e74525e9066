"""Figures at the edges (issue 21): pathological IGNORED_RUNS.md, a script's huge output.

Each with its anchor measured in the same run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import figure, median_time


def ignored_listing() -> dict:
    """Listing an IGNORED_RUNS.md of 200,000 lines, one in ten with 2 x 200 spaces (the lines that made
    the old single pattern backtrack), vs reading the file and splitting each line."""
    from jupyter_mlexp.core.ignored import read_ignored

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

        def ours():
            found, _ = read_ignored(path)
            assert len(found) == 200_000

        def floor():
            for line in path.read_text().splitlines():
                line.strip().split(":", 1)

        t, f = median_time(ours, repeat=3), median_time(floor, repeat=3)
    return figure(
        "ignored_200k_lines_pathological_s",
        t,
        "s",
        f,
        "< 1 s, linear (anchor = read the file and split each line)",
    )


def run() -> list[dict]:
    return [ignored_listing()]
