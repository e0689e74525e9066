"""Issue 10, items 5, 6, 10, 11: one-line messages where tracebacks were, nothing read without a
word, a failed append leaves the file as it was, and a header is written once under concurrency."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from jupyter_mlexp.core.errors import DiskFullError, MetricValueError, RecordBusyError, RecordError
from jupyter_mlexp.core.record import fsio
from jupyter_mlexp.core.record.journal import HEADER, read_journal
from jupyter_mlexp.frontdoors.cli import main


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> None:
    assert err.strip() and "\n" not in err.strip() and "Traceback" not in err, err


# -- 5: one-line messages ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "folder", "latin-1"])
def test_hypothesis_file_that_cannot_be_read_is_one_line(experiment, tmp_path, capsys, kind):
    path = {"missing": tmp_path / "nope.md", "folder": tmp_path, "latin-1": tmp_path / "h.md"}[kind]
    if kind == "latin-1":
        path.write_bytes("Caf\xe9 helps\nsuccess: val_acc >= 0.9\nmetrics: val_acc\n".encode("latin-1"))
    code, _, err = cli(capsys, "hypothesis", "digits", "-f", str(path))
    assert code == 2
    one_line(err)
    assert str(path) in err


def test_a_lock_held_too_long_is_one_line(experiment, monkeypatch):
    monkeypatch.setattr(fsio, "LOCK_TIMEOUT", 0.3)
    lock = experiment.journal_md.parent / f".{experiment.journal_md.name}.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from filelock import FileLock; import time; l = FileLock({str(lock)!r}); l.acquire(); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RecordBusyError) as info:
            experiment.add_journal("blocked")
        one_line(str(info.value))
        assert "locked by another process" in str(info.value)
    finally:
        holder.kill()
        holder.wait()


def test_runs_into_a_closed_pipe_is_quiet(experiment, monkeypatch, capsys):
    class Closed:
        def write(self, _):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["runs", "digits"]) == 141


@pytest.mark.parametrize("value", [10**400, -(10**400)])
def test_a_metric_too_large_for_a_float_is_refused(experiment, value):
    run = experiment.start_run("quick")
    with pytest.raises(MetricValueError, match="too large"):
        run.log_metric("val_acc", value)
    experiment.finish_run(run, "completed")


# -- 6: nothing read without a word -------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_a_truth_value_is_not_a_metric(experiment, value):
    run = experiment.start_run("quick")
    with pytest.raises(MetricValueError, match="truth value"):
        run.log_metric("val_acc", value)
    run.log_metric("val_acc", 1)  # an int is a number
    run.log_metric("val_acc", np.float32(0.5))
    experiment.finish_run(run, "completed")
    assert experiment.get_run(run.run_id).manifest["metrics_summary"]["val_acc"]["n"] == 2


def test_a_step_that_is_not_a_whole_number_is_refused(experiment):
    run = experiment.start_run("quick")
    with pytest.raises(MetricValueError, match="step"):
        run.log_metric("val_acc", 0.5, step="a")
    run.log_metric("val_acc", 0.5, step=np.int64(3))
    experiment.finish_run(run, "completed")


def test_metrics_that_are_a_string_are_refused(experiment):
    import json

    data = json.loads(experiment.idea_json.read_text())
    data["metrics"] = "acc"
    experiment.idea_json.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="metrics"):
        experiment.hypothesis  # noqa: B018


def test_an_empty_experiment_name_is_refused_not_the_only_one(experiment, capsys):
    before = experiment.journal_md.read_bytes()
    code, _, err = cli(capsys, "journal", "--experiment", "", "hello")
    assert code == 2
    one_line(err)
    assert experiment.journal_md.read_bytes() == before


def test_a_checkbox_is_kept_as_written(experiment):
    experiment.add_journal("[x] fixed the loader")
    experiment.add_journal("[ ] still to check")
    experiment.add_journal("[hunch] warmup too short")
    experiment.add_journal("[WEIRD][DATA] labels shifted")
    entries = experiment.journal().entries[-4:]
    assert entries[0].tags == [] and entries[0].text == "[x] fixed the loader"
    assert entries[1].tags == [] and entries[1].text == "[ ] still to check"
    assert entries[2].tags == ["HUNCH"] and entries[2].text == "warmup too short"
    assert entries[3].tags == ["WEIRD", "DATA"]


# -- 10: a failed append leaves the file as it was ------------------------------------------------------


def test_a_full_disk_leaves_the_journal_as_it_was(experiment, monkeypatch):
    before = experiment.journal_md.read_bytes()
    real_write = fsio.os.write

    def half_then_full(fd, data):
        if len(data) > 8:
            real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fsio.os, "write", half_then_full)
    with pytest.raises(DiskFullError) as info:
        experiment.add_journal("a long entry that will not fit on the disk " * 5)
    monkeypatch.undo()
    one_line(str(info.value))
    assert "disk is full" in str(info.value)
    assert experiment.journal_md.read_bytes() == before


def test_a_full_disk_on_a_rewrite_keeps_the_old_file(experiment, monkeypatch):
    run = experiment.start_run("quick", run_id="q-1")
    experiment.finish_run(run, "completed")
    before = experiment.idea_json.read_bytes()

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fsio.os, "fsync", full)
    with pytest.raises(DiskFullError):
        experiment.ignore("q-1", "flaky")
    monkeypatch.undo()
    assert experiment.idea_json.read_bytes() == before
    assert not [p for p in experiment.path.iterdir() if p.name.endswith(".tmp")]


# -- 11: concurrent first appends write the header once --------------------------------------------------


@pytest.mark.parametrize("which", ["journal", "lessons"])
def test_concurrent_first_appends_write_the_header_once(experiment, which):
    from jupyter_mlexp.core.record import lessons

    path = experiment.journal_md if which == "journal" else lessons.lessons_path()
    path.unlink(missing_ok=True)
    add = (
        (lambda i: experiment.add_journal(f"entry {i}", event=False))
        if which == "journal"
        else (lambda i: lessons.add_lesson(f"lesson {i}"))
    )
    errors: list[BaseException] = []

    def worker(i):
        try:
            add(i)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    with fsio.locked(path):  # every writer checks the file, then waits here for the lock
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.5)
    for t in threads:
        t.join(10)
    assert not errors
    text = path.read_text()
    first_line = text.splitlines()[0]
    assert text.count(first_line + "\n") == 1, text
    if which == "journal":
        assert text.startswith(HEADER)
        assert sorted(e.text for e in read_journal(path).entries) == [f"entry {i}" for i in range(4)]
    else:
        assert sorted(x.text for x in lessons.read_lessons()) == [f"lesson {i}" for i in range(4)]


# -- 9: stale detection knows a process by more than its PID ----------------------------------------------


def _running_run(experiment, pid, pid_start):
    import json

    run = experiment.start_run("quick")
    path = run.path / "run.json"
    m = json.loads(path.read_text())
    m.update(pid=pid, pid_start=pid_start)
    path.write_text(json.dumps(m))
    return run.run_id


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_zombie_run_process_is_stale(experiment):
    from jupyter_mlexp.core.execution.procs import start_time

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = start_time(child.pid)
    deadline = time.time() + 10
    while open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z" and time.time() < deadline:
        time.sleep(0.05)  # exited, not yet reaped: a zombie
    try:
        rid = _running_run(experiment, child.pid, started)
        assert experiment.get_run(rid).status == "stale"
    finally:
        child.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_pid_now_owned_by_another_process_is_stale(experiment):
    from jupyter_mlexp.core.execution.procs import start_time

    mine = start_time(os.getpid())
    rid = _running_run(experiment, os.getpid(), mine - 1)  # this PID, but started at another time
    assert experiment.get_run(rid).status == "stale"
    rid = _running_run(experiment, os.getpid(), mine)  # the very process: still running
    assert experiment.get_run(rid).status == "running"


def test_a_new_run_records_its_process_start(experiment):
    run = experiment.start_run("quick")
    if sys.platform.startswith("linux"):
        assert isinstance(run.manifest["pid_start"], int)
    assert experiment.get_run(run.run_id).status == "running"
    experiment.finish_run(run, "completed")


# -- 13: rewritten files follow the umask like any other file -----------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_rewritten_files_follow_the_umask(workspace, umask):
    from jupyter_mlexp import Experiment

    old = os.umask(umask)
    try:
        exp = Experiment("shared")
        exp.register("A claim\nsuccess: acc >= 0.9\nmetrics: acc\n")
        run = exp.start_run("quick", run_id="q-1")
        exp.finish_run(run, "completed")
        exp.ignore("q-1", "flaky")
    finally:
        os.umask(old)
    want = 0o666 & ~umask
    for path in (exp.idea_json, exp.idea_md, exp.ignored_md, run.path / "run.json", exp.journal_md):
        assert path.stat().st_mode & 0o777 == want, (path.name, oct(path.stat().st_mode))
    exp.idea_json.chmod(0o640)  # a mode the user chose is kept on rewrite
    exp.register("A claim\nsuccess: acc >= 0.95\nmetrics: acc\n", reason="stricter")
    assert exp.idea_json.stat().st_mode & 0o777 == 0o640
