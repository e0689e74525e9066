"""File primitives of the record: atomic replace and locked appends.

Rewritten files (``idea.json``, ``run.json``, ``IGNORED_RUNS.md``) are written
to a temporary file and renamed over the old one, so a crash leaves either the
old or the new content. Shared append-only files (journal, research log,
results table) take a lock file beside them so entries from several kernels
never interleave.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

LOCK_TIMEOUT = 30.0


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` at once: readers see the old or the new file, never half.

    ``durable`` also fsyncs before the rename (the record itself); files rebuilt from the
    record (the report) can skip it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock that guards ``path`` (a ``.lock`` file beside it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.parent / f".{path.name}.lock"), timeout=LOCK_TIMEOUT):
        yield


def append_text(path: Path, text: str) -> None:
    """Append ``text`` under the file's lock in a single write."""
    with locked(path):
        with open(path, "a", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()


def append_jsonl(path: Path, record: dict) -> None:
    append_text(path, json.dumps(record, default=str) + "\n")


def read_jsonl(path: Path) -> tuple[list[dict], list[tuple[int, str]]]:
    """Records of a JSONL file, and ``(line number, reason)`` for each line skipped."""
    records: list[dict] = []
    bad: list[tuple[int, str]] = []
    try:
        fh = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return records, bad
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                bad.append((lineno, f"not JSON ({err.msg})"))
                continue
            if not isinstance(obj, dict):
                bad.append((lineno, "not a JSON object"))
                continue
            records.append(obj)
    return records, bad
