"""Run a command (a training script) as runs of an experiment: ``mlexp run -- uv run train.py``.

The command runs in its own process group, which a guard puts down (SIGTERM, then
SIGKILL after a grace period) when the run ends or this process dies, with the run named in its environment (``MLEXP_RUN_DIR``, ``MLEXP_MODE``, ``MLEXP_EXPERIMENT``,
``MLEXP_ROOT``, ``MLEXP_SEED``, ``MLEXP_PARAMS`` as JSON), so
``import jupyter_mlexp as mlexp; mlexp.log_metric(...)`` inside it writes into
that run. Its output is shown as it comes, kept in ``stdout.txt``, and
``name: value`` lines count for the hypothesis' metrics it did not log
through the API. Its output goes straight into the run's ``stdout.txt`` (a
killed ``mlexp`` loses none of it) and is echoed from there. A command past
``budget`` is stopped (SIGTERM, then SIGKILL, to its whole process group) and
recorded as ``timeout``; a non-zero exit is ``failed`` with the exit code
and the last lines of output; Ctrl-C marks the run ``interrupted``.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.execution import lifecycle, provenance
from jupyter_mlexp.core.execution.lifecycle import RunResult
from jupyter_mlexp.core.execution.printed import PrintedMetrics
from jupyter_mlexp.core.execution.run_folder import MODES
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.runner.process import (
    Command,
    Guard,
    HeldCtrlC,
    adopt_orphans,
    children_now,
    exit_waiter,
    put_down_leftovers,
    release_orphans,
    stop,
)
from jupyter_mlexp.runner.sweep import expand

TAIL_LINES = 40
TAIL_LINE_CHARS = 4000  # of each kept line: a line without end (a progress bar) is not kept whole
CHUNK = 1 << 20  # the output is read a MiB at a time ...
CHUNKS_PER_POLL = 16  # ... and the supervision loop (budget, memory) runs at least every 16 MiB
# between reads of the output: while it flows (the last piece is parsed after the exit), and at most when quiet
POLL_S = (0.005, 0.1)
SAMPLE_S = 0.05  # between reads of the command's memory high-water mark


class _Quiet(io.StringIO):
    """Writes nowhere: a command's output stays in its run's ``stdout.txt`` only."""

    def write(self, text: str) -> int:
        return len(text)


QUIET: TextIO = _Quiet()  # run_script(echo=QUIET): nothing echoed (mlexp run --json, the loop, batch arms)


class ScriptInterrupted(KeyboardInterrupt):
    def __init__(self, runs: list[RunResult]):
        super().__init__("interrupted")
        self.runs = runs


def run_script(
    command: Sequence[str],
    experiment: Experiment,
    *,
    mode: str = "quick",
    seeds: Sequence[int] = (0,),
    params: Mapping[str, Any] | None = None,
    budget: float | None = None,
    stage: str | None = None,
    data: Sequence[str] = (),
    cwd: str | os.PathLike | None = None,
    echo: TextIO | None = None,
    grid: Mapping[str, list[Any]] | None = None,
    substitute: bool = False,
) -> list[RunResult]:
    """Run ``command`` once per point of ``grid`` and per seed, each as one run of ``experiment``;
    returns the runs in order.

    The values reach the command through ``MLEXP_PARAMS``; with ``substitute`` also through its
    words, ``{name}`` replaced by the value (``{{`` is a literal brace). A run's configuration is its
    values and the command's arguments (``params["args"]``, placeholders unfilled), so
    ``train.py 0.1`` and ``train.py 0.9`` are two configurations."""
    if not command:
        raise MlexpError("no command given after '--' (e.g. mlexp run --experiment NAME -- python train.py)")
    if mode not in MODES:
        raise MlexpError(f"unknown mode {mode!r}")
    if budget is not None and budget <= 0:
        raise MlexpError(f"--budget must be a positive number of seconds, got {budget:g}")
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        raise MlexpError(f"command not found: {command[0]!r}")
    specs = expand(mode, params, grid, [int(s) for s in seeds], {})
    argvs = [fill_placeholders(command, spec.params) if substitute else list(command) for spec in specs]
    _ = experiment.hypothesis  # the gate, before any run folder exists
    lifecycle.end_stale_runs(experiment)  # runs a killed runner left behind, ended from their files
    out = echo if echo is not None else sys.stdout
    args = {"args": shlex.join(command[1:])} if len(command) > 1 else {}
    done: list[RunResult] = []
    for spec, argv in zip(specs, argvs):
        try:
            done.append(_one(argv, experiment, mode, spec.seed, spec.params, budget, stage, data, cwd, out, args))
        except _Interrupted as stop:
            done.append(stop.result)
            raise ScriptInterrupted(done) from None
    return done


def fill_placeholders(command: Sequence[str], values: Mapping[str, Any]) -> list[str]:
    """``["--alpha", "{alpha}"]`` with ``{"alpha": 0.1}`` -> ``["--alpha", "0.1"]``; ``{{`` is ``{``."""
    out = []
    for word in command:
        try:
            out.append(word.format_map(dict(values)))
        except KeyError as err:
            raise MlexpError(
                f"the command's {word!r} names {{{err.args[0]}}}, which no -p or --grid gives "
                "(write {{ and }} for a literal brace)"
            ) from None
        except (ValueError, IndexError, AttributeError, TypeError) as err:
            raise MlexpError(f"the command's {word!r}: {err} (write {{{{ and }}}} for a literal brace)") from None
    return out


class _Interrupted(KeyboardInterrupt):
    def __init__(self, result: RunResult):
        super().__init__("interrupted")
        self.result = result


def _one(
    command: Sequence[str],
    exp: Experiment,
    mode: str,
    seed: int,
    params: dict,
    budget: float | None,
    stage: str | None,
    data: Sequence[str],
    cwd: str | os.PathLike | None,
    out: TextIO,
    args: dict[str, str] | None = None,
) -> RunResult:
    named: dict[str, Any] = {"stage": stage} if stage else {}  # else the hypothesis' stage
    with Guard() as guard:
        run = lifecycle.start(
            exp,
            mode,
            source="script",
            seed=seed,
            params={**params, **(args or {})},  # the configuration: the values and the command's arguments
            environment=_command_environment(command[0]),
            workdir=cwd if cwd is not None else os.getcwd(),
            budget=budget,
            command=shlex.join(command),
            data=data,
            guard=guard.identity(),
            **named,
        )
        run.stop_log(handover="handed to the command's process")  # it and the end below write run.log
        stdout_path = run.path / "stdout.txt"
        # following from before the start: a quick command can print everything before this process reads
        follower = _Follower(stdout_path, out)
        adopt_orphans()  # a grandchild that outlives the command becomes ours to find and end
        try:
            known = children_now() | {guard.proc.pid}
            with HeldCtrlC() as held:  # a Ctrl-C while the command starts waits until it can be stopped
                try:
                    proc = _spawn(command, exp, run, mode, seed, params, cwd, stdout_path)
                except BaseException:
                    follower.close()
                    raise
                guard.arm(proc.pid)
                status, error, code = _supervise(proc, follower, budget, held)
            # The run ends when its command does: what it left running (holding its output, say) is put down.
            left = put_down_leftovers(proc.pid, known | {proc.pid})
        finally:
            release_orphans()  # only for the run: this process may live on (a server, a test process)
        follower.drain()
    extra: dict[str, Any] = {}
    if left:
        extra["left_running"] = {
            "killed": [e["pid"] for e in left],
            "processes": left,
            "note": "still running after the command exited: ended by the runner",
        }
    if status == "completed" and code != 0:
        status = "failed"
        error = {
            "name": "ExitCode",
            "message": f"{command[0]} exited with code {code}",
            "exit_code": code,
            "traceback": "".join(follower.tail)[-4000:],
        }
    # The command's own process merged its metrics into run.json, unless it was killed (a signal, a
    # budget's SIGTERM) before its exit: then the summary is rebuilt from what metrics.jsonl holds.
    run.reload(rebuild_summary=code is None or code < 0)
    result = lifecycle.finish(
        exp,
        run,
        status,
        error=error,
        printed=follower.printed_metrics(),
        peak_memory=proc.peak_memory_gb(),
        exit_code=code,
        **extra,
    )
    if status == "interrupted":
        raise _Interrupted(result)
    return result


def _command_environment(program: str) -> dict:
    """The environment of the command's interpreter, not this process's; a command that is not a
    Python interpreter records this machine's facts and no packages (one that imports jupyter_mlexp
    writes its own at its end)."""
    found = provenance.interpreter_environment(program)
    if found is not None:
        return found
    env = {k: v for k, v in provenance.environment().items() if k not in ("python", "executable")}
    return {**env, "packages": {}, "packages_sha256": None, "packages_count": None, "program": program}


def _spawn(command, exp: Experiment, run, mode: str, seed: int, params: dict, cwd, stdout_path: Path) -> Command:
    """Start the command, its output straight into ``stdout.txt``; a command that cannot start ends
    its run ``failed`` and is a one-line error."""
    with open(stdout_path, "ab") as sink:
        lifecycle.reset_peak_memory()  # see Command: what the command's memory figure starts from
        try:
            proc = Command(
                command,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=_environment(exp, run, mode, seed, params),
                cwd=cwd,
                start_new_session=True,  # a process group of its own: the budget's and the guard's killpg
            )
        except OSError as err:
            run.reload()
            lifecycle.finish(exp, run, "failed", error={"name": type(err).__name__, "message": str(err)})
            raise MlexpError(f"could not start {command[0]!r}: {err}") from None
    proc.floor_gb = lifecycle.peak_memory_gb()
    return proc


def _environment(exp: Experiment, run, mode: str, seed: int, params: dict) -> dict[str, str]:
    """What the command learns of its run: where to log, its seed and parameters."""
    env = dict(os.environ)
    env.update(
        MLEXP_ROOT=str(exp.base.parent),
        MLEXP_RUN_DIR=str(run.path),
        MLEXP_MODE=mode,
        MLEXP_EXPERIMENT=exp.name,
        MLEXP_SEED=str(seed),
        MLEXP_PARAMS=json.dumps(params),
        PYTHONUNBUFFERED="1",
    )
    return env


def _supervise(
    proc: Command, follower: _Follower, budget: float | None, held: HeldCtrlC
) -> tuple[str, dict[str, Any] | None, int | None]:
    """Wait for the command, echoing its output, until it ends, its budget is spent or Ctrl-C:
    (status, error, exit code)."""
    status, error = "completed", None
    deadline = None if not budget else time.monotonic() + budget
    ended, pause, sampled = exit_waiter(proc), POLL_S[0], 0.0
    try:
        held.release()  # a Ctrl-C that came while the command started is delivered here
        while proc.reap() is None:
            pause = POLL_S[0] if follower.poll() else min(pause * 2, POLL_S[1])
            if time.monotonic() - sampled > SAMPLE_S:
                proc.sample_memory()
                sampled = time.monotonic()
            if deadline is not None and time.monotonic() > deadline:
                stop(proc, ended)
                status = "timeout"
                error = {"name": "RunTimeoutError", "message": f"time budget of {budget:g} s spent"}
                break
            ended(pause)
    except KeyboardInterrupt:
        stop(proc, ended)
        status, error = "interrupted", {"name": "KeyboardInterrupt", "message": "interrupted by Ctrl-C"}
    code = proc.reap()
    follower.drain()
    return status, error, code


class _Follower:
    """Echo what the command appends to ``stdout.txt``, keep its last lines, and parse its printed
    metrics as they come (this process works on them while the command runs)."""

    def __init__(self, path: Path, out: TextIO):
        self.path, self.out = path, out
        with open(path, "ab"):  # created here, before the command starts writing to it
            pass
        self._fh = open(path, "rb", buffering=0)  # kept open: each poll reads what was appended since
        self._fh.seek(0, os.SEEK_END)
        self.tail: list[str] = []
        self.printed = PrintedMetrics(spool=path.parent)  # metrics.jsonl lines written while the command runs
        self._partial = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character cut between reads

    def poll(self) -> bool:
        """Take in what the command wrote since the last call, a bounded piece at a time (this
        process's memory does not grow with the output); whether there was anything."""
        got = False
        for _ in range(CHUNKS_PER_POLL):
            chunk = self._fh.read(CHUNK)
            if not chunk:
                break
            got = True
            self._take(chunk)
        return got

    def drain(self) -> None:
        """Take in everything written so far."""
        while self.poll():
            pass

    def _take(self, chunk: bytes) -> None:
        text = self._decoder.decode(chunk)
        self.out.write(text)
        self.printed.feed(text)
        lines = (self._partial + text).rsplit("\n", TAIL_LINES + 1)  # only the last lines are kept
        self._partial = lines.pop()[-TAIL_LINE_CHARS:]
        self.tail = (self.tail + [line[-TAIL_LINE_CHARS:] + "\n" for line in lines[-TAIL_LINES:]])[-TAIL_LINES:]

    def close(self) -> None:
        """Stop following without a result (the command did not start)."""
        self._fh.close()
        self.printed.discard()

    def printed_metrics(self) -> PrintedMetrics:
        self._fh.close()
        rest = self._decoder.decode(b"", final=True)
        self.out.write(rest)
        self.printed.feed(rest)
        self.printed.close()
        return self.printed
