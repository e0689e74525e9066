"""The reading tools: what a reviewer's ``--read-only`` server offers too.

Each is the CLI's own call (``views.status_dict``, ``views.runs_dict``, ``judge_experiment``, the
verdict's arms) with its answer bounded and paged by :mod:`.answers`.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from jupyter_mlexp.core import views
from jupyter_mlexp.core.execution import lifecycle
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.stats.observations import load_observations
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.core.stats.verdict_arms import fmt, group_arms
from jupyter_mlexp.frontdoors.cli.experiment_cmds import default_experiment
from jupyter_mlexp.frontdoors.mcp.answers import answer
from jupyter_mlexp.frontdoors.mcp.state import State, guarded
from jupyter_mlexp.frontdoors.server import stamped

READ = ToolAnnotations(read_only_hint=True)
LOG_TAIL_CHARS = 1200
Name = Annotated[str | None, Field(description="the experiment; default: the only one in the workspace")]
Limit = Annotated[
    int, Field(ge=1, le=1000, description="at most this many items (fewer if the answer would pass its bound)")
]
Offset = Annotated[int, Field(ge=0, description="skip this many items (the answer's page.next says what to ask next)")]


def record(exp: Experiment) -> dict[str, Any]:
    """``views.runs_dict`` and the verdict's dict, read once and kept while the record's stamp holds
    (the REST API's cache): a warm ``runs`` call costs a few stat calls, not 1,000 run.json reads.
    Runs whose process died are ended first, as ``mlexp runs`` does. Shared: copy before changing."""

    def build(infos: list) -> dict[str, Any]:
        judged = judge_experiment(exp).to_dict() if exp.idea_json.exists() else None
        return {"runs": views.runs_dict(exp, infos), "verdict": judged}

    got = stamped.cached_value("mcp-record", exp, build)
    if any(r["status"] == "stale" for r in got["runs"]["runs"]):
        lifecycle.end_stale_runs(exp)
        got = stamped.cached_value("mcp-record", exp, build)
    return got


def verdict_brief(exp: Experiment) -> dict[str, Any] | None:
    """The decision and its numbers, first: what every answer about runs carries."""
    v = record(exp)["verdict"]
    if v is None:
        return None
    keys = ("decision", "reason", "criterion", "mode", "n_per_arm", "intervals", "would_decide", "quick_suggests")
    return {k: v[k] for k in keys}


def arms(exp: Experiment, mode: str | None) -> list[dict[str, Any]]:
    """Counted runs grouped by configuration, mean ± sd over seeds: the verdict's own grouping."""

    metric = exp.hypothesis.primary_metric
    obs = load_observations(exp)
    out = []
    for m in (mode,) if mode else ("quick", "full"):
        for a in group_arms(obs, m, metric):
            out.append(
                {
                    "configuration": a.label,
                    "mode": m,
                    "metric": metric,
                    "n": a.n,
                    "seeds": a.seeds,
                    "mean": a.mean,
                    "sd": a.sd,
                    "spread": fmt(a),
                }
            )
    return out


def log_tail(folder, chars: int) -> dict[str, Any] | None:
    for name in ("stdout.txt", "run.log"):
        path = folder / name
        try:
            with open(path, "rb") as fh:
                size = fh.seek(0, 2)
                fh.seek(max(0, size - chars))
                text = fh.read().decode("utf-8", errors="replace")
        except OSError:
            continue
        if size:
            return {"file": name, "bytes": size, "tail": text if size <= chars else "…" + text}
    return None


def register(server: MCPServer, st: State) -> None:
    @server.tool(annotations=READ)
    @guarded
    def hypothesis_show(experiment: Name = None) -> CallToolResult:
        """The registered hypothesis (claim, success criterion, metrics, version) and its earlier versions."""
        exp = default_experiment(experiment)
        exp.require()
        d = views.status_dict(exp)
        history = [{"version": h.get("version"), "changes": h.get("changes")} for h in d["history"]]
        data = {"name": exp.name, "hypothesis": d["hypothesis"], "history": history}
        return answer(data, items="history", tool="hypothesis_show", args={"experiment": experiment})

    @server.tool(annotations=READ)
    @guarded
    def runs(
        experiment: Name = None,
        mode: Annotated[str | None, Field(description="quick or full")] = None,
        status: Annotated[
            str | None, Field(description="completed, failed, timeout, interrupted, running, stale")
        ] = None,
        config: Annotated[str | None, Field(description="keep runs whose configuration label contains this")] = None,
        include_ignored: bool = True,
        group_by_config: Annotated[
            bool, Field(description="one row per configuration: n, mean ± sd over its counted seeds")
        ] = False,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> CallToolResult:
        """Runs of an experiment, newest last (as `mlexp runs --json`), or grouped by configuration; the verdict first."""
        exp = default_experiment(experiment)
        exp.require()
        args = {"experiment": experiment, "mode": mode, "status": status, "config": config, "limit": limit}
        if not include_ignored:
            args["include_ignored"] = False
        if group_by_config:
            rows = [a for a in arms(exp, mode) if not config or config in a["configuration"]]
            args["group_by_config"] = True
            data = {"experiment": exp.name, "verdict": verdict_brief(exp), "groups": rows}
            return answer(data, items="groups", limit=limit, offset=offset, tool="runs", args=args)
        d = record(exp)["runs"]
        rows = [
            r
            for r in d["runs"]
            if (not mode or r["mode"] == mode)
            and (not status or r["status"] == status)
            and (not config or config in r["config"])
            and (include_ignored or not r["ignored"])
        ]
        data = {"experiment": exp.name, "primary_metric": d["primary_metric"], "verdict": verdict_brief(exp)}
        return answer({**data, "runs": rows}, items="runs", limit=limit, offset=offset, tool="runs", args=args)

    @server.tool(annotations=READ)
    @guarded
    def run_show(
        run_id: str,
        experiment: Name = None,
        tail_chars: Annotated[int, Field(ge=0, le=LOG_TAIL_CHARS)] = 600,
    ) -> CallToolResult:
        """One run: parameters, metrics, status, error, provenance and a bounded tail of its log (never the whole log)."""
        exp = default_experiment(experiment)
        info = exp.get_run(run_id)
        r = info.record
        data = {
            "run": views.runs_dict(exp, [info])["runs"][0],
            "metrics": r.metrics_summary,
            "error": r.error,
            "provenance": {
                "git_commit": r.git.commit if r.git else None,
                "git_dirty": r.git.dirty if r.git else None,
                "python": r.environment.get("python"),
                "command": r.command,
                "hypothesis_version": r.hypothesis_version,
            },
            "log": log_tail(info.path, tail_chars),
            "files": st.workspace.relative(info.path),
        }
        return answer(data)

    @server.tool(annotations=READ)
    @guarded
    def verdict(experiment: Name = None, limit: Limit = 5, offset: Offset = 0) -> CallToolResult:
        """The experiment's one verdict (supported / not supported / inconclusive), its reasons, n and intervals per
        configuration, and what would decide it (the same as `mlexp status --json`)."""
        exp = default_experiment(experiment)
        _ = exp.hypothesis
        v = dict(record(exp)["verdict"])
        v["candidates"] = [{k: c[k] for k in c if k not in ("sources", "values")} for c in v["candidates"]]
        v.pop("sources", None)  # the file:line citations are in the report; here they would crowd the numbers out
        args = {"experiment": experiment, "limit": limit}
        return answer(
            {"experiment": exp.name, **v}, items="candidates", limit=limit, offset=offset, tool="verdict", args=args
        )

    @server.tool(annotations=READ)
    @guarded
    def journal(
        experiment: Name = None,
        tag: Annotated[str | None, Field(description="only entries with this tag, e.g. WEIRD")] = None,
        limit: Limit = 10,
        offset: Offset = 0,
    ) -> CallToolResult:
        """Journal entries, newest first."""
        exp = default_experiment(experiment)
        _ = exp.hypothesis
        read = exp.journal()
        want = tag.upper().strip("[]") if tag else None
        rows = [
            {"time": e.timestamp, "tags": e.tags, "text": e.text, "line": e.line}
            for e in reversed(read.entries)
            if not want or want in e.tags
        ]
        args = {"experiment": experiment, "tag": tag, "limit": limit}
        data = {"experiment": exp.name, "warnings": read.warnings[:3], "entries": rows}
        return answer(data, items="entries", limit=limit, offset=offset, tool="journal", args=args)

    @server.tool(annotations=READ)
    @guarded
    def loop_status(limit: Limit = 10, offset: Offset = 0) -> CallToolResult:
        """The keep/discard loop on the checked-out branch: best so far, counts, noise floor, attempts (newest first)."""
        from jupyter_mlexp.loop import driver as loop
        from jupyter_mlexp.loop.session import open_loop

        out = loop.status(open_loop(cwd=st.workspace.root), figure=False)
        out["record"] = st.workspace.relative(out["record"])
        out["attempts_list"] = list(reversed(out["attempts_list"]))
        return answer(out, items="attempts_list", limit=limit, offset=offset, tool="loop_status", args={"limit": limit})
