"""Printed ``name: value`` lines parsed as they come give the record the line-by-line rule gives."""

from __future__ import annotations

import json
import math

import pytest

from jupyter_mlexp.core.execution.printed import PrintedMetrics, parse_stdout_metrics
from jupyter_mlexp.core.experiment import Experiment

TEXT = (
    "epoch 1\n"
    "loss: 0.5\n"
    "  acc : 1e-3  \n"
    "loss: 007\n"  # not JSON as printed: written as Python's repr
    "loss: .25\r\n"
    "progress 10%\rloss: +1.50\r"
    "loss: nan\n"
    "acc: -inf\n"
    "loss: 1e400\n"  # overflows to inf
    "val/acc: 0.75\n"
    "weird: 1.0 extra\n"
    "loss: 2.5E+2\n"
    "acc: 0.9"  # no final newline
)


def _record(tmp_path, name, feed):
    exp = Experiment(name, tmp_path)
    if not (exp.path / "idea.json").exists():
        exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc, loss")
    run = exp.start_run("quick", params={}, seed=0)
    feed(run)
    run.close_metrics()
    rows = [json.loads(line) for line in (run.path / "metrics.jsonl").read_text().splitlines()]
    for r in rows:
        r.pop("time")
    by_name = {}
    for r in rows:  # the order across names may differ; within a name it may not
        by_name.setdefault(r["name"], []).append(r)
    return by_name, run.summary, run.warnings


def _line_by_line(text):
    def feed(run):
        for name, value in parse_stdout_metrics(text):
            run.log_metric(name, value)

    return feed


def _same(tmp_path, text, chunks):
    want = _record(tmp_path, "a", _line_by_line(text))

    def feed(run):
        pm = PrintedMetrics()
        for c in chunks:
            pm.feed(c)
        pm.close()
        run.log_printed_metrics(pm)

    got = _record(tmp_path, "b", feed)
    assert got[1] == want[1]  # summaries
    assert sorted(got[2]) == sorted(want[2])  # warnings
    for name, rows in want[0].items():
        assert [(r["step"], r.get("nonfinite")) for r in got[0][name]] == [
            (r["step"], r.get("nonfinite")) for r in rows
        ]
        assert [r["value"] for r in got[0][name]] == pytest.approx([r["value"] for r in rows], nan_ok=True)
        assert all(r["value"] is None or math.isfinite(r["value"]) for r in got[0][name])


def test_parsed_whole_equals_line_by_line(tmp_path):
    _same(tmp_path, TEXT, [TEXT])


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16])
def test_parsed_in_pieces_of_any_size_equals_line_by_line(tmp_path, size):
    _same(tmp_path, TEXT, [TEXT[i : i + size] for i in range(0, len(TEXT), size)])


def test_rare_line_breaks_take_the_line_by_line_path(tmp_path):
    text = "loss: 1\x0bloss: 2\u2028acc: 0.5\x1closs: 3\n"
    _same(tmp_path, text, [text])


def test_names_the_run_already_logged_continue_their_steps(tmp_path):
    exp = Experiment("c", tmp_path)
    exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc, loss")
    run = exp.start_run("quick", params={}, seed=0)
    run.log_metric("loss", 9.0)
    run.log_printed_metrics("loss: 1\nloss: 2\nacc: 0.5\n", skip={"acc"})
    run.close_metrics()
    rows = [json.loads(x) for x in (run.path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["name"], r["value"], r["step"]) for r in rows] == [("loss", 9.0, 0), ("loss", 1.0, 1), ("loss", 2.0, 2)]
    assert run.summary["loss"] == {"last": 2.0, "min": 1.0, "max": 9.0, "n": 3, "step": 2}


@pytest.mark.parametrize(
    "odd",
    [
        '{"name": "loss", "value": true, "step": 9}',  # a truth value: refused by the codec, 1.0 by a reader of its own
        '{"name": "loss", "value": null, "nonfinite": ["inf"], "step": 9}',  # an odd kind: NaN, not a TypeError
        '{"name": "loss", "value": 1' + "0" * 400 + ', "step": 9}',  # too large for a float: skipped
        '{"name": "loss", "value": 0.5, "step": "9"}',  # a step that is not a whole number: skipped
        '{"name": "loss", "value": null, "nonfinite": "-inf", "step": 9}',
    ],
)
def test_spooled_values_are_read_back_by_the_one_codec(tmp_path, odd):
    """The values a run's spooled printed lines give are the ones metrics.jsonl's codec reads from the
    same lines: the spool was parsed by a reader of its own, which took ``true`` as 1.0 and raised on
    an odd ``nonfinite``."""
    from jupyter_mlexp.core.record.metric_lines import read_series

    pm = PrintedMetrics(spool=tmp_path)
    pm.feed("loss: 0.25\nloss: 1\n")
    pm.close()
    p = pm.by_name["loss"]
    assert p.spool is not None
    with open(p.spool, "a", encoding="utf-8") as fh:
        fh.write(odd + "\n")
    series, _ = read_series(p.spool)
    codec = [v for _, v, _ in series["loss"]]
    got = list(p.iter_values())
    assert [repr(v) for v in got] == [repr(v) for v in codec]
    assert got[:2] == [0.25, 1.0]
