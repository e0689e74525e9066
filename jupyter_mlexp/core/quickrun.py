"""Run a block of code as one run of an experiment (what ``%%run_quick`` does).

Framework-free: the caller passes ``execute``, a function that runs the code
and returns the exception it raised (or None). The magic passes one that runs
the cell through IPython; tests and other front doors can pass any callable.
"""

from __future__ import annotations

import io
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from jupyter_mlexp.core import provenance, tracking
from jupyter_mlexp.core.budget import time_budget
from jupyter_mlexp.core.errors import RunTimeoutError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.run import Run

DEFAULT_BUDGET = 60.0
_MISSING = object()


@dataclass
class RunOutcome:
    run_id: str
    mode: str
    status: str
    duration_s: float
    path: Path
    primary_metric: str
    primary_value: float | None
    criterion: str
    verdict: str
    error: str | None = None
    batch: bool = False

    def summary_line(self) -> str:
        mark = {"completed": "✓", "failed": "✗", "timeout": "⏱", "interrupted": "■"}.get(self.status, "?")
        value = "not logged" if self.primary_value is None else f"{self.primary_value:.6g}"
        text = (
            f"{mark} {self.mode} run {self.run_id} {self.status} in {self.duration_s:.2f} s · "
            f"{self.primary_metric} = {value} · success ({self.criterion}): {self.verdict}"
        )
        if self.error:
            text += f"\n  {self.error}"
        return text


def seed_everything(seed: int) -> None:
    """Seed ``random``, numpy and (when installed) torch."""
    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is None and find_spec("numpy") is not None:
        import numpy as np
    if np is not None:
        np.random.seed(seed % (2**32))
    if _torch_installed():
        import torch

        torch.manual_seed(seed)


_torch_spec: list = []


def _torch_installed() -> bool:
    if not _torch_spec:
        _torch_spec.append(find_spec("torch") is not None)
    return _torch_spec[0]


@contextmanager
def overridden(namespace: dict | None, overrides: dict) -> Iterator[None]:
    """Set ``overrides`` in ``namespace`` for the block; restore the previous values after."""
    if not namespace or not overrides:
        yield
        return
    saved = {k: namespace.get(k, _MISSING) for k in overrides}
    namespace.update(overrides)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is _MISSING:
                namespace.pop(k, None)
            else:
                namespace[k] = v


class _Tee(io.TextIOBase):
    """Write through to the real stream and keep a copy for metric parsing and stdout.txt."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer_ = io.StringIO()

    def write(self, s):
        self.buffer_.write(s)
        return self.stream.write(s)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):  # isatty, fileno, encoding, ipykernel's extras
        return getattr(self.stream, name)


def execute_run(
    experiment: Experiment,
    execute: Callable[[], BaseException | None],
    *,
    full: bool = False,
    overrides: dict | None = None,
    seed: int | None = None,
    budget: float | None = DEFAULT_BUDGET,
    data: list[str] | None = None,
    command: str = "",
    namespace: dict | None = None,
) -> RunOutcome:
    """Run ``execute`` as a quick run (or full, under the batch runner or with ``full=True``).

    The gate: raises :class:`~jupyter_mlexp.core.errors.NoHypothesisError` before anything
    runs when the experiment has no hypothesis.
    """
    hyp = experiment.hypothesis  # the gate
    batch_run, batch_mode = tracking.batch_context()
    mode = "full" if full or batch_mode == "full" else "quick"
    applied = dict(overrides or {}) if mode == "quick" else {}
    if batch_run is not None:
        run: Run = batch_run
        if mode == "full":
            budget = None  # the runner's whole-notebook budget governs full runs
        seed = run.manifest.get("seed") if seed is None else seed
        if applied:
            run.manifest.setdefault("overrides", {}).update(applied)
    else:
        run = experiment.start_run(
            mode,
            params=applied,
            overrides=applied,
            seed=0 if seed is None else seed,
            budget_s=budget,
            command=command,
            source="%%run_quick cell",
            git=provenance.git_info(experiment.base.parent),
            environment=provenance.environment(),
            data=provenance.data_hashes(data or [], experiment.base / ".cache" / "data_hashes.json"),
        )
    if seed is None:
        seed = 0
    seed_everything(seed)

    counts_before = {k: v.get("n", 0) + v.get("nonfinite", 0) for k, v in run.summary.items()}
    tee = _Tee(sys.stdout)
    error: BaseException | None = None
    started = time.perf_counter()
    tracking.push(run)
    try:
        real_stdout, sys.stdout = sys.stdout, tee
        try:
            with overridden(namespace, applied):
                try:
                    with time_budget(budget):
                        error = execute()
                except RunTimeoutError as exc:  # fired between execute() returning and the timer stopping
                    error = exc
                except BaseException as exc:
                    error = exc
        finally:
            sys.stdout = real_stdout
    finally:
        tracking.pop(run)
    duration = time.perf_counter() - started

    captured = tee.buffer_.getvalue()
    # A metric this cell logged through the API is not counted again from its printed line.
    logged_by_api = {k for k, v in run.summary.items() if v.get("n", 0) + v.get("nonfinite", 0) != counts_before.get(k)}
    run.log_printed_metrics(captured, skip=logged_by_api)
    if captured:
        with open(run.path / "stdout.txt", "a", encoding="utf-8") as fh:
            fh.write(captured)

    if error is None:
        status = "completed"
    elif isinstance(error, RunTimeoutError):
        status = "timeout"
    elif isinstance(error, KeyboardInterrupt):
        status = "interrupted"
    else:
        status = "failed"

    criterion = hyp.success_criterion
    outcome_verdict = run.record_verdict(criterion)
    primary = hyp.primary_metric
    message = None if error is None else f"{type(error).__name__}: {error}"
    if batch_run is not None:
        cells = run.manifest.setdefault("cells", [])
        cells.append({"status": status, "duration_s": round(duration, 4), "error": message})
        if error is not None:
            from jupyter_mlexp.core.run import error_record

            run.manifest["cell_error"] = error_record(error)
        run.save_progress()
    else:
        try:
            import resource

            run.manifest["peak_memory_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        except (ImportError, OSError):
            pass
        experiment.finish_run(run, status, error, description=command.splitlines()[0][:80] if command else "")
    return RunOutcome(
        run_id=run.run_id,
        mode=mode,
        status=status,
        duration_s=duration,
        path=run.path,
        primary_metric=primary,
        primary_value=(run.summary.get(primary) or {}).get("last"),
        criterion=str(criterion),
        verdict=outcome_verdict,
        error=message,
        batch=batch_run is not None,
    )


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` strings to a dict; values are Python literals, else strings."""
    import ast

    from jupyter_mlexp.core.errors import MlexpError

    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise MlexpError(f"override {item!r} is not NAME=VALUE (e.g. epochs=2)")
        try:
            out[name] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[name] = raw
    return out
