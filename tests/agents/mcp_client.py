"""A real MCP session with ``mlexp mcp`` as a subprocess, driven by the SDK's own stdio client."""

from __future__ import annotations

import json
import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

REPO = Path(__file__).resolve().parents[2]
BOUND = 2000


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLEXP_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    return env


@asynccontextmanager
async def session(root: Path, *extra: str):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "jupyter_mlexp.frontdoors.cli", "mcp", "--root", str(root), *extra],
        cwd=str(root),
        env=server_env(),
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            yield s


class Answer:
    def __init__(self, result: Any):
        self.error = bool(result.is_error)
        self.text = result.content[0].text if result.content else ""
        self.data: dict[str, Any] = result.structured_content or {}


async def call(s: ClientSession, tool: str, progress: list | None = None, /, **arguments: Any) -> Answer:
    """One tool call; every answer is checked against the bound, and its text against its structured content."""

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        if progress is not None:
            progress.append((value, total, message))

    result = await s.call_tool(tool, arguments, progress_callback=on_progress)
    a = Answer(result)
    assert len(a.text) <= BOUND, (tool, len(a.text), a.text[:300])
    if not a.error:
        assert json.loads(a.text) == a.data, tool  # the text and the structured content carry the same data
    return a
