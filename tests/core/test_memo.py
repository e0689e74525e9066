"""Parsed record files kept while unchanged: a second read parses nothing, any change is seen."""

from __future__ import annotations

import json
import os

import pytest

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record import memo
from jupyter_mlexp.core.stats.observations import read_metrics
from jupyter_mlexp.core.stats.verdict import judge_experiment


@pytest.fixture
def settled(monkeypatch):
    """Files count as settled at once (in real use only after SETTLE_S seconds)."""
    memo.clear()
    monkeypatch.setattr(memo, "SETTLE_S", -1.0)
    yield
    memo.clear()


def counting_parser():
    calls = []

    def parse(path):
        calls.append(path)
        with open(path) as fh:
            return fh.read()

    return parse, calls


def test_an_unchanged_file_is_parsed_once(tmp_path, settled):
    f = tmp_path / "a.json"
    f.write_text("one")
    parse, calls = counting_parser()
    assert memo.cached(str(f), "t", parse) == "one"
    assert memo.cached(str(f), "t", parse) == "one"
    assert len(calls) == 1


def test_any_change_is_read_again(tmp_path, settled):
    f = tmp_path / "a.json"
    f.write_text("one")
    parse, calls = counting_parser()
    memo.cached(str(f), "t", parse)
    with open(f, "a") as fh:  # an append: size changes
        fh.write("!")
    assert memo.cached(str(f), "t", parse) == "one!"
    f.write_text("two!")  # same size, rewritten in place: the change time moves
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert memo.cached(str(f), "t", parse) == "two!"
    tmp = tmp_path / "b.json"
    tmp.write_text("new!")
    os.replace(tmp, f)  # an atomic rewrite: another inode
    assert memo.cached(str(f), "t", parse) == "new!"
    assert len(calls) == 4


def test_a_young_file_is_never_trusted_to_the_memo(tmp_path):
    memo.clear()
    f = tmp_path / "a.json"
    f.write_text("one")
    parse, calls = counting_parser()
    memo.cached(str(f), "t", parse)
    memo.cached(str(f), "t", parse)
    assert len(calls) == 2  # written just now: two writes within a clock tick could share a stat
    assert memo.size() == 0


def test_a_missing_file_raises_and_leaves_nothing(tmp_path, settled):
    parse, calls = counting_parser()
    with pytest.raises(FileNotFoundError):
        memo.cached(str(tmp_path / "none"), "t", parse)
    assert memo.size() == 0 and calls == []


def test_the_record_readers_see_a_changed_run(tmp_path, settled):
    exp = Experiment("demo", tmp_path)
    exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc")
    for seed in range(3):
        run = exp.start_run("full", run_id=f"r{seed}", params={}, seed=seed)
        run.log_metric("acc", 0.95 + seed * 0.001)
        exp.finish_run(run, "completed")
    first = judge_experiment(exp)
    assert [r.status for r in exp.runs()] == ["completed"] * 3
    # a hand edit of one run.json and more metrics in another: both must be seen
    manifest = exp.path / "full" / "r0" / "run.json"
    data = json.loads(manifest.read_text())
    data["status"] = "failed"
    manifest.write_text(json.dumps(data))
    with open(exp.path / "full" / "r1" / "metrics.jsonl", "a") as fh:
        fh.write(json.dumps({"name": "acc", "value": 0.1, "step": 1}) + "\n")
    assert [r.status for r in exp.runs()] == ["failed", "completed", "completed"]
    series, _ = read_metrics(exp.path / "full" / "r1" / "metrics.jsonl")
    assert [v for _, v, _ in series["acc"]] == [0.951, 0.1]
    assert judge_experiment(exp).to_dict() != first.to_dict()
