"""The class view's answer (JupyterLab's read-only class view): the class report's table, as JSON.

The same :func:`~jupyter_mlexp.classroom.class_report.build` and
:func:`~jupyter_mlexp.classroom.class_report.table_rows` that ``mlexp class report`` writes its
notebook and CSV from, one row per student and experiment, with the audit's flags and what each
flag rests on (the verification's findings, the changes after runs, the ignored runs, the reused
seeds, the course's contradictions). Every text from a student's record is scrubbed of home and
machine paths, as in the report; the frontend shows it as text.

Nothing is written: a class workspace is read as ``mlexp class report`` reads it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jupyter_mlexp.classroom.audit import ExperimentAudit, scrub
from jupyter_mlexp.classroom.class_report import CSV, HTML, NOTEBOOK, build, table_rows
from jupyter_mlexp.classroom.collect import INDEX, SNAPSHOTS, snapshots

#: How deep below a folder :func:`find_class_workspaces` looks, and how many it lists at most.
SEARCH_DEPTH = 3
MAX_FOUND = 50
MAX_VISITED = 2000  # a home folder with many projects: the listing stays a fraction of a second
REPORT_FILES = (NOTEBOOK, HTML, CSV)  # what `mlexp class report` wrote, when it has
_SKIP = {"node_modules", "__pycache__", "site-packages", "experiments", SNAPSHOTS}


def class_view(out: Path | str) -> dict[str, Any]:
    """The class workspace ``out`` (its latest snapshot) as the class view shows it."""
    base = Path(out)
    audits, index, course = build(base)
    rows = [_row(a, r) for a, r in zip(audits, table_rows(audits))]
    reports = [name for name in REPORT_FILES if (base / name).is_file()]
    return {
        "collection": index.get("collection"),
        "time": index.get("time"),
        "snapshots": len(snapshots(base)),
        "students": len({a.student for a in audits}),
        "course": course.to_dict() if course is not None else None,
        "verdicts": dict(sorted(Counter(r["verdict"] for r in rows).items())),
        "flags": dict(sorted(Counter(f for r in rows for f in r["flags"]).items())),
        "reports": reports,
        "rows": rows,
    }


def _row(a: ExperimentAudit, row: dict[str, Any]) -> dict[str, Any]:
    ver = a.verification
    return {
        "student": a.student,
        "experiment": a.experiment,
        "verdict": row["verdict"],
        "n": scrub(row["n"]),  # a configuration label may hold a path parameter
        "reason": scrub(a.verdict.reason) if a.verdict else "",
        "verdict_with_ignored": row["verdict_with_ignored"],
        "verdict_first_version": a.verdict_first_version.decision if a.verdict_first_version else None,
        "runs": {k: a.runs.get(k, 0) for k in ("quick", "full", "failed", "ignored")},
        "hypothesis_versions": row["hypothesis_versions"],
        "statement": scrub(a.hypothesis.statement) if a.hypothesis else None,
        "success": scrub(a.hypothesis.success) if a.hypothesis else None,
        "verified": bool(ver is not None and ver.ok),
        "flags": a.flags(),
        "findings": [scrub(f.line()) for f in ver.broken] if ver is not None else [],
        "changed_after_runs": [scrub(c) for c in a.changed_after_runs],
        "ignored": [{"run_id": run_id, "reason": reason} for run_id, reason in a.ignored],
        "reused_seeds": [scrub(s) for s in a.reused_seeds],
        "course": [scrub(c) for c in a.course],
        "missing": [scrub(m) for m in a.missing],
        "problem": a.problem,
        "source": row["source"],
    }


def is_class_workspace(folder: Path) -> bool:
    """A folder ``mlexp class collect --out`` wrote into: ``snapshots/NNNN/collection.json``."""
    base = folder / SNAPSHOTS
    try:
        return base.is_dir() and any(p.name.isdigit() and (p / INDEX).is_file() for p in base.iterdir())
    except OSError:
        return False


def find_class_workspaces(root: Path | str, depth: int = SEARCH_DEPTH) -> list[str]:
    """Class workspaces at or below ``root`` (``depth`` levels, at most :data:`MAX_VISITED` folders looked
    into, no symlinks followed, no hidden folders), relative to it."""
    top = Path(root)
    found = []
    for p in _walk(top, depth, [MAX_VISITED]):
        found.append(p.relative_to(top).as_posix() or ".")
        if len(found) >= MAX_FOUND:
            break
    return sorted(found)


def _walk(folder: Path, depth: int, budget: list[int]) -> Iterator[Path]:
    if budget[0] <= 0:
        return
    budget[0] -= 1
    if is_class_workspace(folder):
        yield folder
        return  # a class workspace holds students' folders, not more classes
    if depth <= 0:
        return
    try:
        children = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in children:
        if entry.name.startswith(".") or entry.name in _SKIP:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(Path(entry.path), depth - 1, budget)
        except OSError:
            continue


__all__ = ["REPORT_FILES", "class_view", "find_class_workspaces", "is_class_workspace"]
