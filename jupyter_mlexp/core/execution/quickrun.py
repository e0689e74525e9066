"""Run a block of code as one run of an experiment (what ``%%run_quick`` does).

Framework-free: the caller passes ``execute``, a function that runs the code
and returns the exception it raised (or None). The magic passes one that runs
the cell through IPython; tests and other front doors can pass any callable.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from jupyter_mlexp.core.errors import RunTimeoutError
from jupyter_mlexp.core.execution import lifecycle, proctree, provenance, tracking
from jupyter_mlexp.core.execution.budget import overran, time_budget
from jupyter_mlexp.core.execution.lifecycle import RunResult
from jupyter_mlexp.core.execution.run_folder import Run, error_record
from jupyter_mlexp.core.execution.seeding import seed_everything
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.assignments import AssignmentError, parse_assignments, split_top_level
from jupyter_mlexp.core.record.hypothesis import Hypothesis
from jupyter_mlexp.core.record.parameters import check_override_names, seen_values

DEFAULT_BUDGET = 60.0
_MISSING = object()


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
    notebook: str | None = None,
    parameters: Sequence[str] = (),
    code: str | None = None,
) -> RunResult:
    """Run ``execute`` as a quick run (or full, under the batch runner or with ``full=True``).

    The gate: raises :class:`~jupyter_mlexp.core.errors.NoHypothesisError` before anything
    runs when the experiment has no hypothesis. ``seed`` given: the cell sees it as its
    ``seed`` variable; not given: the namespace's integer ``seed`` (else 0) is the run's seed. Under the
    batch runner the runner's seed wins (like the overrides in full mode, an explicit ``seed`` is
    ignored, with a one-line note): the record, the cell's ``seed`` and the RNG all say the runner's.

    ``parameters`` names the notebook's parameters (:mod:`.parameters`): the run records the values
    ``namespace`` gives them, with the overrides on top, as its configuration. ``code`` is the
    cell's Python source: an override that is neither a parameter nor a name it mentions is an error.
    """
    hyp = experiment.hypothesis  # the gate
    batch_run, batch_mode = tracking.batch_context()
    mode = "full" if full or batch_mode == "full" else "quick"
    applied = dict(overrides or {}) if mode == "quick" else {}
    # no parameters cell found (a plain IPython shell): a variable already set is taken as one
    check_override_names(applied, parameters or list(namespace or ()), code)
    if batch_run is not None:
        return _add_to_batch_run(batch_run, mode, execute, applied, seed, budget, namespace, hyp)
    seen = dict(applied)  # what the cell sees: the overrides, and the seed when one is given
    if seed is None:
        seed = _namespace_seed(namespace)
    else:
        seen["seed"] = seed
    named: dict[str, Any] = {"notebook": notebook} if notebook else {}
    # the configuration: what the code sees for the notebook's parameters, the overrides on top
    config = {k: v for k, v in seen_values(namespace, parameters).items() if k != "seed"}
    config.update(applied)
    run = lifecycle.start(
        experiment,
        mode,
        source="%%run_quick cell",
        seed=seed,
        params=config,
        budget=budget,
        command=command,
        data=data or [],
        overrides=applied,
        workdir=os.getcwd(),
        **named,
    )
    error, captured, _ = _execute(run, execute, seen, seed, budget, namespace)
    if captured:
        with open(run.path / "stdout.txt", "a", encoding="utf-8") as fh:
            fh.write(captured)
    description = command.splitlines()[0][:80] if command else ""
    run.manifest["environment"] = provenance.environment()  # with what the cell imported
    return lifecycle.finish(
        experiment,
        run,
        lifecycle.status_of(error),
        error=error,
        printed=captured,
        all_printed=True,  # a cell's printed ``name: value`` lines all count, not only the hypothesis'
        peak_memory=lifecycle.peak_memory_gb(),
        description=description,
    )


def _namespace_seed(namespace: dict | None) -> int:
    value = (namespace or {}).get("seed")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _execute(
    run: Run,
    execute: Callable[[], BaseException | None],
    applied: dict,
    seed: int,
    budget: float | None,
    namespace: dict | None,
) -> tuple[BaseException | None, str, float]:
    """Run the code with the run active, stdout teed, overrides set and the budget armed."""
    seed_everything(seed)
    tee = _Tee(sys.stdout)
    error: BaseException | None = None
    before = proctree.snapshot() if budget and budget > 0 else None
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
    elapsed = time.perf_counter() - started
    error = overran(budget, elapsed, error)
    if before is not None:
        try:
            if isinstance(error, RunTimeoutError):
                # the budget ends what the cell started too: processes (wherever their group or
                # session), and it names the threads it cannot end
                _put_down(run, before)
        finally:
            proctree.release(before)
    return error, tee.buffer_.getvalue(), elapsed


def _put_down(run: Run, before: proctree.Snapshot) -> None:
    left = proctree.put_down_new(before)
    if left["killed"] or left["threads_alive"] or left.get("left_running"):
        run.manifest["budget_ended"] = left
        if left["threads_alive"]:
            run.warn("threads still running after the budget: " + ", ".join(left["threads_alive"][:10]))
        if left.get("left_running"):
            run.warn(
                "processes still running after the budget: "
                + ", ".join(f"{p['pid']} {p['name']}" for p in left["left_running"][:10])
            )


def _add_to_batch_run(
    run: Run,
    mode: str,
    execute: Callable[[], BaseException | None],
    applied: dict,
    seed: int | None,
    budget: float | None,
    namespace: dict | None,
    hyp: Hypothesis,
) -> RunResult:
    """A ``%%run_quick`` cell inside a notebook the batch runner executes adds to the runner's run;
    the runner ends that run (its life cycle), so this only records the cell's progress."""
    if mode == "full":
        budget = None  # the runner's whole-notebook budget governs full runs
    runner_seed = run.record.seed
    runner_seed = runner_seed if isinstance(runner_seed, int) and not isinstance(runner_seed, bool) else 0
    seen = dict(applied)
    notes = []
    if seed is not None:  # ignored like the overrides: the record, the cell's `seed` and the RNG say the runner's
        seen["seed"] = runner_seed
        if seed != runner_seed:
            notes.append(f"--seed {seed} ignored under the batch runner: this run's seed is {runner_seed}")
            run.warn(notes[-1])
    if applied:
        run.manifest.setdefault("overrides", {}).update(applied)
    counts_before = {k: v.get("n", 0) + v.get("nonfinite", 0) for k, v in run.summary.items()}
    error, captured, duration = _execute(run, execute, seen, runner_seed, budget, namespace)
    # A metric this cell logged through the API is not counted again from its printed line.
    logged_by_api = {k for k, v in run.summary.items() if v.get("n", 0) + v.get("nonfinite", 0) != counts_before.get(k)}
    run.log_printed_metrics(captured, skip=logged_by_api)
    if captured:
        with open(run.path / "stdout.txt", "a", encoding="utf-8") as fh:
            fh.write(captured)
    status = lifecycle.status_of(error)
    run.record_criterion_check(hyp.success_criterion)
    message = None if error is None else f"{type(error).__name__}: {error}"
    run.manifest.setdefault("cells", []).append({"status": status, "duration_s": round(duration, 4), "error": message})
    if error is not None:
        run.manifest["cell_error"] = error_record(error)
    run.save_progress()
    result = lifecycle.result_of(run, hyp, batch=True)
    result.notes = notes
    result.mode, result.status, result.duration_s = mode, status, duration
    result.error = None if error is None else {"name": type(error).__name__, "message": message}
    return result


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` words to a dict, by the one grammar of :mod:`.assignments`. The words are
    joined and split again outside quotes and brackets, so ``name='a b'`` and ``x=[1, 2]`` are
    one value each however the magic's line was tokenized."""
    try:
        return parse_assignments(split_top_level(" ".join(items), " "))
    except AssignmentError as err:
        raise AssignmentError(f"override {err}") from None
