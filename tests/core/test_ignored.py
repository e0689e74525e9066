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


def test_long_runs_of_spaces_are_read_in_linear_time(experiment):
    """One pattern for the whole line backtracked over every split of a run of spaces: quadratic in
    the line (20,000 lines of 200 spaces took 15 s). 2,000 lines of 2,000 spaces: hours before, a
    few hundredths of a second now."""
    import time

    from jupyter_mlexp.core.record.ignored import read_ignored

    spaces = " " * 2000
    lines = [f"- `run-{i}`:{spaces}x{spaces}(ignored{spaces}" for i in range(2000)]
    experiment.ignored_md.write_text("\n".join(lines) + "\n- `kept`:   slow   (ignored 2026-12-01)  \n")
    t0 = time.perf_counter()
    found, warnings = read_ignored(experiment.ignored_md)
    assert time.perf_counter() - t0 < 5  # orders of magnitude apart: not a fine timing
    assert len(found) == 2001 and not warnings
    assert found["run-0"].reason == f"x{spaces}(ignored" and found["run-0"].when is None
    assert (found["kept"].reason, found["kept"].when) == ("slow", "2026-12-01")
