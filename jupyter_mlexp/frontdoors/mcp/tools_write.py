"""The tools that write the record or run code; a ``--read-only`` server does not register them.

What writes is the core's own call, as the CLI makes it (``Experiment.register``, ``.ignore``,
``.add_journal``, ``write_report``, ``loop.start``). What runs code is the ``mlexp`` command
itself in a child process (:mod:`.jobs`): the same sweep, the same gate, the same Ctrl-C.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from jupyter_mlexp.core import ignoring, journaling, registration
from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.hypothesis import parse_body
from jupyter_mlexp.core.record.journal import TAGS
from jupyter_mlexp.frontdoors.cli.experiment_cmds import default_experiment, hypothesis_body
from jupyter_mlexp.frontdoors.mcp.answers import answer
from jupyter_mlexp.frontdoors.mcp.jobs import Job, follow
from jupyter_mlexp.frontdoors.mcp.state import State, guarded
from jupyter_mlexp.frontdoors.mcp.tools_read import Limit, Name, Offset, verdict_brief

WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False)
RUN_KEYS = ("run_id", "status", "seed", "params", "primary_metric", "primary_value", "criterion_check", "duration_s")
Seeds = Annotated[list[int] | None, Field(description="one run per seed, e.g. [0, 1, 2]")]
FreshSeeds = Annotated[
    int | None,
    Field(
        ge=1, description="instead of seeds: N seed values this configuration never ran (a confirmation's honest seeds)"
    ),
]
Budget = Annotated[float | None, Field(gt=0, description="seconds per run; past it the run is stopped (timeout)")]
Command = Annotated[list[str] | None, Field(description="a command to run per seed, as a list: ['python', 'train.py']")]
Notebook = Annotated[str | None, Field(description="a notebook inside the workspace (papermill parameters)")]


def _run_brief(r: dict[str, Any]) -> dict[str, Any]:
    out = {k: r.get(k) for k in RUN_KEYS}
    if r.get("error"):
        out["error"] = (r["error"] or {}).get("message", "")
    return out


def job_result(job: Job) -> dict[str, Any]:
    """A finished job's answer: its runs (or the attempt), the verdict after them, and what to do next."""
    data, last_error = job.output()
    if data is None:
        if job.cancelled or job.proc.returncode == 130:
            return {"state": "cancelled", "ended": job.ended, "next": "runs shows them recorded as interrupted"}
        raise MlexpError(last_error or f"mlexp ended with exit code {job.proc.returncode} and no answer")
    if job.kind == "loop_try":
        a = {k: v for k, v in data.items() if k not in ("log_tail", "values", "command")}
        a["log_tail"] = (data.get("log_tail") or "")[-400:]
        return {"attempt": a, "next": "edit the code for the next attempt, then loop_try; loop_status shows the best"}
    out = {
        "mode": data.get("mode"),
        "verdict": verdict_brief(job.experiment),
        "failed": data.get("failed", []),
        "warnings": data.get("warnings", []),
        "runs": [_run_brief(r) for r in data.get("runs", [])],
    }
    if data.get("mode") == "quick":
        out["next"] = "full runs over seeds decide the verdict: run with mode='full' and seeds"
    return out


def _planned(seeds: list[int] | None, grid: list[str] | None, fresh: int | None = None) -> int:
    from jupyter_mlexp.runner.sweep import parse_grid

    points = math.prod(len(v) for v in parse_grid(grid).values()) if grid else 1
    return points * (fresh or len(seeds or [0]))


def run_cli_args(
    st: State,
    exp: Experiment,
    notebook: str | None,
    command: list[str] | None,
    mode: str,
    seeds: list[int] | None,
    grid: list[str] | None,
    params: dict[str, Any] | None,
    budget: float | None,
    stage: str | None,
    fresh_seeds: int | None = None,
) -> list[str]:
    """``mlexp run`` arguments for a tool call, every path checked against the workspace."""
    if bool(notebook) == bool(command):
        raise MlexpError("give either notebook (a .ipynb path) or command (a list like ['python', 'train.py'])")
    _ = exp.hypothesis  # the gate, said before anything starts
    args = ["run", "--json", "--experiment", exp.name, "--full" if mode == "full" else "--quick"]
    if notebook:
        args.insert(1, str(st.workspace.path(notebook, "notebook")))
    if fresh_seeds is not None and seeds:
        raise MlexpError("give either seeds (values) or fresh_seeds (how many seeds never run), not both")
    if fresh_seeds is not None:
        args += ["--seeds", f"fresh:{int(fresh_seeds)}"]  # the same as mlexp run --seeds fresh:N
    elif seeds:
        args += ["--seeds", ",".join(str(int(s)) for s in seeds)]
    for axis in grid or []:
        args += ["--grid", axis]
    for k, v in (params or {}).items():
        args += ["-p", str(k), v if isinstance(v, str) else json.dumps(v)]
    if budget is not None:
        args += ["--budget", repr(float(budget))]
    if stage:
        args += ["--stage", stage]
    if command:
        args += ["--", *st.workspace.command(command)]
    return args


def register(server: MCPServer, st: State) -> None:
    @server.tool(annotations=WRITES)
    @guarded
    def hypothesis_register(
        name: Annotated[str, Field(description="the experiment's name: letters, digits, '_', '-', '.'")],
        statement: Annotated[str, Field(description="the claim, in one or two sentences")],
        success: Annotated[str, Field(description="'METRIC OP VALUE', e.g. 'val_acc >= 0.95'")],
        metrics: Annotated[str, Field(description="comma-separated, the criterion's metric first")],
        failure: str | None = None,
        stage: str = "implementation",
        baseline: Annotated[str | None, Field(description="'NAME=VALUE,...' or 'stage baselines'")] = None,
        treatment: Annotated[list[str] | None, Field(description="configurations the claim is about")] = None,
        seeds: Annotated[str | None, Field(description="seeds per configuration the verdict needs, or '0,1,2'")] = None,
        level: str | None = None,
        expected: str | None = None,
        reason: Annotated[
            str | None, Field(description="why it changed: required once the experiment has runs")
        ] = None,
    ) -> CallToolResult:
        """The gate: register (or change) the hypothesis before any run. A change after runs needs a reason and is
        recorded as a new version with its changes."""
        fields = SimpleNamespace(
            statement=statement,
            success=success,
            metrics=metrics,
            failure=failure,
            stage=stage,
            baseline=baseline,
            treatment=treatment,
            seeds=seeds,
            level=level,
            expected=expected,
        )
        reg = registration.register(Experiment(name), parse_body(hypothesis_body(fields)), reason=reason)
        h = reg.hypothesis
        state = "registered" if reg.created else ("changed" if reg.changed else "unchanged")
        data = {"name": name, "state": state, "version": h.version, "success": h.success, "changes": reg.changes}
        data["next"] = "run with mode='quick' to de-risk, then mode='full' with seeds"
        return answer(data)

    async def _blocking(job: Job, ctx: Context) -> CallToolResult:
        async def report(j: Job, ended: dict[str, Any]) -> None:
            await ctx.report_progress(len(j.ended), j.planned, f"run {ended['run_id']} {ended['status']}")

        await follow(job, report)
        return _finished(job)

    def _finished(job: Job, limit: int = 20, offset: int = 0) -> CallToolResult:
        result = {**job.state(), **job_result(job)}
        if "runs" not in result:
            return answer(result)
        return answer(result, items="runs", limit=limit, offset=offset, tool="run_status", args={"job": job.id})

    @server.tool(annotations=WRITES)
    @guarded
    async def run(
        ctx: Context,
        notebook: Notebook = None,
        command: Command = None,
        experiment: Name = None,
        mode: Literal["quick", "full"] = "quick",
        seeds: Seeds = None,
        grid: Annotated[list[str] | None, Field(description="sweep axes 'NAME=V1,V2' (notebooks)")] = None,
        params: Annotated[dict[str, Any] | None, Field(description="parameters for the notebook or command")] = None,
        budget: Budget = None,
        stage: str | None = None,
        fresh_seeds: FreshSeeds = None,
    ) -> CallToolResult:
        """Run a notebook or a command as quick or full runs (one per seed and grid point) and wait; a progress
        notification per finished run; cancelling the call stops the runs. Refused until a hypothesis is registered.
        For a sweep longer than you can wait, use run_start."""
        exp = default_experiment(experiment)
        args = run_cli_args(st, exp, notebook, command, mode, seeds, grid, params, budget, stage, fresh_seeds)
        job = st.jobs.spawn("run", args, exp, _planned(seeds, grid, fresh_seeds))
        return await _blocking(job, ctx)

    @server.tool(annotations=WRITES)
    @guarded
    async def run_start(
        notebook: Notebook = None,
        command: Command = None,
        experiment: Name = None,
        mode: Literal["quick", "full"] = "quick",
        seeds: Seeds = None,
        grid: Annotated[list[str] | None, Field(description="sweep axes 'NAME=V1,V2' (notebooks)")] = None,
        params: dict[str, Any] | None = None,
        budget: Budget = None,
        stage: str | None = None,
        fresh_seeds: FreshSeeds = None,
    ) -> CallToolResult:
        """Start the same runs as `run` without waiting: returns a job id for run_status and run_cancel."""
        exp = default_experiment(experiment)
        args = run_cli_args(st, exp, notebook, command, mode, seeds, grid, params, budget, stage, fresh_seeds)
        job = st.jobs.spawn("run", args, exp, _planned(seeds, grid, fresh_seeds))
        return answer({**job.state(), "next": f"call run_status(job={job.id!r}); run_cancel stops it"})

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    @guarded
    def run_status(job: str, limit: Limit = 20, offset: Offset = 0) -> CallToolResult:
        """A job started with run_start (or a run's later pages): running or finished, runs ended so far;
        its result once finished."""
        j = st.jobs.get(job)
        j.new_events()
        if j.running:
            return answer({**j.state(), "ended": j.ended[-10:], "next": f"call run_status(job={job!r}) again later"})
        return _finished(j, limit, offset)

    @server.tool(annotations=WRITES)
    @guarded
    async def run_cancel(job: str) -> CallToolResult:
        """Stop a job started with run_start: its runs are recorded interrupted and their processes ended."""
        j = st.jobs.get(job)
        await j.stop()
        j.new_events()
        return answer({**j.state(), "ended": j.ended[-10:]})

    @server.tool(annotations=WRITES)
    @guarded
    def journal_add(
        text: str,
        tags: Annotated[
            list[str] | None, Field(description=f"any of {', '.join(TAGS)}; LESSON also goes to lessons")
        ] = None,
        experiment: Name = None,
    ) -> CallToolResult:
        """Add a journal entry: what looked weird, a hunch, a to-do, a lesson."""
        exp = default_experiment(experiment)
        _ = exp.hypothesis  # the journal belongs to a registered experiment
        journaling.add_entry(exp, text, tags or [])
        return answer({"experiment": exp.name, "added": True, "tags": [t.upper() for t in tags or []]})

    @server.tool(annotations=WRITES)
    @guarded
    def ignore_run(
        run_id: str,
        reason: Annotated[str, Field(description="why the run must not count (required, kept in IGNORED_RUNS.md)")],
        experiment: Name = None,
    ) -> CallToolResult:
        """Exclude a run from every statistic, with a reason; the verdict is judged again without it."""
        exp = default_experiment(experiment)
        ignoring.ignore(exp, run_id, reason)
        return answer({"experiment": exp.name, "ignored": run_id, "reason": reason, "verdict": verdict_brief(exp)})

    @server.tool(annotations=WRITES)
    @guarded
    def report(
        experiment: Name = None,
        baseline: Annotated[str | None, Field(description="the baseline configuration 'KEY=VALUE,...'")] = None,
        force: bool = False,
    ) -> CallToolResult:
        """Build the report notebook from the logged runs; returns its path and the verdict."""
        from jupyter_mlexp.report.build import write_report

        exp = default_experiment(experiment)
        path, note = write_report(exp, baseline=baseline, force=force)
        data = {"experiment": exp.name, "report": st.workspace.relative(path), "note": note}
        return answer({**data, "verdict": verdict_brief(exp)})

    @server.tool(annotations=WRITES)
    @guarded
    def loop_start(
        tag: str,
        experiment: Name = None,
        seeds: Seeds = None,
        budget: Budget = None,
        level: float | None = None,
        min_delta: float | None = None,
        confirm: int = 0,
    ) -> CallToolResult:
        """Start a keep/discard loop: branch autoresearch/TAG in the workspace's git repository, rules fixed now."""
        from jupyter_mlexp.loop import driver as loop

        state = loop.start(
            tag,
            default_experiment(experiment),
            seeds=seeds,
            budget=budget,
            level=level,
            min_delta=min_delta,
            confirm=confirm,
            cwd=st.workspace.root,
        )
        s = state.settings
        keep = ("tag", "branch", "experiment", "metric", "higher_is_better", "seeds", "level", "budget")
        data = {k: getattr(s, k) for k in keep}
        data["next"] = "call loop_try with description='baseline' and the unmodified command"
        return answer(data)

    @server.tool(annotations=WRITES)
    @guarded
    async def loop_try(
        ctx: Context,
        description: Annotated[str, Field(description="what this attempt changes")],
        command: Command = None,
        notebook: Notebook = None,
        seeds: Seeds = None,
        budget: Budget = None,
    ) -> CallToolResult:
        """Commit the working tree's change, run it per seed, and keep or discard it by the loop's test
        (a discarded change is kept under refs/mlexp/attempts, never lost). Waits, with progress."""
        from jupyter_mlexp.loop.session import open_loop

        opened = open_loop(cwd=st.workspace.root)
        if bool(notebook) == bool(command):
            raise MlexpError("give either command (a list like ['python', 'train.py']) or notebook")
        args = ["loop", "try", "--json", "-m", description]
        if seeds:
            args += ["--seeds", ",".join(str(int(s)) for s in seeds)]
        if budget is not None:
            args += ["--budget", repr(float(budget))]
        if notebook:
            args.append(str(st.workspace.path(notebook, "notebook")))
        else:
            args += ["--", *st.workspace.command(command or [])]
        planned = len(seeds or opened.load().settings.seeds)
        job = st.jobs.spawn("loop_try", args, opened.experiment, planned)
        return await _blocking(job, ctx)
