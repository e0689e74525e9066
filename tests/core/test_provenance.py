"""Git and data provenance against real git repositories in temp dirs."""

import subprocess

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.execution import provenance
from jupyter_mlexp.core.record.workspace import find_root


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_repo(path):
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.org")
    git(path, "config", "user.name", "t")
    (path / "train.py").write_text("print('hi')\n")
    git(path, "add", "train.py")
    git(path, "commit", "-qm", "first")


def test_git_commit_branch_dirty_and_diff_hash(tmp_path, monkeypatch):
    monkeypatch.delenv("MLEXP_ROOT", raising=False)
    make_repo(tmp_path)
    sub = tmp_path / "notebooks"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert find_root() == tmp_path  # experiments/ sits at the git root
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()

    clean = provenance.git_info(sub)
    assert clean["commit"] == head and clean["branch"] == "main" and clean["dirty"] is False
    assert clean["diff_sha256"] is None

    exp = Experiment("x")  # the record itself must not make the tree dirty
    exp.register("A claim holds.\nsuccess: acc >= 1\nmetrics: acc\n")
    assert provenance.git_info(sub)["dirty"] is False

    (tmp_path / "train.py").write_text("print('changed')\n")
    dirty = provenance.git_info(sub)
    assert dirty["dirty"] is True and len(dirty["diff_sha256"]) == 64
    (tmp_path / "train.py").write_text("print('changed again')\n")
    assert provenance.git_info(sub)["diff_sha256"] != dirty["diff_sha256"]

    git(tmp_path, "commit", "-qam", "second")  # a new commit is seen despite the cache
    after = provenance.git_info(sub)
    assert after["commit"] != head and after["dirty"] is False


def test_data_hash_cached_by_size_and_mtime(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("1,2\n")
    cache = tmp_path / "cache.json"
    first = provenance.data_hashes([data], cache)[str(data)]["sha256"]
    assert cache.exists() and first in cache.read_text()
    data.write_text("1,2,3\n")
    assert provenance.data_hashes([data], cache)[str(data)]["sha256"] != first
    assert provenance.data_hashes([tmp_path / "missing.csv"])[str(tmp_path / "missing.csv")] == {
        "error": "file not found"
    }


def test_an_empty_commit_is_seen(tmp_path):
    make_repo(tmp_path)
    before = provenance.git_info(tmp_path)["commit"]
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "empty")
    assert provenance.git_info(tmp_path)["commit"] != before
