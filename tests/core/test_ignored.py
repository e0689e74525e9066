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
    assert not [p.name for p in experiment.path.iterdir() if p.name.endswith((".before", ".tmp"))]
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


def test_the_one_pattern_for_written_lines_reads_what_the_line_parser_reads():
    """Lines as mlexp writes them skip the per-line parser; on any line, seeded, both must agree."""
    import random

    from jupyter_mlexp.core.record import ignored

    rng = random.Random(21)
    pieces = [
        "- `",
        "`",
        ": ",
        ":",
        " ",
        "  ",
        "(ignored ",
        " (ignored ",
        ")",
        "(",
        "a",
        "run-1",
        "x/y",
        " by ",
        "é",
        "\t",
    ]
    lines = [
        "- `r1`: a reason (ignored 2026-12-01T00:00:00+00:00)",
        "- `r2`: a (nested) reason (ignored 2026-12-01)",
        "- `r3`: trailing space (ignored 2026-12-01) ",
        "- `r4`:  two spaces (ignored  w )",
        "- `r5`: x (ignored a (ignored b)",
        "- `r6`: written (ignored 2026-12-01T00:00:00+00:00 by ada)",
        "- `r7`: by hand (ignored 2026-12-01 by  )",
    ]
    lines += ["- `" + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    lines += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(1000)]
    for line in lines:
        found, _ = ignored._parse(line + "\n")
        parsed = ignored._parse_line(line) if line.strip()[:1] in ("-", "*") else None
        if parsed is None:
            assert not found, line
            continue
        run, reason, when = parsed
        author = None
        if when is not None and " by " in when:
            when, _, who = when.partition(" by ")
            author = {"user": who.strip()} if who.strip() else None
        (got,) = found.values()
        expected = (run.rsplit("/", 1)[-1], reason or "(no reason given)", when, author)
        assert (got.run_id, got.reason, got.when, got.author) == expected, line


def test_an_unchanged_file_is_listed_again_without_parsing_it_and_a_change_is_seen(experiment, monkeypatch):
    """The sidebar lists IGNORED_RUNS.md at each poll: 200,000 lines parsed once, then compared."""
    from jupyter_mlexp.core.record import ignored

    lines = [f"- `20261201-000000-{i:06x}`: a reason (ignored 2026-12-01T00:00:00+00:00)" for i in range(200_000)]
    experiment.ignored_md.write_text("\n".join(lines) + "\n")
    found, _ = ignored.read_ignored(experiment.ignored_md)
    assert len(found) == 200_000
    calls = []
    real = ignored._parse
    monkeypatch.setattr(ignored, "_parse", lambda text: (calls.append(1), real(text))[1])
    again, _ = ignored.read_ignored(experiment.ignored_md)
    assert again == found and again is not found and not calls
    # same size, same inode, within the same clock tick: still seen, the text is what is compared
    with open(experiment.ignored_md, "r+b") as fh:
        fh.seek(3)
        fh.write(b"3")
    changed, _ = ignored.read_ignored(experiment.ignored_md)
    assert calls == [1] and "30261201-000000-000000" in changed and "20261201-000000-000000" not in changed


def test_each_ignore_names_its_author_and_an_old_line_reads_as_unknown(experiment, monkeypatch):
    import json

    from jupyter_mlexp.core.record import authorship

    me = authorship.unix_user()
    a, b = _run(experiment), _run(experiment)
    experiment.ignored_md.write_text(f"# Ignored runs\n\n- `{a}`: OOM (ignored 2026-11-01T10:00:00+00:00)\n")
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    made = experiment.ignore(b, "diverged (twice)")
    found = {i.run_id: i for i in experiment.ignored()[0]}
    assert found[a].author is None and found[a].when == "2026-11-01T10:00:00+00:00"
    assert found[b].author == made.author == {"user": me, "jupyterhub_user": "ada"}
    assert (found[b].reason, found[b].when) == ("diverged (twice)", made.when)
    assert found[b].to_dict()["author"] == {"user": me, "jupyterhub_user": "ada"}
    assert f"(ignored {made.when} by {me}, JupyterHub user ada)" in experiment.ignored_md.read_text()
    idea = json.loads(experiment.idea_json.read_text())
    assert idea["author"]["user"] == me
