"""A cheap stamp of an experiment's runs, so a poll while nothing changed answers from a cache.

A few stat calls, whatever the number of runs: the folders that hold run folders (a run
started, removed or moved under ``ignored/`` changes their modification time), the files a
finishing run or an ignore appends to (``results.tsv``, ``research_log.jsonl``,
``IGNORED_RUNS.md``), ``idea.json``, and the ``run.json`` of each run still going (it
rewrites that file as it logs progress). A finished run's ``run.json`` edited by hand is
the one change it does not see.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

MODES = ("quick", "full")
IGNORED_DIRS = ("ignored", "_ignored")
RECORD_FILES = ("idea.json", "IGNORED_RUNS.md", "results.tsv", "research_log.jsonl")


def _stat(path: str | os.PathLike) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _run_folders(experiment_dir: Path) -> list[str]:
    out = []
    for mode in MODES:
        out.append(mode)
        out += [f"{mode}/{i}" for i in IGNORED_DIRS]
    for i in IGNORED_DIRS:
        out.append(i)
        out += [f"{i}/{mode}" for mode in MODES]
    return out


def runs_stamp(experiment_dir: Path, running: Iterable[Path] = ()) -> tuple:
    """Changes when a run appears, goes or finishes, a running one writes ``run.json``, or the record files change.

    ``running``: the folders of the runs that were going when the cached answer was built.
    """
    folders = tuple(_stat(experiment_dir / f) for f in _run_folders(experiment_dir))
    record = tuple(_stat(experiment_dir / f) for f in RECORD_FILES)
    going = tuple(_stat(Path(p) / "run.json") for p in sorted(map(str, running)))
    return folders, record, going


def pid_alive(pid: object) -> bool:
    """Whether process ``pid`` runs on this host (True when it cannot tell)."""
    try:
        os.kill(int(pid), 0)  # type: ignore[call-overload]
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, TypeError, OSError):
        return True
    return True
