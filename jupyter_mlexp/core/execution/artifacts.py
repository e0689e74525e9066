"""Each run keeps its own files: what it wrote by a relative path is copied into its ``artifacts/``.

The working directory is not changed (Hydra changed it by default, broke users' relative reads
and stopped doing it in 1.2): code reads the project's files and imports its modules as it
would without mlexp. At the run's start the files under the working directory are listed (path,
size, modification time); at its end every file that is new or changed is copied into the run's
``artifacts/`` folder and listed in ``run.json`` under ``artifacts``, so the next run overwriting
``model.pt`` in the project leaves this run's copy as it was. Files a run writes straight into
``mlexp.artifact_path(NAME)`` (``MLEXP_RUN_DIR/artifacts/NAME``) are listed the same way.

Not looked at: hidden folders (``.git``, ``.venv``, ``.ipynb_checkpoints``), ``__pycache__``,
``node_modules``, virtual environments and the record itself (``experiments/``). A folder of more
than :data:`MAX_FILES` files is not listed (the run says so); a file over :data:`MAX_COPY_BYTES`
is listed but not copied. Two runs at once in one folder (``--jobs 2``) that write the same
relative path each keep the file as it was at their own end, which may be the other's (the life
cycle flags runs of one process that overlapped): parallel runs should write to ``mlexp.artifact_path``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

MAX_FILES = 20_000
MAX_COPY_BYTES = 2 * 1024**3
ARTIFACTS = "artifacts"
_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages"}

Listing = dict[str, tuple[int, int]]  # relative path -> (size, mtime_ns)


def snapshot(root: str | os.PathLike, skip: list[Path] | None = None) -> Listing | None:
    """The files under ``root`` (relative path -> size, mtime); None when there are more than :data:`MAX_FILES`."""
    root = os.path.abspath(root)
    skipped = {os.path.abspath(p) for p in skip or ()}
    cut = len(os.path.join(root, ""))
    out: Listing = {}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        if folder != root and any(e.name == "pyvenv.cfg" for e in entries):
            continue  # a virtual environment
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name.startswith(".") or entry.name in _SKIP_DIRS or entry.path in skipped:
                        continue
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    out[entry.path[cut:]] = (st.st_size, st.st_mtime_ns)
                    if len(out) > MAX_FILES:
                        return None
            except OSError:
                continue
    return out


def keep(run_dir: Path, root: str | os.PathLike, before: Listing | None, skip: list[Path] | None = None) -> dict:
    """Copy the files new or changed under ``root`` since ``before`` into ``run_dir/artifacts``;
    the manifest fields that list them (``artifacts``, and ``artifacts_note`` when some were not kept)."""
    target = run_dir / ARTIFACTS
    notes: list[str] = []
    if before is not None:
        after = snapshot(root, skip)
        if after is None:
            notes.append(f"more than {MAX_FILES} files under {root}: files written there were not kept")
        else:
            for rel, stamp in sorted(after.items()):
                if before.get(rel) == stamp:
                    continue
                if stamp[0] > MAX_COPY_BYTES:
                    notes.append(f"{rel} ({stamp[0]} bytes) not copied: larger than {MAX_COPY_BYTES} bytes")
                    continue
                dest = target / rel
                try:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(os.path.join(root, rel), dest)
                except OSError as err:
                    notes.append(f"{rel} not copied: {err.strerror or err}")
    out: dict[str, Any] = {}
    listed = listing(run_dir)
    if listed:
        out["artifacts"] = listed
    if notes:
        out["artifacts_note"] = notes[:20]
    return out


def listing(run_dir: Path) -> list[dict[str, Any]]:
    """Every file in ``run_dir/artifacts``: ``{"path": relative to the run folder, "bytes": size}``."""
    target = run_dir / ARTIFACTS
    if not target.is_dir():
        return []
    out = []
    for path in sorted(target.rglob("*")):
        if path.is_file():
            out.append({"path": path.relative_to(run_dir).as_posix(), "bytes": path.stat().st_size})
    return out
