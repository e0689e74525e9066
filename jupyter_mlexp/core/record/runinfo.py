"""A run as the listings show it: its manifest, where it lies, whether it is ignored or stale."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from jupyter_mlexp.core.execution import procs
from jupyter_mlexp.core.record.run_record import RunRecord


@dataclass
class RunInfo:
    """A run as listed: its manifest plus where it lies and whether it is ignored."""

    run_id: str
    mode: str
    status: str
    path: Path
    manifest: dict
    ignored_reason: str | None = None
    problem: str | None = None  # why run.json is shown as corrupt: "quick/ID/run.json: ..."
    placed: str | None = None  # the folder under ignored/ it was moved to (relative to the experiment), if any

    @classmethod
    def listed(
        cls, path: Path, manifest: dict, ignored_reason: str | None = None, record: RunRecord | None = None
    ) -> RunInfo:
        """The run in ``path`` as a listing shows it, from its (migrated) ``manifest`` read through
        :class:`RunRecord` (``record``, when the caller has it): its id and mode fall back to the
        folder's names, a dead ``running`` run is ``stale``."""
        if record is None:
            record = RunRecord.from_manifest(manifest)
        status = record.status or "unknown"
        if status == "running" and is_stale(record):
            status = "stale"
        info = cls(
            record.run_id or path.name,
            record.mode or path.parent.name,
            status,
            path,
            manifest,
            ignored_reason=ignored_reason,
            problem=record.problem,
        )
        info.__dict__["record"] = record  # the cached property, already known
        return info

    @cached_property
    def record(self) -> RunRecord:
        """The manifest, typed (:mod:`jupyter_mlexp.core.record.run_record`): what the surfaces read."""
        return RunRecord.from_manifest(self.manifest)

    @property
    def ignored(self) -> bool:
        """Ignored runs are the ones with a reason (listed in IGNORED_RUNS.md or placed under ignored/)."""
        return self.ignored_reason is not None

    def primary(self, metric: str | None) -> float | None:
        return self.record.last(metric)

    def to_dict(self, primary_metric: str | None = None) -> dict:
        r = self.record
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "status": self.status,
            "stage": r.stage,
            "params": r.params,
            "overrides": r.overrides,
            "seed": r.seed,
            "started": r.started,
            "duration_s": r.duration_s,
            "primary_metric": primary_metric,
            "primary_value": r.last(primary_metric),
            "criterion_check": r.criterion_check,
            "ignored": self.ignored,
            "ignored_reason": self.ignored_reason,
            "problem": self.problem,
            "path": str(self.path),
        }


def is_stale(record: RunRecord) -> bool:
    """A ``running`` run whose process on this host is gone (exited, a zombie, or its PID reused)."""
    pid = record.pid
    if not pid or record.host not in (None, socket.gethostname()):
        return False
    return procs.is_gone(pid, record.pid_start)
