"""``mlexp mcp``: the server, its resources and its prompt, over stdio.

``build(root, read_only=...)`` makes the server (tests and the benchmark use it in-process too);
``serve`` runs it until the client closes stdin, then stops every job it started.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.workspace import experiments_dir
from jupyter_mlexp.frontdoors.mcp import answers, tools_read, tools_write
from jupyter_mlexp.frontdoors.mcp.confine import Workspace
from jupyter_mlexp.frontdoors.mcp.jobs import Jobs
from jupyter_mlexp.frontdoors.mcp.protocol import PROTOCOL
from jupyter_mlexp.frontdoors.mcp.state import State

RESOURCE_CHARS = 200_000  # a resource is read by the client application; still not unbounded


def _text(path: Path, missing: str) -> str:
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - RESOURCE_CHARS))
            text = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return missing
    except OSError as err:
        raise ResourceError(f"{path.name} cannot be read: {err.strerror}") from None
    return text if size <= RESOURCE_CHARS else f"(last {RESOURCE_CHARS} bytes of {size})\n" + text


def _experiment(name: str) -> Experiment:
    try:
        return Experiment(name).require()
    except MlexpError as err:
        raise ResourceError(answers.next_step(str(err))) from None


def build(root: str | os.PathLike, read_only: bool = False) -> tuple[MCPServer, State]:
    workspace = Workspace(root)
    workspace.pin()
    st = State(workspace, Jobs(workspace.root), read_only)
    server = MCPServer("mlexp", instructions=PROTOCOL)
    tools_read.register(server, st)
    if not read_only:
        tools_write.register(server, st)

    @server.resource("mlexp://experiments/{name}/hypothesis", mime_type="text/markdown")
    def hypothesis(name: str) -> str:
        """The registered hypothesis (idea.md)."""
        return _text(_experiment(name).idea_md, "(no hypothesis registered)")

    @server.resource("mlexp://experiments/{name}/journal", mime_type="text/markdown")
    def journal(name: str) -> str:
        """The experiment's journal (JOURNAL.md)."""
        return _text(_experiment(name).journal_md, "(no journal entries)")

    @server.resource("mlexp://experiments/{name}/results.tsv", mime_type="text/tab-separated-values")
    def results(name: str) -> str:
        """One row per finished run: run id, commit, primary metric, memory, status, description."""
        return _text(_experiment(name).results_tsv, "")

    @server.resource("mlexp://lessons", mime_type="text/markdown")
    def lessons() -> str:
        """Lessons learned across experiments (experiments/lessons.md)."""
        return _text(experiments_dir() / "lessons.md", "(no lessons yet)")

    @server.prompt()
    def protocol() -> str:
        """The protocol an agent is held to when it runs experiments with these tools."""
        return PROTOCOL

    return server, st


async def serve(server: MCPServer, st: State) -> None:
    try:
        await server.run_stdio_async()
    finally:
        with anyio.CancelScope(shield=True):
            await st.jobs.close()


def main(root: str | os.PathLike, read_only: bool = False, max_chars: int | None = None) -> int:
    if max_chars:
        answers.MAX_CHARS = max_chars
    server, st = build(root, read_only=read_only)
    anyio.run(serve, server, st)
    return 0
