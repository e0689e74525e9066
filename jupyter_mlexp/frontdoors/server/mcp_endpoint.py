"""The agents' tools inside Jupyter: ``mlexp mcp``'s server over streamable HTTP at ``<base_url>/mlexp/mcp``.

Behind the Jupyter server's own authentication (its token or login, as every ``/mlexp/api`` route),
not on a port of its own. The MCP server is the one ``mlexp mcp`` builds
(:func:`jupyter_mlexp.frontdoors.mcp.server.build`) on the server's workspace root, served
stateless with JSON answers: each POST is one exchange, so tornado hands the request to the
SDK's session manager as one ASGI call. Progress notifications need a stream and are not sent
here; a long sweep is followed with ``run_start`` / ``run_status``. Needs the ``agents`` extra;
without it the route answers 404 with the install line.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler

from jupyter_mlexp.frontdoors.mcp.server import build
from jupyter_mlexp.frontdoors.server.record_views import workspace_root

_SERVERS: dict[Path, Any] = {}


async def _manager(root: Path) -> Any:
    """The session manager of the MCP server for ``root``, running (built on first use)."""
    kept = _SERVERS.get(root)
    if kept is None:
        from mcp.server.transport_security import TransportSecuritySettings

        server, _ = build(root)
        # Host/Origin checks are for servers that have no authentication; this route has Jupyter's
        server.streamable_http_app(
            streamable_http_path="/",
            json_response=True,
            stateless_http=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        ready = asyncio.Event()

        async def hold() -> None:
            async with server.session_manager.run():
                ready.set()
                await asyncio.Event().wait()  # for the server's lifetime

        kept = _SERVERS[root] = (server, ready, asyncio.ensure_future(hold()))
    await kept[1].wait()
    return kept[0].session_manager


class McpHandler(APIHandler):
    """One MCP exchange per request, handed to the SDK as an ASGI call."""

    @property
    def root(self) -> Path:

        return workspace_root(self.settings.get("server_root_dir") or ".")

    async def _exchange(self) -> None:
        try:
            manager = await _manager(self.root)
        except ImportError:
            raise tornado.web.HTTPError(404, "the MCP endpoint needs: pip install 'jupyter-mlexp[agents]'") from None
        req = self.request
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": req.method,
            "scheme": req.protocol,
            "path": "/",
            "raw_path": b"/",
            "query_string": (req.query or "").encode(),
            "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in req.headers.get_all()],
            "client": (req.remote_ip, 0),
            "server": ("127.0.0.1", 0),
        }
        body, sent = req.body or b"", False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # no more body: a disconnect is never reported here
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.set_status(message["status"])
                self.clear_header("Content-Type")
                for k, v in message.get("headers", []):
                    self.add_header(k.decode("latin-1"), v.decode("latin-1"))
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    self.write(message["body"])
                if message.get("more_body"):
                    await self.flush()

        await manager.handle_request(scope, receive, send)
        self.finish()

    @tornado.web.authenticated
    async def post(self) -> None:
        await self._exchange()

    @tornado.web.authenticated
    async def get(self) -> None:
        await self._exchange()

    @tornado.web.authenticated
    async def delete(self) -> None:
        await self._exchange()
