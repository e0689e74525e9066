"""What a run needs to be reproduced: git state, environment, data hashes.

What cannot change within a process (Python, packages, platform, GPU) is
computed once; git's commit and branch are cached until ``HEAD`` or the index
move; the dirty flag and diff hash cost one ``git diff`` per run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

KEY_PACKAGES = (
    "jupyter-mlexp",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "torch",
    "jax",
    "tensorflow",
    "papermill",
    "ipykernel",
    "matplotlib",
)


@functools.lru_cache(maxsize=1)
def environment() -> dict:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": socket.gethostname(),
        "cpu_count": os.cpu_count(),
        "packages": versions,
        "gpu": gpu_info(),
    }


def gpu_info() -> list[str] | None:
    """Names of visible GPUs, or None. Asks torch only if the user already imported it."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        except Exception:
            pass
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=5,
            )
            names = [n.strip() for n in out.stdout.splitlines() if n.strip()]
            return names or None
        except (OSError, subprocess.SubprocessError):
            return None
    return None


_git_cache: dict = {}


def _git(args: list[str], cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True, timeout=30).stdout.decode(
        "utf-8", "replace"
    )


def git_info(path: str | os.PathLike) -> dict:
    """Commit, branch, dirty flag and sha256 of ``git diff HEAD`` for the repo holding ``path``.

    A folder outside git answers ``{"repo": None, "note": ...}``; it is not an error.
    """
    path = Path(path).resolve()
    import git  # GitPython (a declared dependency): finds the repo and reads refs without a subprocess

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except Exception:
        return {"repo": None, "note": "workspace is not inside a git repository"}
    if repo.bare or repo.working_tree_dir is None:
        return {"repo": None, "note": "workspace is not inside a git repository"}
    top = Path(repo.working_tree_dir)
    gitdir = Path(repo.git_dir)
    stamp = tuple(_mtime(gitdir / f) for f in ("HEAD", "index", "packed-refs", _head_ref(gitdir)))
    cached = _git_cache.get(top)
    if cached is None or cached[0] != stamp:
        try:
            commit = repo.head.commit.hexsha
        except (ValueError, Exception):
            commit = None  # a repository with no commit yet
        try:
            branch = repo.active_branch.name
        except (TypeError, ValueError):
            branch = None  # detached HEAD
        cached = (stamp, {"repo": str(top), "commit": commit, "branch": branch})
        _git_cache[top] = cached
    info = dict(cached[1])
    try:
        diff = _git(["diff", "HEAD", "--no-color", "--no-ext-diff"], top) if info["commit"] else ""
        untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top)
    except (OSError, subprocess.SubprocessError):
        info.update(dirty=None, diff_sha256=None)
        return info
    # The record itself is not "the code": runs must not make the tree look dirty.
    untracked_files = [u for u in untracked.split("\0") if u and not u.startswith("experiments/")]
    info["dirty"] = bool(diff) or bool(untracked_files)
    info["untracked"] = len(untracked_files)
    info["diff_sha256"] = hashlib.sha256(diff.encode()).hexdigest() if diff else None
    return info


def _head_ref(gitdir: Path) -> str:
    """The ref file HEAD points to (``refs/heads/main``), whose mtime moves with every commit."""
    try:
        head = (gitdir / "HEAD").read_text().strip()
    except OSError:
        return "HEAD"
    return head[5:].strip() if head.startswith("ref:") else "HEAD"


def _mtime(p: Path) -> int:
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return 0


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


_hash_memo: dict = {}


def data_hashes(paths, cache_file: Path | None = None) -> dict[str, dict]:
    """sha256 of each declared data file, cached by (path, size, mtime) in memory and in ``cache_file``."""
    out: dict[str, dict] = {}
    disk: dict = {}
    if cache_file is not None and cache_file.exists():
        try:
            disk = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            disk = {}
    changed = False
    for p in paths or ():
        path = Path(p).expanduser()
        try:
            st = path.stat()
        except OSError:
            out[str(p)] = {"error": "file not found"}
            continue
        if path.is_dir():
            out[str(p)] = {"error": "is a folder; declare files"}
            continue
        key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
        digest = _hash_memo.get(key) or disk.get(key)
        if digest is None:
            digest = file_sha256(path)
            disk[key] = digest
            changed = True
        _hash_memo[key] = digest
        out[str(p)] = {"sha256": digest, "size": st.st_size}
    if changed and cache_file is not None:
        from jupyter_mlexp.core.fsio import atomic_write_json

        try:
            atomic_write_json(cache_file, disk)
        except OSError:
            pass
    return out
