import pytest

from jupyter_mlexp.core.errors import RecordError, RunNotFoundError


def _run(exp, mode="quick", **kw):
    run = exp.start_run(mode, params=kw)
    run.log_metric("val_acc", 0.9)
    exp.finish_run(run, "completed")
    return run.run_id


def test_ignore_and_unignore_round_trip(experiment):
    a, b = _run(experiment), _run(experiment, "full")
    experiment.ignore(a, "data loader bug | pipe in reason")
    runs = {r.run_id: r for r in experiment.runs()}
    assert runs[a].ignored and runs[a].ignored_reason == "data loader bug | pipe in reason"
    assert not runs[b].ignored
    assert f"`{a}`" in experiment.ignored_md.read_text()
    experiment.unignore(a)
    assert not {r.run_id: r for r in experiment.runs()}[a].ignored
    events = [e["event"] for e in experiment.events()]
    assert "run_ignored" in events and "run_unignored" in events


def test_reason_required_and_unknown_run(experiment):
    a = _run(experiment)
    with pytest.raises(RecordError, match="reason"):
        experiment.ignore(a, "  ")
    with pytest.raises(RunNotFoundError):
        experiment.ignore("20990101-000000-abcdef", "nope")
    with pytest.raises(RecordError, match="not ignored"):
        experiment.unignore(a)


def test_hand_edited_file_keeps_unknown_lines(experiment):
    a, b = _run(experiment), _run(experiment)
    experiment.ignored_md.write_text(
        f"# Ignored runs\n\nsome prose a person wrote\n- `{a}`: OOM on node 3\n* {b} — diverged\n- nonsense without reason\n- `gone-123`: run deleted\n"
    )
    ignored, warnings = experiment.ignored()
    reasons = {i.run_id: i.reason for i in ignored}
    assert reasons[a] == "OOM on node 3" and reasons[b] == "diverged"
    assert any("some prose" not in w and "IGNORED_RUNS.md:3" in w for w in warnings)
    assert any("IGNORED_RUNS.md:6" in w for w in warnings)  # no reason: kept, flagged
    assert any("'gone-123' does not exist" in w for w in warnings)
    experiment.unignore(a)
    text = experiment.ignored_md.read_text()
    assert "some prose a person wrote" in text and "diverged" in text and "OOM" not in text
    assert "- nonsense without reason" in text and "gone-123" in text


def test_runs_under_ignored_folder_count_as_ignored(experiment):
    a = _run(experiment)
    (experiment.path / "quick" / "ignored").mkdir()
    (experiment.path / "quick" / a).rename(experiment.path / "quick" / "ignored" / a)
    (info,) = experiment.runs()
    assert info.ignored and "ignored" in info.ignored_reason
    assert [i.run_id for i in experiment.ignored()[0]] == [a]
    with pytest.raises(RecordError, match="move it back"):
        experiment.unignore(a)
    assert [r.run_id for r in experiment.runs(include_ignored=False)] == []


def test_stale_running_run(experiment):
    run = experiment.start_run("quick")
    run.manifest["pid"] = 2**22 + 12345  # no such process
    run.write_manifest()
    assert experiment.runs()[0].status == "stale"
