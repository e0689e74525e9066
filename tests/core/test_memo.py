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


def _three_runs(tmp_path):
    exp = Experiment("demo", tmp_path)
    exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc\nseeds: 3")
    for seed in range(3):
        run = exp.start_run("full", run_id=f"r{seed}", params={"lr": 0.1}, seed=seed)
        run.log_metric("acc", 0.95 + seed * 0.001)
        exp.finish_run(run, "completed")
    return exp


def test_every_surface_reads_the_record_once_and_shows_one_verdict(tmp_path, settled):
    from jupyter_mlexp.core.stats.observations import load_observations
    from jupyter_mlexp.report.load import load_experiment
    from jupyter_mlexp.report.report_verdict import judge as report_judge

    exp = _three_runs(tmp_path)
    verdict = judge_experiment(exp)  # mlexp status, the sidebar
    listed = exp.runs()
    assert [a is b for a, b in zip(listed, exp.runs())] == [True] * 3  # one listing, kept while unchanged
    observed = load_observations(exp, every=True)
    assert all(a is b for a, b in zip(observed, load_observations(exp, every=True)))
    data = load_experiment(exp)  # the report: the same runs, the same observations, the same verdict
    assert [r.observation for r in data.runs] == observed and all(
        r.observation is o for r, o in zip(data.runs, observed)
    )
    assert report_judge(data) is verdict
    # a change is seen by all of them: an ignore rewrites IGNORED_RUNS.md
    exp.ignore("r2", "the data loader was broken")
    after = judge_experiment(exp)
    assert after is not verdict and after.to_dict() != verdict.to_dict()
    now = exp.runs()
    assert [r.ignored for r in now] == [False, False, True]
    assert now[0] is listed[0] and now[1] is listed[1] and now[2] is not listed[2]  # only what changed is new
    assert report_judge(load_experiment(exp)) is after
    # a new run: the listing parses its run.json alone, the others are the same objects
    run = exp.start_run("full", run_id="r3", params={"lr": 0.1}, seed=3)
    run.log_metric("acc", 0.96)
    exp.finish_run(run, "completed")
    grown = exp.runs()
    assert [r.run_id for r in grown] == ["r0", "r1", "r2", "r3"] and all(a is b for a, b in zip(grown, now))


def test_a_kept_listing_still_sees_a_running_run_whose_process_ended(tmp_path, settled):
    import subprocess
    import sys

    from jupyter_mlexp.core.execution import procs

    exp = _three_runs(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        manifest = exp.path / "full" / "r1" / "run.json"
        data = json.loads(manifest.read_text())
        data.update(status="running", pid=child.pid, pid_start=procs.start_time(child.pid))
        manifest.write_text(json.dumps(data))
        assert [r.status for r in exp.runs()] == ["completed", "running", "completed"]
        assert [r.status for r in exp.runs()] == ["completed", "running", "completed"]  # from the kept listing
    finally:
        child.kill()
        child.wait()
    assert [r.status for r in exp.runs()] == ["completed", "stale", "completed"]  # run.json did not change


def test_a_bulk_read_pauses_the_cyclic_collector_and_always_restores_it(tmp_path, settled):
    import gc

    exp = _three_runs(tmp_path)
    assert gc.isenabled()
    with memo.bulk():
        assert not gc.isenabled()
        with memo.bulk():  # nested: the outer one restores it
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), memo.bulk():
        raise RuntimeError("a reader failed")
    assert gc.isenabled()
    gc.disable()  # a caller that turned it off keeps it off
    try:
        exp.runs()
        judge_experiment(exp)
        assert not gc.isenabled()
    finally:
        gc.enable()
    memo.clear()
    judge_experiment(exp)
    assert gc.isenabled()
