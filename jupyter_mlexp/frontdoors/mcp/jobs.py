"""What runs code runs as the ``mlexp`` command in a child process: ``mlexp run --json``, ``mlexp loop try --json``.

The very code path of the CLI, and its stop: a cancelled call sends the child SIGINT, which is
Ctrl-C to ``mlexp`` (the run is recorded ``interrupted`` and the script's whole process group is
put down by the runner's guard); a child still alive after :data:`GRACE_S` is killed with its
group, and the guard, which outlives it, still ends the script's group. Progress comes from the
experiment's ``research_log.jsonl``, read from where it ended when the job started: one
notification per run that ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.runner.process import tie_to_parent

GRACE_S = 15.0
POLL_S = 0.1
ENDED = ("run_completed", "run_failed", "run_timeout", "run_interrupted")
OUTPUT_CHARS = 1_000_000  # a child's stdout is one JSON object; past this, something is wrong


@dataclass
class Job:
    id: str
    kind: str
    experiment: Experiment
    planned: int | None
    proc: subprocess.Popen
    out_path: Path
    err_path: Path
    log_offset: int
    started: list[str] = field(default_factory=list)
    ended: list[dict[str, Any]] = field(default_factory=list)
    cancelled: bool = False
    t0: float = field(default_factory=time.monotonic)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def new_events(self) -> list[dict[str, Any]]:
        """The runs of this job that ended since the last call (from the experiment's event log)."""
        path = self.experiment.log_jsonl
        try:
            with open(path, "rb") as fh:
                fh.seek(self.log_offset)
                chunk = fh.read()
        except OSError:
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.log_offset += len(complete)
        fresh = []
        for line in complete.splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "run_started":
                self.started.append(ev.get("run_id"))
            elif ev.get("event") in ENDED and ev.get("run_id") in self.started:
                brief = {"run_id": ev["run_id"], "status": ev["event"][4:], "duration_s": ev.get("duration_s")}
                self.ended.append(brief)
                fresh.append(brief)
        return fresh

    def output(self) -> tuple[dict[str, Any] | None, str]:
        """The child's JSON answer (None if it printed none) and its last error line."""
        text = self.out_path.read_text(encoding="utf-8", errors="replace")[-OUTPUT_CHARS:].strip()
        err = self.err_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        errors = [line for line in err if line.startswith("mlexp: error: ")]
        last = errors[-1] if errors else (err[-1] if err else "")
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        return data, last

    def state(self) -> dict[str, Any]:
        code = self.proc.poll()
        return {
            "job": self.id,
            "kind": self.kind,
            "experiment": self.experiment.name,
            "state": "running" if code is None else ("cancelled" if self.cancelled else "finished"),
            "exit_code": code,
            "runs_planned": self.planned,
            "runs_ended": len(self.ended),
            "elapsed_s": round(time.monotonic() - self.t0, 1),
        }

    async def stop(self) -> None:
        """Ctrl-C to the child; its process group killed if it is still there after the grace."""
        self.cancelled = True
        if self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + GRACE_S
        while self.proc.poll() is None and time.monotonic() < deadline:
            await anyio.sleep(POLL_S)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


class Jobs:
    """The children this server started, by id; all stopped when the server ends."""

    def __init__(self, root: Path):
        self.root = root
        self.jobs: dict[str, Job] = {}
        self._dir = tempfile.TemporaryDirectory(prefix="mlexp-mcp-")
        self._n = 0

    def spawn(self, kind: str, cli_args: list[str], experiment: Experiment, planned: int | None) -> Job:
        self._n += 1
        job_id = f"{kind}-{self._n}"
        folder = Path(self._dir.name)
        out_path, err_path = folder / f"{job_id}.out", folder / f"{job_id}.err"
        try:
            offset = experiment.log_jsonl.stat().st_size
        except OSError:
            offset = 0
        argv = [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "--root", str(self.root), *cli_args]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,  # a group of its own: the server's terminal signals do not reach it
                    preexec_fn=tie_to_parent,  # and it ends (with its runs) if the server dies
                )
            except OSError as e:
                raise MlexpError(f"could not start mlexp: {e}") from None
        job = Job(job_id, kind, experiment, planned, proc, out_path, err_path, offset)
        self.jobs[job_id] = job
        return job

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            known = ", ".join(self.jobs) or "none"
            raise MlexpError(f"no job {job_id!r} in this session (jobs: {known}); start one with run_start")
        return job

    async def close(self) -> None:
        for job in self.jobs.values():
            if job.running:
                await job.stop()
        self._dir.cleanup()


async def follow(job: Job, report) -> None:
    """Wait for ``job``, calling ``report(job, ended_run)`` for each run that ends; a cancelled wait
    (the client cancelled its call) stops the job before it is passed on."""
    try:
        while job.running:
            for ev in job.new_events():
                await report(job, ev)
            await anyio.sleep(POLL_S)
        for ev in job.new_events():
            await report(job, ev)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await job.stop()
        raise
