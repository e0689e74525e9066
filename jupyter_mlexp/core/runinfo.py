"""A run as the listings show it: its manifest, where it lies, whether it is ignored or stale."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlexp.core import procs


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

    @property
    def ignored(self) -> bool:
        """Ignored runs are the ones with a reason (listed in IGNORED_RUNS.md or placed under ignored/)."""
        return self.ignored_reason is not None

    def primary(self, metric: str | None) -> float | None:
        if not metric:
            return None
        s = (self.manifest.get("metrics_summary") or {}).get(metric)
        return None if not s else s.get("last")

    def to_dict(self, primary_metric: str | None = None) -> dict:
        m = self.manifest
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "status": self.status,
            "stage": m.get("stage"),
            "params": m.get("params") or {},
            "overrides": m.get("overrides") or {},
            "seed": m.get("seed"),
            "started": m.get("started"),
            "duration_s": m.get("duration_s"),
            "primary_metric": primary_metric,
            "primary_value": self.primary(primary_metric),
            # the per-run check against the criterion; runs recorded before 0.2 called it "verdict"
            "criterion_check": m.get("criterion_check", m.get("verdict")),
            "ignored": self.ignored,
            "ignored_reason": self.ignored_reason,
            "problem": self.problem,
            "path": str(self.path),
        }


def is_stale(manifest: dict) -> bool:
    """A ``running`` run whose process on this host is gone (exited, a zombie, or its PID reused)."""
    pid = manifest.get("pid")
    if not pid or manifest.get("host") not in (None, socket.gethostname()):
        return False
    return procs.is_gone(int(pid), manifest.get("pid_start"))
