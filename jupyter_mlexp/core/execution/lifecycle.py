"""One run life cycle for every way of running: :func:`start`, the executor's own work, :func:`finish`.

The ``%%run_quick`` cell (:mod:`.quickrun`), the notebook runner (local and on
Dask), the script runner and the keep/discard loop all begin a run with
:func:`start` (folder, manifest, provenance) and end it with :func:`finish`
(printed metrics, the criterion check, peak memory, status, error, the
``results.tsv`` row and the ``research_log.jsonl`` event), and all return one
:class:`RunResult`. An executor keeps only what is its own: how it executes the
code and how it stops it. A run whose process died before :func:`finish` is ended
from what it left on disk by :func:`end_stale_runs`, through the same :func:`finish`.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import MlexpError, RunTimeoutError
from jupyter_mlexp.core.execution import artifacts, procs, provenance, run_entries
from jupyter_mlexp.core.execution.printed import SPOOL_PREFIX, PrintedMetrics
from jupyter_mlexp.core.execution.run_folder import Run, error_record
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record import logchain
from jupyter_mlexp.core.record.fsio import locked
from jupyter_mlexp.core.record.hypothesis import NOT_MEASURED, Hypothesis
from jupyter_mlexp.core.record.run_record import RunRecord
from jupyter_mlexp.core.record.runinfo import is_stale

#: run id -> (working directory, its files at the run's start), for the runs this process started
_files_before: dict[str, tuple[str, artifacts.Listing | None]] = {}
#: run id -> the other runs of this process that ran in the same folder while it ran
_overlaps: dict[str, set[str]] = {}

STATUS_MARKS = {"completed": "✓", "failed": "✗", "timeout": "⏱", "interrupted": "■"}


@dataclass
class RunResult:
    """How one run ended: what every executor returns, one per run."""

    run_id: str | None
    mode: str
    status: str
    path: str | None
    seed: int | None = None
    params: dict = field(default_factory=dict)
    duration_s: float = 0.0
    error: dict | None = None
    primary_metric: str | None = None
    primary_value: float | None = None
    criterion: str | None = None
    criterion_check: str | None = None
    peak_memory_gb: float | None = None
    exit_code: int | None = None
    #: executor details: the sweep index, whether a warm kernel ran it, the time outside the code
    index: int = -1
    kernel_reused: bool = False
    overhead_s: float | None = None
    #: a %%run_quick cell that added to the batch runner's run instead of making its own
    batch: bool = False
    #: one-line notes for the person who ran it (a front door shows them before the summary line)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    @property
    def message(self) -> str:
        return (self.error or {}).get("message", "")

    def describe(self) -> str:
        """``full run ID [seed=0 alpha=0.1]: completed in 1.20 s`` (and the error, if any)."""
        what = " ".join([f"seed={self.seed}"] + [f"{k}={v!r}" for k, v in self.params.items() if k != "seed"])
        text = f"{self.mode} run {self.run_id or '(not started)'} [{what}]: {self.status} in {self.duration_s:.2f} s"
        return text + (f" — {self.message}" if self.error else "")

    def summary_line(self) -> str:
        """One line for a person: status, time, the primary metric and the criterion check."""
        mark = STATUS_MARKS.get(self.status, "?")
        value = "not logged" if self.primary_value is None else f"{self.primary_value:.6g}"
        text = (
            f"{mark} {self.mode} run {self.run_id} {self.status} in {self.duration_s:.2f} s · "
            f"{self.primary_metric} = {value} · criterion check ({self.criterion}): {self.criterion_check}"
        )
        return text + (f"\n  {self.message}" if self.error else "")

    def to_dict(self) -> dict:
        return asdict(self)


def start(
    experiment: Experiment,
    mode: str,
    *,
    source: str,
    seed: int | None = 0,
    params: Mapping[str, Any] | None = None,
    budget: float | None = None,
    command: str = "",
    data: Sequence[str] | Mapping[str, Any] = (),
    git: dict | None = None,
    environment: dict | None = None,
    workdir: str | os.PathLike | None = None,
    **extra: Any,
) -> Run:
    """Create the run folder and its manifest with provenance (git, environment, data hashes).

    ``data`` is a list of paths to hash, or hashes already computed once for a whole sweep;
    ``git`` likewise. ``environment``: the code's interpreter's, when the code runs in another
    one (a script); by default this process's (the process that runs the code writes it again at
    the end, with what the run imported). ``workdir``: the folder the code runs in; the files it
    writes there are kept in the run's ``artifacts/`` at :func:`finish` (:mod:`.artifacts`).
    Raises :class:`~.errors.NoHypothesisError` when nothing is registered.
    This process's memory high-water mark restarts here (Linux), so :func:`peak_memory_gb`
    read at the end is this run's peak.
    """
    reset_peak_memory()
    hashes = (
        dict(data)
        if isinstance(data, Mapping)
        else provenance.data_hashes(list(data), experiment.base / ".cache" / "data_hashes.json")
    )
    before = artifacts.snapshot(workdir, skip=[experiment.base]) if workdir is not None else None
    if workdir is not None:
        extra["workdir"] = str(Path(workdir).resolve())
    run = run_entries.open_run(
        experiment,
        mode,
        params=dict(params or {}),
        seed=seed,
        budget_s=budget,
        command=command,
        source=source,
        git=git if git is not None else provenance.git_info(experiment.base.parent),
        environment=environment if environment is not None else provenance.environment(),
        data=hashes,
        log_head=logchain.head(experiment.log_jsonl).to_dict(),  # an anchor of the log's chain, outside it
        **extra,
    )
    if workdir is not None:
        same = {rid for rid, (folder, _) in _files_before.items() if folder == str(workdir)}
        for rid in same:
            _overlaps.setdefault(rid, set()).add(run.run_id)
        _overlaps[run.run_id] = same
        _files_before[run.run_id] = (str(workdir), before)
    return run


def status_of(error: BaseException | None) -> str:
    """The final status a run ends with when its code ended with ``error``."""
    if error is None:
        return "completed"
    if isinstance(error, RunTimeoutError):
        return "timeout"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return "failed"


def reset_peak_memory() -> None:
    """Linux: restart this process's memory high-water mark (``VmHWM``) at its current size."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            pass


def peak_memory_gb(usage: resource.struct_rusage | None = None) -> float | None:
    """Peak resident memory, in GB.

    With ``usage`` (what ``os.wait4`` returned for a run's command): that process's own peak,
    or the largest of the children it waited for. Without: this process's peak since the
    run's :func:`start` (Linux, ``VmHWM``); elsewhere its peak over its whole life.
    """
    if usage is not None:
        return _gb(usage.ru_maxrss)
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return round(int(line.split()[1]) / 1024**2, 4)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return _gb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except (OSError, ValueError):
        return None


def _gb(maxrss: int) -> float:
    """``ru_maxrss`` in GB: kilobytes on Linux, bytes on macOS."""
    return round(maxrss / (1024**3 if sys.platform == "darwin" else 1024**2), 4)


def finish(
    experiment: Experiment,
    run: Run,
    status: str,
    *,
    error: BaseException | Mapping[str, Any] | None = None,
    printed: str | PrintedMetrics = "",
    all_printed: bool = False,
    peak_memory: float | None = None,
    description: str = "",
    **extra: Any,
) -> RunResult:
    """End ``run``: the one place a run's end is written, whatever executed it.

    ``printed`` is the run's captured output: its ``name: value`` lines count for the
    hypothesis' metrics (every name with ``all_printed``) that the run did not log through
    the API. Then the criterion check, peak memory, the final status with the error, the
    results row and the event.
    """
    hyp = hypothesis_of(experiment)
    run.absorb_workers()
    if printed:
        wanted = None if all_printed or hyp is None else set(hyp.metrics)
        run.log_printed_metrics(printed, wanted=wanted, skip=set(run.summary))
    if hyp is not None:
        check = run.record_criterion_check(hyp.success_criterion)
        if check == NOT_MEASURED and status == "completed":  # marked in run.json's warnings, said at the run's end
            run.warn(never_logged_text(hyp.success_criterion.metric))
    if peak_memory is not None:
        run.manifest["peak_memory_gb"] = peak_memory
    if isinstance(error, BaseException):
        run.manifest["error"] = error_record(error)
    elif error is not None:
        run.manifest["error"] = dict(error)
    workdir, before = _files_before.pop(run.run_id, (None, None))
    parallel = sorted(_overlaps.pop(run.run_id, ()))
    if workdir:  # what the code wrote in its folder, kept with the run
        kept = artifacts.keep(run.path, workdir, before, skip=[experiment.base])
        if parallel and kept.get("artifacts"):
            kept.setdefault("artifacts_note", []).append(
                f"ran at the same time as {', '.join(parallel[:5])} in the same folder: a file both wrote by the "
                "same relative path may be the other run's (write with mlexp.artifact_path)"
            )
        run.manifest.update(kept)
    elif listed := artifacts.listing(run.path):
        run.manifest["artifacts"] = listed
    if not description:
        command = run.record.command or ""
        description = command.splitlines()[0][:80] if command else ""
    run_entries.close_run(experiment, run, status, description=description, **extra)
    return result_of(run, hyp)


def never_logged_text(metric: str) -> str:
    """What a completed run that never logged the criterion's metric is told, and its run.json keeps."""
    return (
        f"the success criterion's metric {metric!r} was never logged (no finite value): "
        f"call mlexp.log_metric({metric!r}, value) or print a line '{metric}: VALUE'"
    )


def never_logged(results: Sequence[RunResult]) -> str | None:
    """One line at the end of a run or sweep when completed runs never logged the criterion's metric."""
    missing = [r for r in results if r.ok and r.criterion_check == NOT_MEASURED and r.criterion]
    if not missing:
        return None
    metric = str(missing[0].criterion).split()[0]
    done = sum(r.ok for r in results)
    which = "the run" if done == 1 else f"{len(missing)} of {done} completed runs"
    return f"{which}: {never_logged_text(metric)}"


def result_of(run: Run, hyp: Hypothesis | None = None, **executor: Any) -> RunResult:
    """The :class:`RunResult` of ``run`` as its manifest stands now."""
    r = run.record
    primary = hyp.primary_metric if hyp is not None else None
    return RunResult(
        run_id=run.run_id,
        mode=run.mode,
        status=str(r.status),
        path=str(run.path),
        seed=r.seed,
        params=dict(r.params),
        duration_s=float(r.duration_s or 0.0),
        error=r.error,
        primary_metric=primary,
        primary_value=(run.summary.get(primary or "") or {}).get("last"),
        criterion=str(hyp.success_criterion) if hyp is not None else None,
        criterion_check=r.criterion_check,
        peak_memory_gb=r.peak_memory_gb,
        exit_code=r.exit_code,
        **executor,
    )


def not_started(mode: str, error: str, **fields: Any) -> RunResult:
    """The result of a run whose folder could not be made (the executor failed first)."""
    return RunResult(
        run_id=None, mode=mode, status="failed", path=None, error={"name": "RunnerError", "message": error}, **fields
    )


def hypothesis_of(experiment: Experiment) -> Hypothesis | None:
    """The experiment's hypothesis, or None when it has none (or it cannot be read)."""
    try:
        return experiment.hypothesis
    except MlexpError:
        return None


GONE = {
    "name": "ProcessGone",
    "message": "process gone (runner killed?): the run was ended from what it left on disk",
}


def end_stale_runs(experiment: Experiment) -> list[str]:
    """End every run of ``experiment`` left ``running`` by a process that is gone (``stale``); their ids.

    Each is ended once, under its ``run.json`` lock, through :func:`finish`: status ``failed``
    with :data:`GONE` as error, its metrics from ``metrics.jsonl`` and from the
    ``name: value`` lines of its ``stdout.txt``, its end at its last sign of life. A script
    run's command is put down by its guard first (``docs/runner.md``): a run whose guard
    still lives is left for a later call. A record that cannot be written stays ``stale``.
    """
    ended = []
    for info in experiment.runs():
        if info.status == "stale" and _end_stale(experiment, Path(info.path)):
            ended.append(info.run_id)
    return ended


def _end_stale(experiment: Experiment, path: Path) -> bool:
    try:
        with locked(path / "run.json"):
            run = Run(path, {})
            run.reload()
            r = run.record
            guard = r.guard
            if r.status != "running" or not is_stale(r):
                return False
            if guard.get("pid") and not procs.is_gone(int(guard["pid"]), guard.get("pid_start")):
                return False  # still putting the command down
            run.reload(rebuild_summary=True)  # from metrics.jsonl: what the process wrote
            try:
                printed = (path / "stdout.txt").read_text(encoding="utf-8", errors="replace")
            except OSError:
                printed = ""
            for spooled in path.glob(SPOOL_PREFIX + "*"):  # the dead runner's half-written copies
                spooled.unlink(missing_ok=True)
            finish(experiment, run, "failed", error=GONE, printed=printed, at=_last_sign_of_life(path, r))
            return True
    except (MlexpError, OSError, ValueError, TypeError):
        return False


def _last_sign_of_life(path: Path, record: RunRecord) -> float:
    """When the run last wrote anything: the newest of its files' modification times."""
    times = [float(record.started_ts or 0.0)]
    for name in ("stdout.txt", "metrics.jsonl", "run.log", "output.ipynb"):
        try:
            times.append(os.stat(path / name).st_mtime)
        except OSError:
            pass
    return max(times)
