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
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.record.fsio import atomic_write_json


@functools.lru_cache(maxsize=1)
def _static() -> dict:
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": socket.gethostname(),
        "cpu_count": os.cpu_count(),
        "gpu": gpu_info(),
    }


def environment() -> dict:
    """This process's interpreter and platform, the distributions of the modules loaded in it
    (``packages``: what the run imported, read at the run's end by the process that ran the code;
    in a reused kernel earlier runs' imports stay loaded) and the whole installed environment as
    one hash (``packages_sha256`` over ``name==version`` lines, ``packages_count``)."""
    digest, count = installed_hash()
    return {**_static(), "packages": imported_packages(), "packages_sha256": digest, "packages_count": count}


def _norm(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


@functools.lru_cache(maxsize=1)
def _installed() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Installed distributions, read from the ``*.dist-info`` folder names on ``sys.path`` (no
    METADATA parsing): normalized name -> (name, version, top-level modules)."""
    found: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if not folder.endswith(".dist-info"):
                continue
            name, _, version = folder[: -len(".dist-info")].partition("-")
            key = _norm(name)
            if not version or key in found:  # the first on sys.path is the one imported
                continue
            found[key] = (name.replace("_", "-").lower(), version, _top_level(os.path.join(entry, folder)))
    return found


def _top_level(dist_info: str) -> tuple[str, ...]:
    """The top-level modules a distribution installs: ``top_level.txt``, else the first parts of ``RECORD``."""
    try:
        with open(os.path.join(dist_info, "top_level.txt"), encoding="utf-8") as fh:
            return tuple(line.strip() for line in fh if line.strip())
    except OSError:
        pass
    top: set[str] = set()
    try:
        with open(os.path.join(dist_info, "RECORD"), encoding="utf-8") as fh:
            for line in fh:
                first = line.partition(",")[0].partition("/")[0]
                if first.endswith(".py"):
                    first = first[:-3]
                if first and not first.endswith((".dist-info", ".data", ".libs", ".pth")) and first != "..":
                    top.add(first.partition(".")[0])
    except OSError:
        pass
    return tuple(sorted(top))


@functools.lru_cache(maxsize=1)
def installed_hash() -> tuple[str, int]:
    """sha256 of the installed distributions' ``name==version`` lines, sorted; and how many."""
    lines = sorted(f"{_norm(n)}=={v}" for n, v, _ in _installed().values())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest(), len(lines)


@functools.lru_cache(maxsize=1)
def _by_module() -> dict[str, tuple[str, str]]:
    """Normalized top-level module name -> (distribution, version)."""
    out: dict[str, tuple[str, str]] = {}
    for key, (name, version, top) in _installed().items():
        out.setdefault(key, (name, version))
        for module in top:
            out.setdefault(_norm(module), (name, version))
    return out


_imported: dict[str, Any] = {"count": -1, "packages": {}}


def imported_packages() -> dict[str, str]:
    """``{distribution: version}`` for every third-party top-level module loaded in this process
    (computed again only when ``sys.modules`` grew or shrank: a run that imports nothing costs a ``len``)."""
    if len(sys.modules) == _imported["count"]:
        return dict(_imported["packages"])
    count = len(sys.modules)
    by_module = _by_module()
    stdlib: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
    out: dict[str, str] = {}
    for module in {m.partition(".")[0] for m in list(sys.modules)}:
        if module in stdlib or module.startswith("_"):
            continue
        hit = by_module.get(_norm(module))
        if hit is not None:
            out[hit[0]] = hit[1]
    _imported.update(count=count, packages=dict(sorted(out.items())))
    return dict(_imported["packages"])


#: Run by a script's own interpreter: its version, path and installed environment (no jupyter_mlexp needed there).
_INTERPRETER_PROBE = """
import hashlib, json, os, platform, sys
seen = {}
for entry in sys.path:
    try:
        names = os.listdir(entry or ".")
    except OSError:
        continue
    for f in names:
        if f.endswith(".dist-info"):
            n, _, v = f[:-10].partition("-")
            k = n.lower().replace("-", "_").replace(".", "_")
            if v and k not in seen:
                seen[k] = v
lines = sorted(f"{k}=={v}" for k, v in seen.items())
print(json.dumps({"python": sys.version.split()[0], "executable": sys.executable, "platform": platform.platform(),
    "packages_sha256": hashlib.sha256("\\n".join(lines).encode()).hexdigest(), "packages_count": len(lines)}))
"""


@functools.lru_cache(maxsize=8)
def interpreter_environment(program: str) -> dict | None:
    """The environment of the Python interpreter ``program`` (a script run's own), asked once per
    interpreter; None when ``program`` is not a Python interpreter or does not answer."""
    path = shutil.which(program) or program
    if not os.path.basename(path).startswith("python"):
        return None
    try:
        out = subprocess.run([path, "-c", _INTERPRETER_PROBE], capture_output=True, text=True, timeout=30)
        probed = json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if not isinstance(probed, dict):
        return None
    static = _static()
    return {
        **probed,
        "machine": static["machine"],
        "hostname": static["hostname"],
        "cpu_count": static["cpu_count"],
        "gpu": static["gpu"],
        "packages": {},  # what it imports is known only if it imports jupyter_mlexp (it then writes them)
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
        try:
            atomic_write_json(cache_file, disk)
        except OSError:
            pass
    return out
