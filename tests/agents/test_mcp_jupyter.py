"""The agents' tools inside Jupyter: a real ``jupyter server`` with the extension, reached with the
MCP SDK's streamable-HTTP client at ``<base_url>/mlexp/mcp``, with and without the server's token."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_client import REPO

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyter(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLEXP_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / ".jupyter-config")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--allow-root",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--port-retries=0",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={tmp_path}",
            "--ServerApp.base_url=/user/alice/",
            '--ServerApp.jpserver_extensions={"jupyter_mlexp": True}',
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/user/alice/api/status", headers={"Authorization": f"token {token}"})
            if conn.getresponse().status == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "jupyter server did not start"
        time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/user/alice/mlexp/mcp", token, tmp_path
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_the_tools_inside_a_running_jupyter_server_need_its_token(jupyter):
    url, token, root = jupyter

    async def with_token() -> None:
        client = httpx2.AsyncClient(headers={"Authorization": f"token {token}"}, timeout=60)
        async with client, streamable_http_client(url, http_client=client) as (read, write):
            async with ClientSession(read, write) as s:
                await s.initialize()
                names = {t.name for t in (await s.list_tools()).tools}
                assert {"hypothesis_register", "run", "runs", "verdict"} <= names
                reg = await s.call_tool(
                    "hypothesis_register",
                    {"name": "lab", "statement": "It works in the Lab.", "success": "acc >= 0.5", "metrics": "acc"},
                )
                assert not reg.is_error, reg.content
                refused = await s.call_tool("run", {"command": [sys.executable, "/etc/hostname"]})
                assert refused.is_error and "outside the workspace" in refused.content[0].text

    anyio.run(with_token)
    assert (root / "experiments" / "lab" / "idea.json").exists()  # the server's root, as the sidebar reads it

    # without the token: refused by Jupyter before any tool runs
    conn = http.client.HTTPConnection(url.split("/")[2], timeout=10)
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
    conn.request("POST", "/user/alice/mlexp/mcp", body=body, headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 403
