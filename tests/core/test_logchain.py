"""The research log's hash chain and ``mlexp verify``: edits, deletions, re-orderings, recomputed chains."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record import logchain
from jupyter_mlexp.core.record.verification import Anchor, verify_experiment
from jupyter_mlexp.frontdoors.cli import main
from tests.classroom.students import Clock, log_lines, register, run, seeds, write_lines


@pytest.fixture
def exp(workspace, monkeypatch):
    Clock(monkeypatch)
    e = Experiment("warmup")
    register(e, 0.95)
    seeds(e, [0.91, 0.92, 0.93])
    e.add_journal("loss spiked at epoch 3", tags=["WEIRD"])
    return e


def recompute(lines: list[str]) -> list[str]:
    """What a careful forger does after an edit: renumber and re-hash the whole chain."""
    out, prev = [], None
    for n, line in enumerate(lines, 1):
        rec = json.loads(line)
        rec.update(seq=n, prev_sha256=prev)
        text = json.dumps(rec)
        prev = hashlib.sha256(logchain.canonical(json.loads(text))).hexdigest()
        out.append(text)
    return out


def findings(e: Experiment, **kw) -> list[str]:
    return [f.line() for f in verify_experiment(e, **kw).broken]


def test_every_entry_carries_the_hash_of_the_one_before_and_runs_anchor_the_head(exp):
    lines = log_lines(exp)
    prev = None
    for n, line in enumerate(lines, 1):
        rec = json.loads(line)
        assert rec["seq"] == n and rec["prev_sha256"] == prev
        canonical = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
        prev = hashlib.sha256(canonical).hexdigest()
    first = exp.runs()[0]
    started = next(n for n, line in enumerate(lines, 1) if json.loads(line).get("run_id") == first.run_id)
    # the run's run.json holds the head as it was just before its start was logged
    assert first.manifest["log_head"]["seq"] == started - 1
    assert first.manifest["log_head"]["sha256"] == logchain.line_hash(lines[started - 2])
    v = verify_experiment(exp)
    assert v.ok and v.anchors == 3 and v.first_chained == 1, v.lines()
    assert v.summary().startswith("warmup: verified (")


def test_an_edited_entry_is_found(exp):
    lines = log_lines(exp)
    rec = json.loads(lines[0])
    rec["hypothesis"]["success"] = "val_acc >= 0.9"  # the criterion "was always" looser
    lines[0] = json.dumps(rec)
    write_lines(exp.log_jsonl, lines)
    found = findings(exp)
    assert any("entry 2: the entry before it is not the one it was chained to" in f for f in found), found
    assert any("run.json recorded entry" in f for f in found)  # the runs' anchors disagree too


def test_a_deleted_entry_is_found(exp):
    lines = log_lines(exp)
    del lines[3]  # a run_completed that was inconvenient
    write_lines(exp.log_jsonl, lines)
    found = findings(exp)
    assert any(
        "entry 4: it carries seq 5 after entry seq 3: 1 entry missing before it (removed or moved)" in f for f in found
    ), found


def test_a_reordered_log_is_found_and_mlexp_verify_says_so_in_one_line_each(exp, capsys):
    lines = log_lines(exp)
    lines.insert(0, lines.pop(1))  # a run's start moved before the registration: "I registered first"
    write_lines(exp.log_jsonl, lines)
    assert main(["verify", "warmup"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("warmup: ") and "finding" in out[0]
    assert all(line.startswith("  ✗ ") or line.startswith("  · ") for line in out[1:])
    text = "\n".join(out)
    assert "research_log.jsonl:1: entry 1: it carries seq 2 where 1 follows (entries were moved)" in text
    assert "whose registration (entry 2) comes after the run's start (entry 1)" in text


def test_a_chain_recomputed_after_an_edit_is_caught_through_the_runs_anchors(exp, capsys):
    lines = log_lines(exp)
    rec = json.loads(lines[0])
    rec["hypothesis"]["success"] = "val_acc >= 0.9"
    lines[0] = json.dumps(rec)
    write_lines(exp.log_jsonl, recompute(lines))
    assert logchain.read_check(exp.log_jsonl).findings == []  # the chain alone is consistent again
    found = findings(exp)
    assert len(found) == 3 and all("and its chain recomputed" in f for f in found), found
    assert main(["verify"]) == 1
    assert "full/" in capsys.readouterr().out


def test_a_recomputed_chain_after_the_last_run_is_caught_by_a_kept_head_or_by_git(exp, monkeypatch):
    kept = logchain.head(exp.log_jsonl)  # what a class collection kept
    lines = log_lines(exp)
    lines[-1] = lines[-1].replace("loss spiked", "all smooth")
    write_lines(exp.log_jsonl, recompute(lines))
    assert findings(exp) == []  # no run started after the journal entry: the runs cannot tell
    found = findings(exp, anchors=[Anchor(kept, "collection 1/heads.json")])
    assert found and "collection 1/heads.json recorded entry" in found[0]


def test_git_history_is_a_second_witness(exp):
    root = exp.base.parent
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "experiments"], check=True)
    subprocess.run([*git, "commit", "-qm", "record"], check=True)
    assert verify_experiment(exp).git_commits == 1 and findings(exp) == []
    lines = log_lines(exp)
    lines[-1] = lines[-1].replace("loss spiked", "all smooth")
    write_lines(exp.log_jsonl, recompute(lines))
    found = findings(exp)
    assert len(found) == 1 and "git commit" in found[0] and "entry 8 than the log now" in found[0], found


def test_entries_before_the_chain_are_noted_not_broken(workspace, monkeypatch):
    Clock(monkeypatch)
    e = Experiment("old")
    register(e)
    run(e, 0.95)
    # the log as an earlier version wrote it: the same events without the chain's fields
    old = [
        json.dumps({k: v for k, v in json.loads(x).items() if k not in ("seq", "prev_sha256")}) for x in log_lines(e)
    ]
    write_lines(e.log_jsonl, old)
    for r in e.runs():  # and run.json without a head
        m = json.loads((r.path / "run.json").read_text())
        m.pop("log_head")
        (r.path / "run.json").write_text(json.dumps(m))
    v = verify_experiment(e)
    assert v.ok and [f.line() for f in v.findings] == [
        "· research_log.jsonl:1: before the chain (entries 1–3): no entry carries a chain hash"
    ]
    run(e, 0.96, seed=1)  # the first chained entry hashes the last old one
    lines = log_lines(e)
    assert json.loads(lines[3])["seq"] == 4 and json.loads(lines[3])["prev_sha256"] == logchain.line_hash(lines[2])
    v = verify_experiment(e)
    assert v.ok and v.first_chained == 4, v.lines()
    assert "before the chain (entries 1–3)" in v.findings[0].line()


def test_hashes_stripped_after_the_chain_began_are_a_finding(exp):
    lines = log_lines(exp)
    stripped = [json.dumps({k: v for k, v in json.loads(x).items() if k not in ("seq", "prev_sha256")}) for x in lines]
    write_lines(exp.log_jsonl, stripped[:])
    found = findings(exp)
    assert any("the log's hashes were stripped after the chain began" in f for f in found), found
    write_lines(exp.log_jsonl, lines[:4] + stripped[4:])  # stripped from the end only
    found = findings(exp)
    assert any("entry 5 carries no chain hash, though the chain began at entry 1" in f for f in found), found


def test_run_folders_must_match_the_log(exp):
    victim = exp.runs()[1]
    import shutil

    shutil.rmtree(victim.path)
    found = findings(exp)
    assert any(f"run {victim.run_id} is recorded starting" in f and "its folder is gone" in f for f in found)


def _append_many(root: str, worker: int) -> None:
    e = Experiment("warmup", root=root)
    for i in range(40):
        e.log_event("journal_entry", tags=[], text=f"worker {worker} note {i}")


def test_appends_from_several_processes_keep_one_chain(exp):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(exp.base.parent), w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    v = verify_experiment(exp)
    assert v.ok and v.entries == 8 + 160 and v.head.seq == 168, v.lines()
