"""Reading metrics.jsonl from a byte offset: only new whole lines, a half-written line waits, a replaced file restarts."""

from __future__ import annotations

import json
import re

import pytest

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.metric_curves import read_since as read_metrics_since


def line(name, value, step) -> str:
    return json.dumps({"name": name, "value": value, "step": step}) + "\n"


def test_reads_only_what_was_added_since_the_offset(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line("loss", 1.0, 0) + line("acc", 0.5, 0))
    first = read_metrics_since(path)
    assert first.series == {"loss": [(0, 1.0)], "acc": [(0, 0.5)]}
    assert first.next_offset == first.size == path.stat().st_size
    with open(path, "a") as fh:
        fh.write(line("loss", 0.8, 1))
    second = read_metrics_since(path, first.next_offset)
    assert second.series == {"loss": [(1, 0.8)]}
    assert second.offset == first.next_offset and not second.reset


def test_a_half_written_line_waits_for_the_next_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    whole = line("loss", 1.0, 0)
    path.write_text(whole + '{"name": "loss", "val')
    chunk = read_metrics_since(path)
    assert chunk.series == {"loss": [(0, 1.0)]}
    assert chunk.next_offset == len(whole.encode()) < chunk.size
    path.write_text(whole + line("loss", 0.5, 1))
    assert read_metrics_since(path, chunk.next_offset).series == {"loss": [(1, 0.5)]}


def test_a_shorter_file_was_replaced_so_reading_starts_over(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(line("loss", 1.0, 0) * 5)
    end = read_metrics_since(path).next_offset
    path.write_text(line("loss", 9.0, 0))
    chunk = read_metrics_since(path, end)
    assert chunk.reset and chunk.offset == 0
    assert chunk.series == {"loss": [(0, 9.0)]}


def test_bad_lines_are_counted_not_served_and_nan_is_counted_apart(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(
        "not json\n" + line("loss", True, 0) + line("loss", float("nan"), 1) + line("loss", 2, "x") + line("ok", 2, 3)
    )
    chunk = read_metrics_since(path)
    assert chunk.series == {"ok": [(3, 2.0)]}
    assert chunk.skipped == 3 and chunk.nonfinite == 1  # NaN is a value (flagged), not a malformed line
    assert chunk.problem is not None and "metrics.jsonl: line 1: not JSON" in chunk.problem


def test_a_missing_file_is_empty_and_a_chunk_limit_is_respected(tmp_path):
    assert read_metrics_since(tmp_path / "none.jsonl").series == {}
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(line("loss", float(i), i) for i in range(100)))
    offset, steps = 0, []
    while True:
        chunk = read_metrics_since(path, offset, max_bytes=300)
        steps += [s for s, _ in chunk.series.get("loss", [])]
        offset = chunk.next_offset
        if offset == chunk.size:
            break
    assert steps == list(range(100))


def test_reads_what_a_real_run_logs(tmp_path):
    exp = Experiment("demo", tmp_path)
    exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc")
    run = exp.start_run("quick", run_id="q-1", params={}, seed=0)
    for step in range(3):
        run.log_metric("acc", 0.1 * step, step=step)
    exp.finish_run(run, "completed")
    chunk = read_metrics_since(run.path / "metrics.jsonl")
    assert [s for s, _ in chunk.series["acc"]] == [0, 1, 2]


def test_an_unreadable_metrics_file_is_a_record_error_naming_it(tmp_path):
    from jupyter_mlexp.core.errors import RecordError

    folder = tmp_path / "metrics.jsonl"
    folder.mkdir()  # a folder where the file belongs: a hand edit, a bad copy
    with pytest.raises(RecordError, match="metrics.jsonl"):
        read_metrics_since(folder)


def _fresh(path, **kw):
    from jupyter_mlexp.core.record import metric_curves

    metric_curves._kept.clear()
    return read_metrics_since(path, **kw)


def test_a_sampled_curve_read_again_decodes_only_the_lines_added_and_matches_a_fresh_read(tmp_path, monkeypatch):
    """A running run's curve is polled sampled: each poll decoded the whole file again (ten million lines:
    tens of seconds each)."""
    import random

    from jupyter_mlexp.core.record import metric_curves

    rng = random.Random(21)
    path = tmp_path / "metrics.jsonl"
    lines = [line("loss", rng.random(), s) for s in range(5000)] + ["not json\n", line("acc", float("nan"), 1)]
    path.write_text("".join(lines))
    first = _fresh(path, sample=100)
    assert first.sampled and first.points == {"loss": 5000}
    decoded: list[int] = []
    real = metric_curves.decode_block
    monkeypatch.setattr(metric_curves, "decode_block", lambda data, *a: decoded.append(len(data)) or real(data, *a))
    added = "".join(line("loss", rng.random(), s) for s in range(5000, 5300)) + line("acc", 0.5, 2)
    with open(path, "a") as fh:
        fh.write(added)
    again = read_metrics_since(path, sample=100)
    assert decoded == [len(added.encode())]
    fresh = _fresh(path, sample=100)
    assert again.to_dict() == fresh.to_dict() and again.points == {"loss": 5300, "acc": 1}
    # rewritten in place, same inode: read from the start again
    rewritten = "".join(line("loss", 2.0 + s, s) for s in range(3000))
    with open(path, "r+") as fh:
        fh.write(rewritten)
    assert read_metrics_since(path, sample=100).to_dict() == _fresh(path, sample=100).to_dict()
    # replaced by another file (another inode), and a read of the ended run: read from the start
    path.with_name("new.jsonl").write_text(line("loss", 1.0, 0))
    path.with_name("new.jsonl").replace(path)
    assert read_metrics_since(path, sample=100).series == {"loss": [(0, 1.0)]}
    assert read_metrics_since(path, sample=100, whole=True).series == {"loss": [(0, 1.0)]}


def _write_bulk(path, steps: int, start: int = 0) -> None:
    """``steps`` steps of loss, acc and lr as ``log_metric`` writes them, written in bulk (fast)."""
    from jupyter_mlexp.core.record.metric_lines import line as metric_line
    from jupyter_mlexp.core.record.metric_lines import quoted

    names = [quoted("loss"), quoted("acc"), quoted("lr")]
    with open(path, "a") as fh:
        fh.write(
            "".join(
                metric_line(q, v, s, 1.7e9 + s)
                for s in range(start, start + steps)
                for q, v in zip(names, (1 / (s + 1), (s * 7919 % 1000) / 1000, 0.1 * 0.99 ** (s // 100)))
            )
        )


def test_the_first_sampled_read_of_a_long_file_is_a_marked_sample_of_its_whole_range_and_a_later_one_exact(
    tmp_path, monkeypatch
):
    """The first sampled read decoded every line (ten million lines: 49 s before the answer). Past
    EXACT_BYTES it reads evenly spaced windows, answers them marked approximate, and the exact sample
    is computed in the background for the next read; the foreground decodes at most a few windows."""
    import threading

    from jupyter_mlexp.core.record import metric_curves

    monkeypatch.setattr(metric_curves, "EXACT_BYTES", 1 << 20)
    monkeypatch.setattr(metric_curves, "WINDOWS", 64)
    path = tmp_path / "metrics.jsonl"
    steps = 30_000
    _write_bulk(path, steps)
    size = path.stat().st_size
    assert size > 6 << 20
    me, decoded = threading.get_ident(), []
    real = metric_curves.decode_block

    def spy(data, *a):
        if threading.get_ident() == me:
            decoded.append(len(data))
        return real(data, *a)

    monkeypatch.setattr(metric_curves, "decode_block", spy)
    metric_curves._kept.clear()
    first = read_metrics_since(path, sample=500, whole=True)
    assert first.approximate and first.sampled and first.to_dict()["approximate"]
    assert sum(decoded) <= metric_curves.WINDOWS * metric_curves.WINDOW < size // 2
    assert set(first.series) == {"loss", "acc", "lr"}
    for name, pts in first.series.items():
        assert 100 <= len(pts) <= 500
        steps_seen = [s for s, _ in pts]
        assert steps_seen == sorted(steps_seen)
        assert steps_seen[0] < steps // 100 and steps_seen[-1] > steps - steps // 100, name  # the whole range
        assert abs(first.points[name] - steps) < steps // 10  # an estimate, said to be one
    assert all(v == 1 / (s + 1) for s, v in first.series["loss"])  # points as logged, none made up
    assert metric_curves.settle(timeout=60)
    decoded.clear()
    exact = read_metrics_since(path, sample=500, whole=True)
    assert not exact.approximate and exact.sampled and exact.points == {"loss": steps, "acc": steps, "lr": steps}
    assert decoded == []  # the background read kept where it stopped: nothing left to decode
    # the same as a read that decodes every line in the foreground
    metric_curves._kept.clear()
    assert exact.to_dict() == read_metrics_since(path, sample=500, whole=True, exact=True).to_dict()
    # a grown file: only the new lines (fewer than EXACT_BYTES) are decoded, and the answer stays exact
    _write_bulk(path, 1000, start=steps)
    decoded.clear()
    grown = read_metrics_since(path, sample=500, whole=True)
    assert not grown.approximate and grown.points["loss"] == steps + 1000
    assert sum(decoded) == path.stat().st_size - size


def test_exact_reads_in_the_background_are_bounded_in_number(tmp_path, monkeypatch):
    """Many long curves asked at once: at most MAX_BACKGROUND exact reads run at a time; the other
    curves are answered approximate until a later read finds a place free."""
    import threading

    from jupyter_mlexp.core.record import metric_curves

    monkeypatch.setattr(metric_curves, "EXACT_BYTES", 64 << 10)
    me, gate = threading.get_ident(), threading.Event()
    real = metric_curves.decode_block

    def held(*a):  # the background reads wait at the gate; this thread's windows go through
        if threading.get_ident() != me:
            gate.wait(60)
        return real(*a)

    monkeypatch.setattr(metric_curves, "decode_block", held)
    paths = [tmp_path / f"m{i}.jsonl" for i in range(metric_curves.MAX_BACKGROUND + 3)]
    for p in paths:
        _write_bulk(p, 3000)
    metric_curves._kept.clear()
    try:
        assert all(read_metrics_since(p, sample=100, whole=True).approximate for p in paths)
        assert len(metric_curves._running) == metric_curves.MAX_BACKGROUND
    finally:
        gate.set()
    assert metric_curves.settle(timeout=60)
    again = [read_metrics_since(p, sample=100, whole=True).approximate for p in paths]
    assert again == [False] * metric_curves.MAX_BACKGROUND + [True] * 3
    assert metric_curves.settle(timeout=60)


def test_an_approximate_read_counts_bad_lines_and_nan_without_line_numbers_it_does_not_know(tmp_path, monkeypatch):
    from jupyter_mlexp.core.record import metric_curves

    monkeypatch.setattr(metric_curves, "EXACT_BYTES", 64 << 10)
    path = tmp_path / "metrics.jsonl"
    body = "".join(line("loss", 0.5, s) if s % 100 else "not json\n" for s in range(20_000))
    path.write_text(body + line("loss", float("nan"), 20_000))
    metric_curves._kept.clear()
    chunk = read_metrics_since(path, sample=100, whole=True)
    assert chunk.approximate and chunk.skipped > 0 and chunk.nonfinite >= 1  # the last window holds the NaN
    assert chunk.problem.startswith(f"{path}: not JSON (") and not re.search(r"line \d", chunk.problem)
    assert metric_curves.settle(timeout=60)
    exact = read_metrics_since(path, sample=100, whole=True)
    assert exact.skipped == 200 and exact.nonfinite == 1 and exact.problem.startswith(f"{path}: line 1: not JSON")


def test_a_read_of_the_ended_run_goes_on_from_the_reads_made_while_it_ran(tmp_path, monkeypatch):
    """The sidebar reads a running run's curve (``whole=False``), then the run ends (``whole=True``): the
    second read decodes only what the first did not, a last line without its newline included."""
    from jupyter_mlexp.core.record import metric_curves

    path = tmp_path / "metrics.jsonl"
    _write_bulk(path, 2000)
    metric_curves._kept.clear()
    running = read_metrics_since(path, sample=100)
    with open(path, "a") as fh:
        fh.write('{"name":"loss","value":0.125,"step":2000,"time":1.0}')  # cut by the end: no newline
    decoded: list[int] = []
    real = metric_curves.decode_block
    monkeypatch.setattr(metric_curves, "decode_block", lambda data, *a: decoded.append(len(data)) or real(data, *a))
    ended = read_metrics_since(path, sample=100, whole=True)
    assert decoded == [path.stat().st_size - running.next_offset]
    assert ended.points["loss"] == 2001 and ended.series["loss"][-1] == (2000, 0.125)
    monkeypatch.setattr(metric_curves, "decode_block", real)
    metric_curves._kept.clear()
    assert ended.to_dict() == read_metrics_since(path, sample=100, whole=True).to_dict()
