"""One run: its folder, manifest, metrics, arrays and log.

A run folder (``quick/<run_id>/`` or ``full/<run_id>/``) is created once and
never reused. ``run.json`` is rewritten atomically at start and at the end;
``metrics.jsonl`` is appended by one process through a buffer, so the hot path
takes no lock and no fsync: one buffered write per metric, flushed at least once
a second and at the end of the run. Other processes that log into the run (the
workers of a ``multiprocessing`` pool, forked or spawned) write each line
straight to the file (one ``O_APPEND`` write, so a worker stopped at any moment
loses nothing it logged and lines never interleave), note themselves in
``workers.txt``, and leave the summary to the run's end, which rebuilds it from
``metrics.jsonl``.
"""

from __future__ import annotations

import os
import secrets
import time
import traceback
import weakref
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from jupyter_mlexp.core.errors import InvalidNameError, MetricValueError, RecordError
from jupyter_mlexp.core.execution import procs
from jupyter_mlexp.core.execution.flusher import FLUSH_EVERY, FLUSHER, is_own_thread  # noqa: F401 - public here too
from jupyter_mlexp.core.execution.printed import PrintedMetrics
from jupyter_mlexp.core.execution.run_log import close_run_log, open_run_log
from jupyter_mlexp.core.record import authorship
from jupyter_mlexp.core.record.fsio import SYSTEM_ERRNOS, atomic_write_json, read_json_record, write_error
from jupyter_mlexp.core.record.hypothesis import criterion_check as check
from jupyter_mlexp.core.record.metric_lines import (  # noqa: F401 - summarize and fold_nonfinite are public here too
    check_step,
    check_value,
    fold_nonfinite,
    nonfinite_kind,
    quoted,
    read_summaries,
    summarize,
)
from jupyter_mlexp.core.record.metric_lines import line as metric_line
from jupyter_mlexp.core.record.run_record import RunRecord
from jupyter_mlexp.core.record.workspace import check_name

if TYPE_CHECKING:
    from jupyter_mlexp.core.execution.printed import PrintedMetrics
    from jupyter_mlexp.core.record.hypothesis import Criterion

MODES = ("quick", "full")
WORKERS_FILE = "workers.txt"  # PIDs of the worker processes that logged into the run: its summary is rebuilt
FINAL_STATUSES = ("completed", "failed", "timeout", "interrupted")


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def iso(ts: float | None = None) -> str:
    return (
        datetime.fromtimestamp(ts if ts is not None else time.time(), timezone.utc)
        .astimezone()
        .isoformat(timespec="milliseconds")
    )


class Run:
    """A run being recorded. Use :meth:`Experiment.start_run` or :meth:`Run.attach`."""

    def __init__(self, path: Path, manifest: dict):
        self.path = Path(path)
        self.manifest = manifest
        # binary and buffered: io's buffered writers lock internally, so the flusher thread may
        # flush while the logging thread writes (a text wrapper would need a lock of ours per call)
        self._metrics_fh: IO[bytes] | None = None
        self._dirty = False
        self._names: dict[str, str] = {}
        self._steps: dict[str, int] = {}
        self._logging = False  # run.log open for this run's messages
        self.warnings: list[str] = []
        self.worker = False  # this process only adds lines (a pool's worker): written through, no summary
        _LIVE.add(self)

    @property
    def manifest(self) -> dict:
        return self._manifest

    @manifest.setter
    def manifest(self, manifest: dict) -> None:
        # The summary lives in the manifest alone: ``summary`` is the same dict, never a copy.
        summary = manifest.get("metrics_summary")
        if not isinstance(summary, dict):
            summary = manifest["metrics_summary"] = {}
        self._manifest = manifest
        self.summary: dict[str, dict] = summary

    @property
    def record(self) -> RunRecord:
        """The manifest as it stands now, typed (:class:`RunRecord`): what readers of a live run read."""
        return RunRecord.from_manifest(self._manifest)

    # -- identity ---------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self.manifest["run_id"]

    @property
    def mode(self) -> str:
        return self.manifest["mode"]

    # -- life cycle -------------------------------------------------------------------------
    @classmethod
    def create(cls, experiment_dir: Path, mode: str, manifest: dict) -> Run:
        if mode not in MODES:
            raise InvalidNameError(f"unknown mode {mode!r}: use 'quick' or 'full'")
        run_id = manifest.get("run_id") or new_run_id()
        check_name(run_id, "run id")
        path = Path(experiment_dir) / mode / run_id
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir()  # never reuse a run folder: FileExistsError if the id was taken
            (path / "experiment_results").mkdir()
        except OSError as err:
            if err.errno not in SYSTEM_ERRNOS:
                raise
            raise write_error(err.filename or path, err) from None
        now = time.time()
        full = {
            "run_id": run_id,
            "mode": mode,
            "status": "running",
            "started": iso(now),
            "started_ts": now,
            "ended": None,
            "duration_s": None,
            "pid": os.getpid(),
            "pid_start": procs.start_time(os.getpid()),  # tells this process from a later one with its PID
            "author": authorship.author(),
            **{k: v for k, v in manifest.items() if k != "run_id"},
        }
        run = cls(path, full)
        run.write_manifest()
        run._start_log()
        return run

    @classmethod
    def attach(cls, path: Path) -> Run:
        """Open a run folder made by someone else (the batch runner) to add metrics to it."""
        path = Path(path)
        manifest = read_json_record(path / "run.json")
        if not isinstance(manifest, dict):
            raise RecordError(f"{path / 'run.json'} is not a JSON object; fix or restore it")
        run = cls(path, manifest)
        run._start_log(f"attached by pid {os.getpid()}")
        return run

    def write_manifest(self) -> None:
        atomic_write_json(self.path / "run.json", self.manifest)

    def reload(self, rebuild_summary: bool = False) -> None:
        """Read back ``run.json`` as another process (the kernel, the script) left it.

        With ``rebuild_summary`` (that process died before writing its summary), the
        summary is rebuilt from ``metrics.jsonl`` alone; a line cut by the crash is skipped.
        """
        try:
            on_disk = read_json_record(self.path / "run.json")
        except (OSError, RecordError):
            on_disk = None
        if isinstance(on_disk, dict):
            self.manifest = on_disk
        if rebuild_summary or self.has_workers():
            self.rebuild_summary()

    def rebuild_summary(self) -> None:
        """The summary from ``metrics.jsonl`` alone, read through its codec (a line cut by a crash is skipped)."""
        try:
            summaries, _ = read_summaries(self.path / "metrics.jsonl")
        except RecordError:  # a folder where the file belongs: nothing to rebuild from
            summaries = {}
        self.manifest = {
            **self.manifest,
            "metrics_summary": {name: s.as_manifest() for name, s in summaries.items()},
        }

    def has_workers(self) -> bool:
        """Whether other processes (a pool's workers) logged into this run: its summary, kept by one
        process, does not count their lines."""
        return (self.path / WORKERS_FILE).exists()

    def absorb_workers(self) -> None:
        """At the run's end: if workers logged into it, the summary is rebuilt from ``metrics.jsonl``."""
        if self.has_workers():
            self.close_metrics()
            self.rebuild_summary()

    #: Fields a process that attached to someone else's run may write back.
    PROGRESS_FIELDS = (
        "metrics_summary",
        "criterion_check",
        "cells",
        "cell_error",
        "overrides",
        "arrays",
        "warnings",
        "params_seen",
        "environment",  # the process that ran the code: its interpreter and what the run imported
    )

    def save_progress(self) -> None:
        """Flush metrics and merge this process's progress into ``run.json`` as it is on disk.

        Used by a process attached to the batch runner's run: the runner owns status and
        timing, so only :attr:`PROGRESS_FIELDS` are written back. A worker writes nothing back:
        its lines are on disk already and the run's end rebuilds the summary from them.
        """
        self.close_metrics()
        if self.worker:
            return
        if self.warnings:
            self.manifest["warnings"] = self.warnings[-50:]
        try:
            on_disk = read_json_record(self.path / "run.json")
        except (OSError, RecordError):
            on_disk = None
        if not isinstance(on_disk, dict):
            on_disk = dict(self.manifest)
        for key in self.PROGRESS_FIELDS:
            if key in self.manifest:
                on_disk[key] = self.manifest[key]
        atomic_write_json(self.path / "run.json", on_disk)

    def finish(self, status: str, error: BaseException | None = None, at: float | None = None, **extra: Any) -> dict:
        """Flush metrics, stamp status/end/duration (and the error, if any) into ``run.json``.

        ``at``: when the run ended, if not now (a run found dead ends at its last sign of life)."""
        self.close_metrics()
        now = time.time() if at is None else at
        self.manifest.update(
            status=status,
            ended=iso(now),
            duration_s=round(now - self.manifest.get("started_ts", now), 4),
            **extra,
        )
        if error is not None:
            self.manifest["error"] = error_record(error)
        if self.warnings:
            self.manifest["warnings"] = self.warnings[-50:]
        self.write_manifest()
        self._log_end()
        return self.manifest

    # -- metrics (hot path) -----------------------------------------------------------------
    def _open_metrics(self):
        try:
            return self._open_metrics_file()
        except OSError as err:
            if err.errno not in SYSTEM_ERRNOS:
                raise
            raise write_error(self.path / "metrics.jsonl", err) from None

    def _open_metrics_file(self):
        if self.worker:  # unbuffered: each line one O_APPEND write, on disk when log_metric returns
            self._metrics_fh = open(self.path / "metrics.jsonl", "ab", buffering=0)
            with open(self.path / WORKERS_FILE, "a", encoding="utf-8") as fh:
                fh.write(f"{os.getpid()}\n")
            return self._metrics_fh
        self._metrics_fh = open(self.path / "metrics.jsonl", "ab", buffering=1 << 16)
        FLUSHER.watch(self)
        return self._metrics_fh

    def _forked(self, devnull: int) -> None:
        """In a child just forked: the parent's buffered lines are the parent's to write. The
        inherited buffer now drains into ``devnull`` (a child that flushed it wrote them twice);
        this process logs as a worker."""
        self.worker = True
        fh, self._metrics_fh = self._metrics_fh, None
        if fh is not None:
            try:
                os.dup2(devnull, fh.fileno())
                fh.close()
            except (OSError, ValueError):
                pass

    def flush_metrics(self) -> None:
        """Write what is buffered of ``metrics.jsonl`` to the file (the flusher calls it twice a second)."""
        fh = self._metrics_fh
        if self._dirty and fh is not None:
            self._dirty = False  # before the flush: a line written meanwhile sets it again
            fh.flush()

    def log_metric(self, name: str, value: Any, step: int | None = None) -> None:
        """Append one value. NaN and inf are kept (as ``null`` with ``nonfinite``) and warned about."""
        qname = self._names.get(name)
        if qname is None:
            if not isinstance(name, str) or not name:
                raise MetricValueError(f"metric name must be a non-empty string, got {name!r}")
            qname = self._names[name] = quoted(name)
        v = value if type(value) is float else check_value(name, value)
        if step is None:
            step = self._steps.get(name, -1) + 1
        elif type(step) is not int:
            step = check_step(name, step)
        self._steps[name] = step
        now = time.time()
        fh = self._metrics_fh or self._open_metrics()
        fh.write(metric_line(qname, v, step, now).encode())
        self._dirty = True
        if v - v == 0.0:  # finite
            s = self.summary.get(name)
            if s is None:
                self.summary[name] = {"last": v, "min": v, "max": v, "n": 1, "step": step}
            else:  # summarize(), inlined on this hot path
                s["last"] = v
                s["step"] = step
                s["n"] += 1
                lo = s["min"]
                if lo is None or v < lo:
                    s["min"] = v
                hi = s["max"]
                if hi is None or v > hi:
                    s["max"] = v
        elif fold_nonfinite(self.summary, name, step) == 1:
            kind = nonfinite_kind(v)
            self.warn(f"metric {name!r} got a non-finite value ({kind}) at step {step}; recorded as null")

    def log_printed_metrics(self, printed: str | PrintedMetrics, wanted=None, skip=()) -> None:
        """Log the ``name: value`` lines of ``printed`` (text, or already parsed as it came), but names in
        ``skip`` (already logged through the API) and, when ``wanted`` is given, names outside it."""

        parsed = PrintedMetrics.of(printed) if isinstance(printed, str) else printed
        for name, p in parsed.by_name.items():
            if name in skip or (wanted is not None and name not in wanted):
                continue
            if name in self.summary or name in self._steps:  # continues what this run logged: value by value
                for value in p.iter_values():
                    self.log_metric(name, value)
                continue
            target = self.path / "metrics.jsonl"
            if p.spool is not None and self._metrics_fh is None and not target.exists():
                p.close()
                os.replace(p.spool, target)  # spooled while the run went: it becomes the run's metrics.jsonl
            else:
                fh = self._metrics_fh or self._open_metrics()
                fh.write(p.data())
                self._dirty = True
            self.summary[name] = dict(parsed.summary[name])
            self._steps[name] = p.steps - 1
            for kind, step in p.nonfinite[:1]:
                self.warn(f"metric {name!r} got a non-finite value ({kind}) at step {step}; recorded as null")
        parsed.discard()

    def record_criterion_check(self, criterion: Criterion) -> str:
        """Check this run's last value against the success criterion (``met`` / ``not met`` /
        ``not logged``), stored as ``criterion_check``. Not the experiment's verdict, which
        is judged over seeds and configurations."""

        value = (self.summary.get(criterion.metric) or {}).get("last")
        self.manifest["criterion_check"] = result = check(criterion, value)
        return result

    def log_array(self, name: str, array: Any) -> Path:
        import numpy as np

        check_name(name, "array name")
        target = self.path / "experiment_results" / f"{name}.npy"
        try:
            target.parent.mkdir(exist_ok=True)
            np.save(target, np.asarray(array), allow_pickle=False)
        except OSError as err:
            if err.errno not in SYSTEM_ERRNOS:
                raise
            raise write_error(target, err) from None
        self.manifest.setdefault("arrays", {})[name] = str(target.relative_to(self.path))
        return target

    def close_metrics(self) -> None:
        fh, self._metrics_fh = self._metrics_fh, None
        if fh is not None:
            fh.close()
        FLUSHER.forget(self)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._logging:
            self.logger.warning(message)

    # -- loguru run.log ---------------------------------------------------------------------
    def _start_log(self, what: str = "started") -> None:
        self.logger = open_run_log(self.run_id, self.path / "run.log")
        self._logging = True
        self.logger.info(f"run {self.run_id} ({self.mode}) {what}")

    def stop_log(self, handover: str | None = None) -> None:
        """Close this process's ``run.log`` sink for the run: the run ended (its status is the last
        line), or ``handover`` says which process writes the rest."""
        if self._logging:
            self.logger.info(f"run {self.run_id} {handover}" if handover else self._end_line())
            close_run_log(self.run_id)
            self._logging = False

    def _end_line(self) -> str:
        return f"run {self.run_id} ended: {self.manifest.get('status')}"

    def _log_end(self) -> None:
        """The run's last ``run.log`` line, its final status, whichever process held the log before."""
        if self._logging:
            self.stop_log()
            return
        logger = open_run_log(self.run_id, self.path / "run.log")
        logger.info(self._end_line())
        close_run_log(self.run_id)


_LIVE: weakref.WeakSet[Run] = weakref.WeakSet()  # every Run of this process: a forked child makes them workers


def _before_fork() -> None:
    FLUSHER.flushing.acquire()  # no flush in progress while the process is copied


def _after_fork_in_parent() -> None:
    FLUSHER.flushing.release()


def _after_fork_in_child() -> None:
    FLUSHER.flushing.release()
    if not _LIVE:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        for run in list(_LIVE):
            run._forked(devnull)
    finally:
        os.close(devnull)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)


def error_record(error: BaseException) -> dict:
    tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {
        "name": type(error).__name__,
        "message": str(error)[:2000],
        "traceback": tb[-4000:],
    }
