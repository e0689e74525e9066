"""Hand-built experiment records for the report tests: run folders written file by file."""

from __future__ import annotations

import json
import math
from pathlib import Path

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.hypothesis import Hypothesis

STARTED = "2026-11-20T10:00:00.000+00:00"


def make_experiment(
    root: Path,
    name: str = "exp",
    success: str = "val_acc >= 0.9",
    metrics=("val_acc", "loss"),
    stage: str = "full",
    failure: str | None = None,
    **extra,
) -> Experiment:
    exp = Experiment(name, root=root)
    exp.register(
        Hypothesis(
            statement="Warm-up raises validation accuracy",
            success=success,
            metrics=list(metrics),
            failure=failure,
            stage=stage,
            **extra,
        )
    )
    return exp


def write_run(
    exp: Experiment,
    run_id: str,
    *,
    mode: str = "full",
    stage: str = "full",
    params=None,
    seed: int = 0,
    status: str = "completed",
    metrics: dict | None = None,
    error: dict | None = None,
    duration: float = 2.0,
    corrupt_lines: dict | None = None,
    under: str | None = None,
    started: str = STARTED,
    **manifest,
) -> Path:
    """A run folder with run.json and metrics.jsonl. ``metrics``: name -> list of values (steps 0..n-1).
    ``corrupt_lines``: {position: raw text} inserted before that line position. ``under``: e.g. ``ignored``."""
    base = exp.path / under if under else exp.path
    folder = base / mode / run_id
    folder.mkdir(parents=True)
    lines = []
    summary = {}
    for name, values in (metrics or {}).items():
        for step, v in enumerate(values):
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                kind = "nan" if v is None or math.isnan(v) else ("inf" if v > 0 else "-inf")
                lines.append(json.dumps({"name": name, "value": None, "nonfinite": kind, "step": step, "time": 1.0}))
            else:
                lines.append(json.dumps({"name": name, "value": v, "step": step, "time": 1.0}))
        last = values[-1]
        summary[name] = {"last": None if last is None or not math.isfinite(last) else last, "n": len(values)}
    for pos, raw in sorted((corrupt_lines or {}).items(), reverse=True):
        lines.insert(pos, raw)
    if lines:
        (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    m = {
        "run_id": run_id,
        "mode": mode,
        "stage": stage,
        "params": dict(params or {}),
        "seed": seed,
        "status": status,
        "started": started,
        "ended": started,
        "duration_s": duration,
        "budget_s": 60,
        "git": {"commit": "a" * 40, "branch": "main", "dirty": False, "diff_sha256": None},
        "environment": {"python": "3.11.7", "platform": "Linux-test", "packages": {"numpy": "1.26.0"}},
        "data": {"data/train.csv": {"sha256": "b" * 64, "size": 10}},
        "command": "train(lr)",
        "metrics_summary": summary,
        **manifest,
    }
    if error is not None:
        m["error"] = error
    (folder / "run.json").write_text(json.dumps(m), encoding="utf-8")
    return folder


def seeds(exp: Experiment, prefix: str, values: list[float], **kw) -> list[Path]:
    """One run per seed with final ``val_acc`` = value (three steps ending there) and a loss."""
    out = []
    for seed, v in enumerate(values):
        out.append(
            write_run(
                exp,
                f"{prefix}-s{seed}",
                seed=seed,
                metrics={"val_acc": [v - 0.2, v - 0.1, v], "loss": [1.0, 0.5, 1 - v]},
                **kw,
            )
        )
    return out
