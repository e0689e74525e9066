"""metrics.jsonl has one codec: the same odd file gives the same values on every surface, and no traceback.

One file holds every odd shape a hand edit, another tool or a crash leaves: ``true``, a
``"3"`` step, a string value, NaN/inf (written by mlexp and as bare JSON tokens), an int,
garbage, a JSON list and a last line cut short. It is fed to the summary rebuild (a run
whose process died), the observations the verdict judges, the live curve (from an offset
and sampled), the runs table, ``mlexp runs`` / ``status`` and the report's figures and tables.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from jupyter_mlexp.core.errors import MetricValueError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record import metric_curves, metric_lines

HYP = "Dropout improves accuracy on the toy set\nsuccess: acc >= 0.85\nmetrics: acc, loss\n"

ODD = (
    b'{"name": "acc", "value": 0.5, "step": 0, "time": 1.0}\n'  # 1
    b'{"name": "acc", "value": true, "step": 1}\n'  # 2: a truth value, refused
    b'{"name": "acc", "value": 0.6, "step": "3"}\n'  # 3: a step as text, refused
    b'{"name": "acc", "value": "0.7", "step": 3}\n'  # 4: a value as text, refused
    b'{"name": "acc", "value": null, "nonfinite": "nan", "step": 4}\n'  # 5: NaN as mlexp writes it
    b'{"name": "acc", "value": NaN, "step": 5}\n'  # 6: NaN as a JSON token
    b'{"name": "acc", "value": Infinity, "step": 6}\n'  # 7: inf
    b"garbage\n"  # 8
    b'{"name": "acc", "value": 0.8, "step": 7}\n'  # 9
    b'{"name": "acc", "value": 0.9, "step": 8}\n'  # 10
    b'{"name": "loss", "value": 1, "step": 0}\n'  # 11: an int
    b'{"name": "loss", "value": 0.25, "step": 1}\n'  # 12
    b"[1, 2]\n"  # 13
    b'{"name": "acc", "value": 0.95, "st'  # 14: cut by a crash
)
ACC = [(0, 0.5), (7, 0.8), (8, 0.9)]  # the finite points
LOSS = [(0, 1.0), (1, 0.25)]
SKIPPED = 6


def test_the_codec_decodes_each_shape():
    series, problems = metric_lines.read_series(_write(ODD))
    assert [(s, v) for s, v, _ in series["acc"] if math.isfinite(v)] == ACC
    nonfinite = [(s, v, line) for s, v, line in series["acc"] if not math.isfinite(v)]
    assert [s for s, _, _ in nonfinite] == [4, 5, 6] and math.isinf(nonfinite[2][1])  # kept, not dropped
    assert series["loss"] == [(0, 1.0, 11), (1, 0.25, 12)]
    assert problems.count == SKIPPED
    assert [line for line, _ in problems.listed] == [2, 3, 4, 8, 13, 14]
    assert "truth value" in problems.listed[0][1] and "step" in problems.listed[1][1]
    assert "text" in problems.listed[2][1]
    message = problems.message("full/f-1/metrics.jsonl")
    assert message is not None and "\n" not in message
    assert message.startswith("full/f-1/metrics.jsonl: line 2:") and "6 lines skipped" in message


def _write(data: bytes):
    import tempfile

    fd, name = tempfile.mkstemp(suffix=".jsonl")
    with open(fd, "wb") as fh:
        fh.write(data)
    return name


@pytest.mark.parametrize("value", ["0.5", b"0.5", np.str_("0.5"), True, np.bool_(False), None, [1]])
def test_log_metric_refuses_what_a_reader_would_skip(tmp_path, value):
    exp = Experiment("demo", tmp_path)
    exp.register(HYP)
    run = exp.start_run("quick", run_id="q-1", params={}, seed=0)
    with pytest.raises(MetricValueError, match="'acc'"):
        run.log_metric("acc", value)
    with pytest.raises(MetricValueError, match="whole number"):
        run.log_metric("acc", 0.5, step="3")
    exp.finish_run(run, "completed")
    assert not (run.path / "metrics.jsonl").exists() or (run.path / "metrics.jsonl").read_text() == ""


def test_what_log_metric_writes_reads_back_the_same(tmp_path):
    rng = random.Random(4)
    exp = Experiment("demo", tmp_path)
    exp.register(HYP)
    run = exp.start_run("quick", run_id="q-1", params={}, seed=0)
    values = [rng.uniform(-1e6, 1e6) for _ in range(50)] + [float("nan"), math.inf, -math.inf, 3, np.float32(0.1)]
    for i, v in enumerate(values):
        run.log_metric("x", v, step=np.int64(i))
    exp.finish_run(run, "completed")
    series, problems = metric_lines.read_series(run.path / "metrics.jsonl")
    assert problems.count == 0
    got = [v for _, v, _ in series["x"]]
    assert got[:50] == values[:50] and math.isnan(got[50]) and got[51:53] == [math.inf, -math.inf]
    assert got[53:] == [3.0, float(np.float32(0.1))]
    summaries, _ = metric_lines.read_summaries(run.path / "metrics.jsonl")
    written = json.loads((run.path / "run.json").read_text())["metrics_summary"]["x"]
    assert summaries["x"].as_manifest() == written  # the rebuild gives what the writer kept


def _odd_experiment(root) -> Experiment:
    """Three completed seeds whose metrics.jsonl is the odd file; their summaries rebuilt from it, as for
    a run whose process died before writing its own."""
    exp = Experiment("demo", root)
    exp.register(HYP)
    for seed in (1, 2, 3):
        run = exp.start_run("full", run_id=f"f-{seed}", params={"lr": 0.1}, seed=seed)
        (run.path / "metrics.jsonl").write_bytes(ODD)
        run.reload(rebuild_summary=True)
        exp.finish_run(run, "completed")
    return exp


def test_one_odd_file_gives_the_same_values_on_every_surface(tmp_path, capsys, monkeypatch):
    exp = _odd_experiment(tmp_path)
    rel = "full/f-1/metrics.jsonl"

    # the summary rebuilt into run.json
    summary = json.loads((exp.path / "full" / "f-1" / "run.json").read_text())["metrics_summary"]
    assert summary["acc"] == {"last": 0.9, "min": 0.5, "max": 0.9, "n": 3, "step": 8, "nonfinite": 3}
    assert summary["loss"] == {"last": 0.25, "min": 0.25, "max": 1.0, "n": 2, "step": 1}

    # the observations the verdict judges, and the verdict itself
    from jupyter_mlexp.core.stats.observations import load_observations
    from jupyter_mlexp.core.stats.verdict import judge_experiment

    obs = {o.run_id: o for o in load_observations(exp)}
    assert obs["f-1"].finals["acc"] == (0.9, f"{rel}:10")
    assert obs["f-1"].finals["loss"] == (0.25, f"{rel}:12")
    verdict = judge_experiment(exp)
    assert [a.values for a in verdict.judged] == [[0.9, 0.9, 0.9]]
    assert f"{rel}:10" in verdict.judged[0].sources

    # the live curve: from an offset, then sampled in one answer (the run has ended: its cut line is read)
    chunk = metric_curves.read_since(exp.path / rel, whole=True)
    assert chunk.series == {"acc": ACC, "loss": LOSS}
    assert chunk.skipped == SKIPPED and chunk.nonfinite == 3 and not chunk.sampled
    sampled = metric_curves.read_since(exp.path / rel, whole=True, sample=1000)
    assert sampled.series == chunk.series and sampled.skipped == SKIPPED

    # the runs table and a run's curve as the server answers them
    from jupyter_mlexp.frontdoors.server import run_views

    table = run_views.runs_table(tmp_path, "demo")
    assert {r["run_id"]: r["metrics"] for r in table["runs"]}["f-1"] == {"acc": 0.9, "loss": 0.25}
    curve = run_views.run_metrics(tmp_path, "demo", "f-1", points=100)
    assert curve["series"] == {"acc": [list(p) for p in ACC], "loss": [list(p) for p in LOSS]}
    assert curve["skipped"] == SKIPPED and curve["problem"].endswith("(6 lines skipped)")

    # the CLI
    from jupyter_mlexp.frontdoors.cli import main

    monkeypatch.setenv("MLEXP_ROOT", str(tmp_path))
    for argv in (["runs", "demo"], ["status", "demo"]):
        assert main(argv) == 0
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
    assert "acc=0.9" in out or "0.9" in out

    # the report: its data, its figures and its tables
    from jupyter_mlexp.report.build import build_report
    from jupyter_mlexp.report.load import load_experiment

    data = load_experiment(exp)
    run = next(r for r in data.runs if r.run_id == "f-1")
    assert [(s, v) for s, v, _ in run.series["acc"] if math.isfinite(v)] == ACC
    assert run.finals["acc"] == (0.9, f"{rel}:10")
    assert len(run.skipped) == SKIPPED
    report = build_report(exp)
    payloads = [json.loads(p.read_text()) for p in sorted((exp.path / "figures").glob("*.json"))]
    curves = [c for p in payloads for c in p.get("curves", []) if p.get("metric") == "acc"]
    assert curves and curves[0]["steps"] == [s for s, _ in ACC]
    assert curves[0]["mean"] == pytest.approx([v for _, v in ACC])
    text = report.read_text()
    assert f"{rel}:10" in text and "Traceback" not in text
    assert f"{rel}:2" in text  # the data-quality section names the first skipped line


def test_a_sampled_curve_keeps_each_buckets_extremes_in_bounded_points(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "metrics.jsonl"
    values = [rng.gauss(0, 1) for _ in range(20_000)]
    with open(path, "w") as fh:
        for i, v in enumerate(values):
            fh.write(metric_lines.line('"loss"', v, i, 0.0))
    chunk = metric_curves.read_since(path, sample=500)
    pts = chunk.series["loss"]
    assert chunk.sampled and chunk.points == {"loss": 20_000} and chunk.next_offset == chunk.size
    assert 125 <= len(pts) <= 500
    assert [s for s, _ in pts] == sorted(s for s, _ in pts)
    assert min(v for _, v in pts) == min(values) and max(v for _, v in pts) == max(values)
    assert set(pts) <= set(enumerate(values))  # real points, not averages
    small = metric_curves.read_since(path, sample=30_000)
    assert not small.sampled and len(small.series["loss"]) == 20_000


def test_a_line_longer_than_a_block_is_one_malformed_line_and_the_next_lines_keep_their_numbers(tmp_path):
    path = tmp_path / "metrics.jsonl"
    good = metric_lines.line('"acc"', 0.5, 0, 0.0)
    with open(path, "w") as fh:
        fh.write(good + '{"name": "acc", "value": "' + "x" * (2 * metric_lines.BLOCK + 100) + '", "step": 1}\n')
        fh.write(metric_lines.line('"acc"', 0.7, 2, 0.0) + metric_lines.line('"acc"', 0.8, 3, 0.0))
    series, problems = metric_lines.read_series(path)
    assert series["acc"] == [(0, 0.5, 1), (2, 0.7, 3), (3, 0.8, 4)]
    assert problems.count == 1 and problems.listed[0][0] == 2
    assert metric_curves.read_since(path, whole=True, sample=100).series == {"acc": [(0, 0.5), (2, 0.7), (3, 0.8)]}
    offset, points = 0, []  # a client reading on from each next_offset gets the same points
    while True:
        chunk = metric_curves.read_since(path, offset, whole=True)
        points += chunk.series.get("acc", [])
        if chunk.next_offset >= chunk.size:
            break
        offset = chunk.next_offset
    assert points == [(0, 0.5), (2, 0.7), (3, 0.8)]


def test_a_file_read_before_is_still_refused_once_confined(tmp_path, monkeypatch):
    """The REST API confines reads to the workspace; a metrics file the memo kept from an unconfined
    read (same process) must not be served through a symlink out of it."""
    from jupyter_mlexp.core.record import memo
    from jupyter_mlexp.core.record.fsio import confined_to
    from jupyter_mlexp.core.stats.observations import read_finals, read_metrics

    monkeypatch.setattr(memo, "SETTLE_S", 0.0)  # keep the parse at once
    outside = tmp_path / "outside" / "metrics.jsonl"
    outside.parent.mkdir()
    outside.write_text(metric_lines.line('"acc"', 0.5, 0, 0.0))
    root = tmp_path / "root"
    root.mkdir()
    link = root / "metrics.jsonl"
    link.symlink_to(outside)
    assert read_finals(link)[0] == {"acc": (0.5, 1)} and read_metrics(link)[0]
    with confined_to(root):
        for read in (read_finals, read_metrics):
            got, skipped = read(link)
            assert got == {} and "refused" in skipped[0][1]


def test_the_readers_of_mlexp_runs_and_of_curves_hold_a_block_not_the_file(tmp_path, monkeypatch):
    """``mlexp runs``/``status`` and the server's listing read each run's finals by :func:`read_summaries`,
    the curve by ``read_since``: memory is a few blocks however long the file (a guard: reading the
    whole file, as ``read_series`` does for the report, would hold it all)."""
    import tracemalloc

    monkeypatch.setattr(metric_lines, "BLOCK", 16 << 10)
    path = tmp_path / "metrics.jsonl"
    names = [metric_lines.quoted(n) for n in ("loss", "acc", "lr")]
    with open(path, "w") as fh:
        fh.write("".join(metric_lines.line(names[i % 3], 1 / (i + 1), i // 3, 1.7e9) for i in range(24_000)))
    assert path.stat().st_size > 100 * metric_lines.BLOCK
    for read in (
        lambda: metric_lines.read_summaries(path),
        lambda: metric_curves.read_since(path, sample=100, whole=True, exact=True),
    ):
        metric_curves._kept.clear()
        tracemalloc.start()
        try:
            got = read()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert got  # read to the end
        assert peak < 20 * metric_lines.BLOCK, peak
    summaries, _ = metric_lines.read_summaries(path)
    assert summaries["loss"].n == 8_000 and summaries["lr"].line == 24_000
    tracemalloc.start()
    try:
        metric_lines.read_series(path)
        whole = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert whole > 100 * metric_lines.BLOCK  # the guard can tell: a reader that keeps every point fails it


def test_the_summaries_fold_the_same_points_as_the_block_decoder(tmp_path, monkeypatch):
    """read_summaries folds records as it decodes them (its own loop, for speed): on a file of every
    odd shape across many blocks it gives what folding :func:`point_blocks` gives, line numbers too."""
    monkeypatch.setattr(metric_lines, "BLOCK", 4 << 10)
    rng = random.Random(24)
    odd = [
        "not json\n",
        "\n",
        "   \n",
        '{"name":"acc","value":true,"step":1}\n',
        '{"name":"acc","value":"0.5","step":1}\n',
        '{"name":"acc","value":2,"step":"3"}\n',
        '{"name": "acc", "value": 7, "step": 4}\n',
        '{"name":"acc","value":null,"nonfinite":"-inf","step":5}\n',
        '{"name":"acc","value":NaN,"step":6}\n',
        '{"name":"","value":1.0,"step":1}\n',
        "[1, 2]\n",
        '{"name":"acc","value":1e999,"step":7}\n',
        "x" * 5000 + "\n",  # longer than a block
    ]
    names = [metric_lines.quoted(n) for n in ("loss", "acc", "lr")]
    lines = []
    for i in range(3000):
        lines.append(
            rng.choice(odd) if rng.random() < 0.1 else metric_lines.line(rng.choice(names), rng.random(), i, 1.0)
        )
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(lines) + '{"name":"loss","value":0.25,"step":9999}')  # cut: no newline
    problems = metric_lines.MetricProblems()
    folded: dict[str, list] = {}
    for block in metric_lines.point_blocks(path, problems):
        for lineno, name, step, v in block:
            s = folded.setdefault(name, [v, lineno, step, 0, None, None, 0])
            s[:3] = [v, lineno, step]
            if math.isfinite(v):
                s[3] += 1
                s[4] = v if s[4] is None else min(s[4], v)
                s[5] = v if s[5] is None else max(s[5], v)
            else:
                s[6] += 1
    summaries, got_problems = metric_lines.read_summaries(path)
    assert {
        n: [getattr(s, f) for f in ("last", "line", "step", "n", "min", "max", "nonfinite")]
        for n, s in summaries.items()
    } == folded
    assert (got_problems.count, got_problems.listed) == (problems.count, problems.listed) and problems.count > 100
    assert summaries["loss"].step == 9999 and summaries["acc"].nonfinite > 0
