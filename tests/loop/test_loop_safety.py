"""What the loop must not do to a repository: commit its scratch files, overwrite an edit made
during an attempt, leave an attempt in flight when the next command is only ``show``."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import attempt, edit, git, mlexp

from jupyter_mlexp import Experiment
from jupyter_mlexp.loop.loop_state import Attempt, LoopFiles


def files() -> LoopFiles:
    return LoopFiles(Experiment("tune").path, "t1")


def test_the_loops_scratch_files_are_git_ignored_from_the_start(started, capsys):
    attempt(capsys, "baseline")
    rel = files().path.relative_to(started)
    for name in ("results.tsv", "lock", "progress.webp"):
        assert subprocess.run(["git", "check-ignore", "-q", str(rel / name)], cwd=started).returncode == 0, name
    git(started, "add", "-A")
    staged = git(started, "diff", "--cached", "--name-only").splitlines()
    assert str(rel / "results.tsv") not in staged and str(rel / "loop.json") in staged  # the record can be


def test_track_results_leaves_results_tsv_to_the_user(repo, capsys):
    assert mlexp(capsys, "loop", "start", "t2", "--experiment", "tune", "--track-results")[0] == 0
    rel = LoopFiles(Experiment("tune").path, "t2").path.relative_to(repo)
    assert subprocess.run(["git", "check-ignore", "-q", str(rel / "results.tsv")], cwd=repo).returncode == 1
    assert subprocess.run(["git", "check-ignore", "-q", str(rel / "lock")], cwd=repo).returncode == 0


def test_an_edit_made_during_an_attempt_is_kept_aside_not_overwritten(started, capsys):
    attempt(capsys, "baseline")
    edit(started, SHIFT=0.001)
    # the command edits train.py while the attempt runs, as a person would in an editor
    sh = ["sh", "-c", f"echo '# my next idea' >> train.py; {sys.executable} train.py"]
    code, out, err = mlexp(capsys, "loop", "try", "-m", "noise", "--", *sh)
    assert code == 0, err
    assert "discard" in out and "git stash" in out, out
    assert "# my next idea" not in (started / "train.py").read_text()  # restored to the best kept commit
    assert "# my next idea" in git(started, "stash", "show", "-p")
    a = files().load().attempts[-1]
    assert a.kept_aside and "# my next idea" in git(started, "show", a.kept_aside)


def test_show_recovers_an_attempt_left_in_flight(started, capsys):
    attempt(capsys, "baseline")
    base = git(started, "rev-parse", "HEAD")
    edit(started, SHIFT=0.2)
    git(started, "commit", "-q", "-am", "attempt 1: killed")
    state = files().load()
    state.pending = Attempt(1, "killed", git(started, "rev-parse", "HEAD"), base, ["python3", "train.py"])
    files().save(state)
    code, out, err = mlexp(capsys, "loop", "show", "1")
    assert code == 0, err
    assert "recovered attempt 1" in err and "+SHIFT = 0.2" in out
    assert files().load().pending is None and git(started, "rev-parse", "HEAD") == base
    assert json.loads(mlexp(capsys, "loop", "status", "--json", "--no-figure")[1])["counts"]["crash"] == 1
