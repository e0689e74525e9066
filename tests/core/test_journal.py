import multiprocessing as mp
import os

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.record.journal import read_journal

HAND_WRITTEN = """# Journal

Some notes I typed before the tool existed.

## 2026-11-01T09:00:00+01:00 [WEIRD]

Loss spiked at step 300.

## yesterday [HUNCH] [SPICY]
LR warmup too short?

## 2026-11-02 [TODO]
- rerun with warmup 500
## 2026-11-03T10:00Z
[RESOLVED] warmup fixed it
"""


def test_hand_written_entries_are_read_and_never_rewritten(experiment):
    experiment.journal_md.write_text(HAND_WRITTEN)
    read = experiment.journal()
    texts = [e.text for e in read.entries]
    assert "Some notes I typed before the tool existed." in texts[0]
    assert read.entries[1].tags == ["WEIRD"] and read.entries[1].timestamp == "2026-11-01T09:00:00+01:00"
    assert read.entries[1].line == 5
    hunch = read.entries[2]
    assert hunch.timestamp is None and "HUNCH" in hunch.tags and hunch.unknown_tags == ["SPICY"]
    assert read.entries[3].tags == ["TODO"] and "rerun with warmup" in read.entries[3].text
    assert read.entries[4].tags == ["RESOLVED"] and read.entries[4].timestamp == "2026-11-03T10:00Z"
    assert any("SPICY" in w for w in read.warnings)
    assert any("no ISO timestamp" in w for w in read.warnings)
    assert any("outside any" in w for w in read.warnings)
    # Appending keeps every hand-written byte.
    experiment.add_journal("[TODO] new one")
    after = experiment.journal_md.read_text()
    assert after.startswith(HAND_WRITTEN)
    assert experiment.journal().entries[-1].tags == ["TODO"]


def test_entry_body_that_looks_like_a_heading_stays_one_entry(experiment):
    before = len(experiment.journal().entries)
    experiment.add_journal("first line\n## not a new entry\nlast line", ["WEIRD"])
    entries = experiment.journal().entries
    assert len(entries) == before + 1
    assert "not a new entry" in entries[-1].text and "last line" in entries[-1].text


def test_tags_from_flags_and_inline_unknown_kept(experiment):
    experiment.add_journal("[hunch] [Odd] maybe the scaler leaks", ["weird"])
    e = experiment.journal().entries[-1]
    assert e.tags == ["WEIRD", "HUNCH", "ODD"]
    assert e.unknown_tags == ["ODD"]
    assert e.text == "maybe the scaler leaks"


def _writer(root, worker, n):
    os.environ["MLEXP_ROOT"] = root
    exp = Experiment("digits")
    for i in range(n):
        exp.add_journal(f"worker {worker} entry {i}\nsecond line {worker}-{i}", ["TODO"])


def test_concurrent_appends_from_processes_lose_nothing(experiment, workspace):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(workspace), w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    entries = [e for e in read_journal(experiment.journal_md).entries if "TODO" in e.tags]
    assert len(entries) == 160
    seen = set()
    for e in entries:
        first, second = e.text.split("\n")
        w, i = first.split()[1], first.split()[3]
        assert second == f"second line {w}-{i}"  # not interleaved
        seen.add((w, i))
    assert len(seen) == 160


def test_empty_entry_refused(experiment):
    import pytest

    from jupyter_mlexp.core.errors import RecordError

    with pytest.raises(RecordError):
        experiment.add_journal("   ")


def test_each_entry_names_its_author_and_an_old_entry_reads_as_unknown(experiment, monkeypatch):
    from jupyter_mlexp.core.record import authorship

    me = authorship.unix_user()
    old = "\n## 2026-11-01T10:00:00+00:00 [HUNCH] Warmup (by hand)\n\nwritten before authors were recorded\n"
    with open(experiment.journal_md, "a") as fh:
        fh.write(old)
    monkeypatch.setenv("JUPYTERHUB_USER", "ada (the) `hub`\nname")
    experiment.add_journal("[WEIRD] loss spiked at step 300")
    monkeypatch.delenv("JUPYTERHUB_USER")
    experiment.add_journal("plain note", tags=["TODO"])
    *_, before, weird, plain = read_journal(experiment.journal_md).entries
    assert before.author is None and before.title == "Warmup (by hand)"
    assert weird.author == {"user": me, "jupyterhub_user": "ada the hub name"}
    assert (weird.tags, weird.title, weird.text) == (["WEIRD"], "", "loss spiked at step 300")
    assert plain.author == {"user": me} and plain.to_dict()["author"] == {"user": me}
    assert (plain.tags, plain.title, plain.text) == (["TODO"], "", "plain note")
    assert "(author: " in experiment.journal_md.read_text().splitlines()[-3]
