"""``mlexp class collect``: three layouts, read-only on the sources, snapshots that never overwrite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from jupyter_mlexp.classroom.collect import CollectError, collect, discover, read_index, snapshots
from jupyter_mlexp.frontdoors.cli import main
from tests.classroom.students import Clock, build_student, run

STAMP = "2026-11-2{} 10:00:00.000000 UTC"


@pytest.fixture
def built(tmp_path, monkeypatch):
    """Students' workspaces built through the product, copied into places by the tests."""
    Clock(monkeypatch)
    monkeypatch.delenv("MLEXP_ROOT", raising=False)
    area = tmp_path / "build"

    def make(student: str, case: str = "proper") -> Path:
        root = area / student
        build_student(root, case)
        return root / "experiments"

    return make


def tree(path: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``path`` with its size and mtime: what a read-only collect must leave as it was."""
    out = {}
    for here, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(here, name)
            st = os.lstat(p)
            out[os.path.relpath(p, path)] = (st.st_size, st.st_mtime_ns)
    return out


def test_home_folders_by_glob_keyed_by_the_matched_folder(tmp_path, built):
    for student in ("alice", "bob"):
        shutil.copytree(built(student), tmp_path / "home" / student / "ml101" / "experiments")
    before = tree(tmp_path / "home")
    c = collect([str(tmp_path / "home" / "*" / "ml101")], tmp_path / "class")
    assert sorted(c.students) == ["alice", "bob"] and c.number == 1
    assert tree(tmp_path / "home") == before  # nothing written, not even a lock file
    copied = tmp_path / "class" / "snapshots" / "0001" / "students" / "alice" / "experiments" / "warmup"
    assert (copied / "idea.json").is_file() and (copied / "research_log.jsonl").is_file()
    heads = read_index(snapshots(tmp_path / "class")[0])["students"]["alice"]["experiments"]["warmup"]["head"]
    assert heads["seq"] > 5 and len(heads["sha256"]) == 64


def test_nbgrader_inbound_latest_per_student_and_assignment_split_as_nbgrader_does(tmp_path, built):
    inbound = tmp_path / "exchange" / "ml101" / "inbound"
    old = built("dana-old", "quickonly")
    new = built("dana-new", "proper")
    # a student id holding '+' (nbgrader allows it): rsplit('+', 2) keeps it whole
    shutil.copytree(old, inbound / f"dana+x+a1+{STAMP.format(1)}" / "experiments")
    shutil.copytree(new, inbound / f"dana+x+a1+{STAMP.format(2)}" / "experiments")
    shutil.copytree(built("eve"), inbound / f"eve+a1+{STAMP.format(1)}" / "experiments")
    found = discover(str(tmp_path / "exchange" / "ml101"))
    assert [(f.student, f.assignment, f.folder.parent.name.endswith(STAMP.format(2))) for f in found] == [
        ("dana+x", "a1", True),
        ("eve", "a1", False),
    ]
    c = collect([str(tmp_path / "exchange" / "ml101")], tmp_path / "class")
    assert sorted(c.students) == ["dana+x", "eve"]
    assert c.students["dana+x"]["assignments"] == ["a1"] and c.students["dana+x"]["layout"] == "nbgrader"


def test_nbgrader_inbound_with_the_random_suffix_nbgrader_submit_adds(tmp_path, built):
    # nbgrader 0.9 `submit` names a submission STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM by default
    # (ExchangeSubmit.add_random_string; nbgrader's collect splits it with rsplit('+', 3)); the
    # timestamp is in the course's zone (Exchange.timezone), not always UTC
    inbound = tmp_path / "exchange" / "ml101" / "inbound"
    berlin = "2026-11-2{} 11:00:00.000000 CET"
    shutil.copytree(
        built("dana-old", "quickonly"), inbound / f"dana+x+a1+{berlin.format(1)}+TEvz3cIc7i-W" / "experiments"
    )
    shutil.copytree(built("dana-new"), inbound / f"dana+x+a1+{berlin.format(2)}+q_9Zk2mLw0aB" / "experiments")
    shutil.copytree(built("eve"), inbound / f"eve+a1+{STAMP.format(1)}+AAAAAAAAAAAA" / "experiments")
    shutil.copytree(built("flo"), inbound / f"flo+a1+{STAMP.format(1)}" / "experiments")  # add_random_string off
    found = discover(str(inbound))
    assert [(f.student, f.assignment, berlin.format(2) in f.root.name) for f in found] == [
        ("dana+x", "a1", True),
        ("eve", "a1", False),
        ("flo", "a1", False),
    ]


def test_nbgrader_submitted_and_a_shared_folder(tmp_path, built):
    shutil.copytree(built("fay"), tmp_path / "course" / "submitted" / "fay" / "a1" / "experiments")
    shutil.copytree(built("gus"), tmp_path / "shared" / "gus" / "experiments")
    c = collect([str(tmp_path / "course"), str(tmp_path / "shared")], tmp_path / "class")
    assert {k: v["layout"] for k, v in c.students.items()} == {"fay": "submitted", "gus": "shared"}


def test_symlinks_out_unreadable_and_huge_files_are_skipped_with_a_line_each(tmp_path, built, monkeypatch):
    home = tmp_path / "home" / "hal"
    shutil.copytree(built("hal"), home / "experiments")
    exp = home / "experiments" / "warmup"
    secret = tmp_path / "instructor_key.txt"
    secret.write_text("answers")
    (exp / "notes.txt").symlink_to(secret)
    (exp / "big.bin").write_bytes(b"0" * 3_000_000)
    (exp / "private.txt").write_text("x")
    real_open = os.open

    def refusing(path, flags, *a, **kw):  # tests run as root, which reads anything: refuse one file here
        if str(path).endswith("private.txt"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(os, "open", refusing)
    c = collect([str(home)], tmp_path / "class", max_file_mb=1)
    lines = c.lines()
    assert any("warmup/notes.txt: a symlink out of the student's folder; not copied" in x for x in lines), lines
    assert any("warmup/big.bin: 3.0 MB, over the 1 MB limit; not copied" in x for x in lines), lines
    assert any("warmup/private.txt: cannot be read (Permission denied); not copied" in x for x in lines), lines
    copied = c.snapshot / "students" / "hal" / "experiments" / "warmup"
    assert not (copied / "notes.txt").exists() and not (copied / "big.bin").exists()
    assert "answers" not in "".join(p.read_text(errors="replace") for p in copied.rglob("*") if p.is_file())


def test_a_run_whose_metrics_nbgrader_dropped_is_reported_missing(tmp_path, built):
    home = tmp_path / "home" / "ida"
    shutil.copytree(built("ida"), home / "experiments")
    victim = next((home / "experiments" / "warmup" / "full").iterdir())
    (victim / "metrics.jsonl").unlink()
    c = collect([str(home)], tmp_path / "class")
    assert any(f"full/{victim.name}/metrics.jsonl: missing" in x for x in c.lines())


def test_a_recollect_adds_a_snapshot_and_says_what_changed(tmp_path, built, capsys):
    home = tmp_path / "home"
    shutil.copytree(built("jo"), home / "jo" / "experiments")
    assert main(["class", "collect", str(home / "*"), "--out", str(tmp_path / "class")]) == 0
    first = tree(tmp_path / "class" / "snapshots" / "0001")
    from jupyter_mlexp.core.experiment import Experiment

    run(Experiment("warmup", root=home / "jo"), 0.98, seed=7)  # the student works on
    shutil.copytree(built("kim"), home / "kim" / "experiments")
    capsys.readouterr()
    assert main(["class", "collect", str(home / "*"), "--out", str(tmp_path / "class")]) == 0
    out = capsys.readouterr().out
    assert "collection 2" in out and "changed: kim: new since collection 1" in out
    assert "changed: jo/warmup: research log entry" in out and "→ entry" in out
    assert "changed: jo: files" in out and "added" in out
    assert tree(tmp_path / "class" / "snapshots" / "0001") == first  # the earlier snapshot as it was


def test_out_inside_a_student_folder_is_refused(tmp_path, built):
    home = tmp_path / "home" / "lee"
    shutil.copytree(built("lee"), home / "experiments")
    with pytest.raises(CollectError, match="collect never writes there"):
        collect([str(home)], home / "class")
    assert not (home / "class").exists()
