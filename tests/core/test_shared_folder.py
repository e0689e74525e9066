"""Two Unix users in one setgid group folder: both can write, every record names its author, and
changing the other's hypothesis needs --force (shown in the history)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from jupyter_mlexp.frontdoors.cli import build_parser, main

GROUP = "mlexpshare"
USERS = ("mlexpalice", "mlexpbob")


@pytest.fixture
def two_users():
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("creating two Unix users needs root and useradd (CI runs as root)")
    subprocess.run(["groupadd", "-f", GROUP], check=True)
    made = []
    for user in USERS:
        if subprocess.run(["id", user], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-M", "-N", "-g", GROUP, user], check=True)
            made.append(user)
    folder = Path(tempfile.mkdtemp(prefix="mlexp-share-", dir="/tmp"))
    shutil.chown(folder, group=GROUP)
    os.chmod(folder, 0o2770)  # the course's share: setgid, the group may write
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for user in made:
            subprocess.run(["userdel", user], check=False)


def as_user(user: str, root: Path, *argv: str, env: dict | None = None) -> int:
    """``mlexp ARGV`` as ``user`` (umask 022), in a child of this process: the interpreter lives where
    other users may not read it, so the child switches user after Python has loaded."""
    import grp
    import pwd

    build_parser()  # every command module loaded before the switch
    pw, gid = pwd.getpwnam(user), grp.getgrnam(GROUP).gr_gid
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 99
        try:
            os.setgroups([gid])
            os.setresgid(gid, gid, gid)
            os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
            os.umask(0o022)
            os.chdir(root)
            os.environ.update({"MLEXP_ROOT": str(root), "HOME": str(root), **(env or {})})
            code = main(list(argv))
        except BaseException as err:
            print("child failed:", type(err).__name__, err)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


HYP = ("--statement", "Warmup helps", "--success", "acc >= 0.5", "--metrics", "acc")


def _warm_up(tmp: Path, monkeypatch) -> None:
    """Run each command once as this user: every module it loads lazily (codecs too) is loaded before
    the children switch to users who cannot read the interpreter's folder."""
    monkeypatch.setenv("MLEXP_ROOT", str(tmp))
    "x".encode("ascii")
    assert main(["hypothesis", "warm", *HYP]) == 0
    assert main(["journal", "--experiment", "warm", "note"]) == 0
    assert main(["run", "--experiment", "warm", "--", "/bin/sh", "-c", "echo acc: 0.7"]) == 0
    assert main(["hypothesis", "warm", *HYP[:-1], "acc", "--reason", "x", "--force"]) in (0, 2)


def test_two_users_share_one_folder(two_users, capfd, tmp_path, monkeypatch):
    _warm_up(tmp_path, monkeypatch)
    root = two_users
    alice, bob = USERS
    assert as_user(alice, root, "hypothesis", "demo", *HYP, env={"JUPYTERHUB_USER": "alice-hub"}) == 0
    exp = root / "experiments" / "demo"
    for path in [root / "experiments", exp, *exp.iterdir()]:
        mode = os.stat(path).st_mode
        assert mode & stat.S_IWGRP, f"{path} is not group-writable ({stat.filemode(mode)})"
    # bob writes into alice's experiment: a journal entry, a run (lock files included)
    assert as_user(bob, root, "journal", "--experiment", "demo", "bob was here") == 0
    assert as_user(bob, root, "run", "--experiment", "demo", "--", "/bin/sh", "-c", "echo acc: 0.7") == 0
    # changing alice's hypothesis needs --force, and the history says whose it replaced
    changed = ("--statement", "Warmup helps a lot", "--success", "acc >= 0.6", "--metrics", "acc")
    assert as_user(bob, root, "hypothesis", "demo", *changed, "--reason", "sharper") == 2
    assert "needs --force" in capfd.readouterr().err
    assert as_user(bob, root, "hypothesis", "demo", *changed, "--reason", "sharper", "--force") == 0
    events = [json.loads(line) for line in (exp / "research_log.jsonl").read_text().splitlines()]
    first = next(e for e in events if e["event"] == "hypothesis_registered")
    assert first["author"] == {"user": alice, "jupyterhub_user": "alice-hub"}
    update = next(e for e in events if e["event"] == "idea_updated")
    assert update["author"]["user"] == bob and update["replaced_author"] == alice
    (run_json,) = exp.glob("quick/*/run.json")
    assert json.loads(run_json.read_text())["author"]["user"] == bob
    # every journal entry, ignore line and idea.json names its author
    from jupyter_mlexp.core.record.ignored import read_ignored
    from jupyter_mlexp.core.record.journal import read_journal

    entries = read_journal(exp / "JOURNAL.md").entries
    assert next(e for e in entries if e.text == "bob was here").author == {"user": bob}
    assert {"user": alice, "jupyterhub_user": "alice-hub"} in [e.author for e in entries if "PLANNED" in e.tags]
    assert json.loads((exp / "idea.json").read_text())["author"] == {"user": bob}
    run_id = run_json.parent.name
    assert as_user(alice, root, "ignore", run_id, "--experiment", "demo", "--reason", "flaky") == 0
    assert read_ignored(exp / "IGNORED_RUNS.md")[0][run_id].author == {"user": alice}
