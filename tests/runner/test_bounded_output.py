"""A script's output is followed a bounded piece at a time: the runner's memory does not grow with it."""

from __future__ import annotations

import tracemalloc

from jupyter_mlexp.runner.script import QUIET, TAIL_LINES, _Follower


def test_following_32_mib_of_output_takes_a_few_mib(tmp_path):
    """The follower read everything appended since its last look at once (and decoded it, and
    joined it to the last partial line): a script that printed 300 MB took the runner to 1.1 GB."""
    out = tmp_path / "stdout.txt"
    follower = _Follower(out, QUIET)
    line = b"x" * 99 + b"\n"
    with open(out, "ab") as fh:
        for _ in range(32):
            fh.write(line * ((1 << 20) // 100 + 1))  # ~1 MiB
        fh.write(b"acc: 0.5\n" + b"y" * (3 << 20))  # and a last line without end, 3 MiB long
    tracemalloc.start()
    try:
        follower.drain()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    printed = follower.printed_metrics()
    assert peak < 16 << 20, f"{peak / 2**20:.0f} MiB"
    assert printed.summary["acc"]["last"] == 0.5
    assert len(follower.tail) == TAIL_LINES and follower.tail[-1] == "acc: 0.5\n"


def test_printed_values_are_not_held_in_memory_when_spooled(tmp_path):
    """Every printed value was also kept in a list: a script printing millions of `loss: x` lines grew
    the runner by tens of bytes a line. Spooled to the run folder, they are read back when needed."""
    from jupyter_mlexp.core.execution.printed import PrintedMetrics

    pm = PrintedMetrics(spool=tmp_path)
    pm.feed("".join(f"loss: {i}\n" for i in range(10_000)) + "loss: nan\n")
    pm.close()
    p = pm.by_name["loss"]
    assert p.values == []
    values = list(p.iter_values())
    assert values[:3] == [0.0, 1.0, 2.0] and len(values) == 10_001 and values[-1] != values[-1]
