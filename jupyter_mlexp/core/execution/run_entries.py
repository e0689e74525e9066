"""A run's entries in its experiment's record: its folder opened under ``quick/`` or ``full/`` (the gate:
a registered hypothesis), and at its end its event and its ``results.tsv`` row. :mod:`.lifecycle` calls these."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from jupyter_mlexp.core.execution.run_folder import Run
from jupyter_mlexp.core.record.fsio import locked

if TYPE_CHECKING:
    from jupyter_mlexp.core.experiment import Experiment

RESULTS_COLUMNS = ("run_id", "commit", "primary_metric", "memory_gb", "status", "description")


def open_run(exp: Experiment, mode: str, **manifest: Any) -> Run:
    """Create a new run folder under ``quick/`` or ``full/``. The gate: needs a hypothesis."""
    hyp = exp.hypothesis
    manifest.setdefault("stage", hyp.stage)
    manifest.setdefault("experiment", exp.name)
    manifest.setdefault("hypothesis_version", hyp.version)
    if hyp.content_sha256:
        manifest.setdefault("hypothesis_sha256", hyp.content_sha256)
    manifest.setdefault("host", socket.gethostname())
    run = Run.create(exp.path, mode, manifest)
    exp.log_event("run_started", run_id=run.run_id, mode=mode, params=manifest.get("params"), seed=manifest.get("seed"))
    return run


def close_run(exp, run: Run, status: str, error: BaseException | None = None, description: str = "", **extra) -> dict:
    """End ``run``, append its event and its ``results.tsv`` row."""
    manifest = run.finish(status, error, **extra)
    ev = {"completed": "run_completed", "failed": "run_failed", "timeout": "run_timeout"}.get(status, f"run_{status}")
    exp.log_event(
        ev,
        run_id=run.run_id,
        mode=run.mode,
        duration_s=manifest.get("duration_s"),
        error=(manifest.get("error") or {}).get("message"),
    )
    append_result(exp, run, description)
    return manifest


def append_result(exp: Experiment, run: Run, description: str = "") -> None:
    m = run.manifest
    try:
        primary = exp.hypothesis.primary_metric
    except Exception:
        primary = None
    value = (m.get("metrics_summary") or {}).get(primary or "", {}).get("last")
    mem = m.get("peak_memory_gb")
    row = [
        run.run_id,
        ((m.get("git") or {}).get("commit") or "")[:12],
        "" if value is None else f"{value:.6g}",
        "" if mem is None else f"{mem:.3f}",
        m.get("status", ""),
        " ".join((description or m.get("description") or "").split())[:200],
    ]
    line = "\t".join(c.replace("\t", " ") for c in row) + "\n"
    with locked(exp.results_tsv):
        new = not exp.results_tsv.exists()
        with open(exp.results_tsv, "a", encoding="utf-8") as fh:
            if new:
                fh.write("\t".join(RESULTS_COLUMNS) + "\n")
            fh.write(line)
