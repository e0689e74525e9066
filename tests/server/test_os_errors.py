"""Every operating-system error a write meets is one line naming the path and what to do, from the
CLI, the magics and the server (507 full disk, 500 read-only or no permission, 503 too many files);
a command that fails leaves the record as it was."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.record import fsio
from jupyter_mlexp.frontdoors.cli import main

API = ("mlexp", "api")


def _fail_appends(monkeypatch, code: int) -> None:
    def refuse(fd, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fsio, "_write_all", refuse)


@pytest.mark.parametrize(
    "code,status,words",
    [
        (errno.ENOSPC, 507, "disk is full"),
        (errno.EROFS, 500, "read-only file system"),
        (errno.EACCES, 500, "no permission"),
        (errno.EMFILE, 503, "too many files open"),
    ],
)
async def test_the_server_answers_one_line_and_a_status_that_is_not_403(
    jp_fetch, record, monkeypatch, code, status, words
):
    exp, _ = record
    before = exp.journal_md.read_bytes()
    _fail_appends(monkeypatch, code)
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*API, "experiments", "demo", "journal", method="POST", body=json.dumps({"text": "a note"}))
    assert info.value.code == status
    message = json.loads(info.value.response.body)["message"]
    assert words in message and "JOURNAL.md" in message and "\n" not in message
    assert exp.journal_md.read_bytes() == before


def test_ignore_on_a_full_disk_is_not_applied(record, monkeypatch, capsys):
    """The ignore line was written, then the event failed: the command said it failed, the run was ignored."""
    exp, ids = record
    monkeypatch.setenv("MLEXP_ROOT", str(exp.base.parent))
    before = exp.ignored_md.read_bytes() if exp.ignored_md.exists() else None
    _fail_appends(monkeypatch, errno.ENOSPC)
    code = main(["ignore", ids["quick1"], "--experiment", "demo", "--reason", "bad loader"])
    err = capsys.readouterr().err
    assert code == 2 and "disk is full" in err and len(err.strip().splitlines()) == 1
    after = exp.ignored_md.read_bytes() if exp.ignored_md.exists() else None
    assert after == before
    assert not any(r.ignored for r in Experiment("demo", exp.base.parent).runs())


def test_unignore_on_a_full_disk_is_not_applied(record, monkeypatch, capsys):
    """The ignore line was removed, then the event failed: the run must stay ignored, its line as it was."""
    exp, ids = record
    monkeypatch.setenv("MLEXP_ROOT", str(exp.base.parent))
    exp.ignore(ids["quick1"], "bad loader")
    before = exp.ignored_md.read_bytes()
    _fail_appends(monkeypatch, errno.ENOSPC)
    code = main(["unignore", ids["quick1"], "--experiment", "demo"])
    err = capsys.readouterr().err
    assert code == 2 and "disk is full" in err and len(err.strip().splitlines()) == 1
    assert exp.ignored_md.read_bytes() == before
    assert [r.run_id for r in Experiment("demo", exp.base.parent).runs() if r.ignored] == [ids["quick1"]]
    assert sorted(p.name for p in exp.path.iterdir() if p.name.startswith(".IGNORED")) == [".IGNORED_RUNS.md.lock"]


def test_a_magic_says_one_line_on_too_many_open_files(record, monkeypatch):
    from IPython.core.error import UsageError

    from jupyter_mlexp.frontdoors.magics.experiment_magics import user_errors

    exp, _ = record

    @user_errors
    def write_something():
        raise OSError(errno.EMFILE, "Too many open files", str(exp.journal_md))

    with pytest.raises(UsageError, match="too many files open to write .*JOURNAL.md"):
        write_something()


@pytest.fixture
def read_only_folder(tmp_path):
    """A tmpfs mounted here (root only), made read-only once the test has written what it needs."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a read-only tmpfs needs root (CI runs as root)")
    folder = tmp_path / "ro"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")

    def make_read_only():
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

    try:
        yield folder, make_read_only
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_folder_is_one_line_for_every_write(read_only_folder, monkeypatch, capsys):
    folder, make_read_only = read_only_folder
    monkeypatch.setenv("MLEXP_ROOT", str(folder))
    exp = Experiment("demo", folder)
    exp.register("Dropout helps.\nsuccess: acc >= 0.9\nmetrics: acc")
    make_read_only()
    for argv in (
        ["hypothesis", "fresh", "--statement", "x helps", "--success", "acc >= 0.5", "--metrics", "acc"],
        ["journal", "--experiment", "demo", "a note"],
    ):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert "read-only file system" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    with pytest.raises(fsio.RecordError, match="read-only"):
        exp.start_run("quick")
