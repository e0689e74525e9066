"""A run's entries in its experiment's record: its folder opened under ``quick/`` or ``full/`` (the gate:
a registered hypothesis), and at its end its event and its ``results.tsv`` row. :mod:`.lifecycle` calls these."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from jupyter_mlexp.core.execution.run_folder import Run
from jupyter_mlexp.core.record.fsio import locked
from jupyter_mlexp.core.record.run_record import RunRecord

if TYPE_CHECKING:
    from jupyter_mlexp.core.experiment import Experiment

RESULTS_COLUMNS = ("run_id", "commit", "primary_metric", "memory_gb", "status", "description")


def open_run(exp: Experiment, mode: str, **fields: Any) -> Run:
    """Create a new run folder under ``quick/`` or ``full/``. The gate: needs a hypothesis. ``fields``:
    what the caller gives the new ``run.json``."""
    hyp = exp.hypothesis
    fields.setdefault("stage", hyp.stage)
    fields.setdefault("experiment", exp.name)
    fields.setdefault("hypothesis_version", hyp.version)
    if hyp.content_sha256:
        fields.setdefault("hypothesis_sha256", hyp.content_sha256)
    fields.setdefault("host", socket.gethostname())
    run = Run.create(exp.path, mode, fields)
    exp.log_event("run_started", run_id=run.run_id, mode=mode, params=fields.get("params"), seed=fields.get("seed"))
    return run


def close_run(exp, run: Run, status: str, error: BaseException | None = None, description: str = "", **extra) -> dict:
    """End ``run``, append its event and its ``results.tsv`` row."""
    manifest = run.finish(status, error, **extra)
    ended = RunRecord.from_manifest(manifest)
    ev = {"completed": "run_completed", "failed": "run_failed", "timeout": "run_timeout"}.get(status, f"run_{status}")
    exp.log_event(ev, run_id=run.run_id, mode=run.mode, duration_s=ended.duration_s, error=ended.error_message())
    append_result(exp, run, description)
    return manifest


def append_result(exp: Experiment, run: Run, description: str = "") -> None:
    r = run.record
    try:
        primary = exp.hypothesis.primary_metric
    except Exception:
        primary = None
    value = r.last(primary)
    mem = r.peak_memory_gb
    row = [
        run.run_id,
        ((r.git.commit if r.git else None) or "")[:12],
        "" if value is None else f"{value:.6g}",
        "" if mem is None else f"{mem:.3f}",
        r.status or "",
        " ".join((description or r.description or "").split())[:200],
    ]
    line = "\t".join(c.replace("\t", " ") for c in row) + "\n"
    with locked(exp.results_tsv):
        new = not exp.results_tsv.exists()
        with open(exp.results_tsv, "a", encoding="utf-8") as fh:
            if new:
                fh.write("\t".join(RESULTS_COLUMNS) + "\n")
            fh.write(line)
