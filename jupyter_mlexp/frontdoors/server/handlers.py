"""HTTP adapters over :mod:`jupyter_mlexp.frontdoors.server.record_views`, mounted under ``<base_url>/mlexp/api/``.

One base class translates errors once: an :class:`MlexpError` becomes its
``http_status`` and a JSON ``{"message": ...}``; a body that is not a JSON
object becomes 400. The record is read in a worker thread so a large journal
or a held file lock never stalls the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.fsio import confined_to, system_error
from jupyter_mlexp.frontdoors.server import record_views as api
from jupyter_mlexp.frontdoors.server import stamped

NAMESPACE = ("mlexp", "api")

#: Limits on what a client may send (the server answers 413 or 400 with one line past them).
MAX_BODY_BYTES = 256 * 1024
MAX_ENTRY_CHARS = 20_000  # one journal entry
MAX_REASON_CHARS = 2_000  # an ignore reason: one line of IGNORED_RUNS.md
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_DEPTH = 16  # JSON nesting; the bodies the API takes are two levels deep


class BadRequest(MlexpError):
    http_status = 400


class TooLarge(BadRequest):
    http_status = 413


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value, counted up to ``limit + 1`` (no deeper walk)."""
    if limit < 0 or not isinstance(value, (dict, list)):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(c, limit - 1) for c in children), default=0)


def limited_text(value: str, what: str, limit: int) -> str:
    if len(value) > limit:
        raise TooLarge(f"{what} is {len(value):,} characters; the limit is {limit} (keep the rest in a file)")
    return value


class MlexpHandler(APIHandler):
    """Base: knows the workspace root, parses bodies, answers JSON."""

    @property
    def root(self):
        return api.workspace_root(self.settings.get("server_root_dir") or ".")

    def json_body(self) -> dict:
        raw = self.request.body or b"{}"
        if len(raw) > MAX_BODY_BYTES:
            raise TooLarge(f"the request body is {len(raw):,} bytes; the limit is {MAX_BODY_BYTES:,}")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise BadRequest(f"the request body is not valid JSON: {err}") from None
        except RecursionError:
            raise BadRequest(f"the request body is nested too deep (the limit is {MAX_DEPTH} levels)") from None
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        if _depth(body, MAX_DEPTH) > MAX_DEPTH:
            raise BadRequest(f"the request body is nested too deep (the limit is {MAX_DEPTH} levels)")
        return body

    def int_argument(self, name: str, default: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(f"query parameter {name!r} must be a whole number, got {raw!r}") from None
        if value < 0:
            raise BadRequest(f"query parameter {name!r} must not be negative")
        return value

    async def answer(self, fn: Callable[..., Any], *args: Any, status: int = 200) -> None:
        """Run ``fn(root, *args)`` off the event loop and write its dict (or JSON text), or the error it raised."""
        root = self.root
        try:
            result = await asyncio.to_thread(_confined_call, root, fn, *args)
        except MlexpError as err:
            self.set_status(err.http_status)
            self.finish(json.dumps({"message": str(err)}))
            return
        self.set_status(status)
        if isinstance(result, str):
            self.set_header("Content-Type", "application/json")
            self.finish(result)
        else:
            self.finish(json.dumps(result))

    async def answer_stamped(self, fn: Callable[..., stamped.Answer], *args: Any) -> None:
        """Like :meth:`answer` for a polled view: ``?since=STAMP`` while the answer is the same gets
        ``{"unchanged": true, "stamp": STAMP}`` instead of the whole answer again."""
        since = self.get_query_argument("since", None)
        root = self.root
        try:
            result = await asyncio.to_thread(_confined_call, root, fn, *args)
        except MlexpError as err:
            return await self.fail(err)
        self.set_header("Content-Type", "application/json")
        # our own ETag: tornado would otherwise hash megabytes of text on every answer
        self.set_header("Etag", f'"{result.stamp}"')
        self.finish(stamped.unchanged(result.stamp) if result.unchanged_since(since) else result.text)

    async def fail(self, err: MlexpError) -> None:
        self.set_status(err.http_status)
        self.finish(json.dumps({"message": str(err)}))


def _confined_call(root, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(root, *args)`` with every record file it reads or appends confined to ``root``; an
    operating-system error a write met (full disk, read-only, permission, too many files) as the
    one-line error with its status (507, 500, 503)."""
    with confined_to(root):
        try:
            return fn(root, *args)
        except OSError as err:
            known = system_error(err)
            if known is None:
                raise
            raise known from None


def _text(body: dict, key: str, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string")
    return value


class ExperimentsHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self):
        await self.answer(api.list_experiments)


class ExperimentHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str):
        await self.answer_stamped(api.experiment_detail_answer, name)


class JournalHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str):
        try:
            offset = self.int_argument("offset", 0)
            limit = self.int_argument("limit", api.DEFAULT_PAGE)
        except BadRequest as err:
            return await self.fail(err)
        await self.answer(
            api.journal_page,
            name,
            self.get_query_argument("tag", None),
            self.get_query_argument("q", None),
            offset,
            limit,
        )

    @tornado.web.authenticated
    async def post(self, name: str):
        try:
            body = self.json_body()
            text = limited_text(_text(body, "text") or "", "the journal entry", MAX_ENTRY_CHARS)
            tags = body.get("tags") or []
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise BadRequest("'tags' must be a list of strings")
            if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS for t in tags):
                raise BadRequest(f"at most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters each")
        except BadRequest as err:
            return await self.fail(err)
        await self.answer(api.add_journal_entry, name, text, tags, status=201)


class RunsHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str):
        await self.answer_stamped(api.list_runs_answer, name)


class IgnoredHandler(MlexpHandler):
    @tornado.web.authenticated
    async def get(self, name: str):
        await self.answer(api.list_ignored, name)


class IgnoreRunHandler(MlexpHandler):
    @tornado.web.authenticated
    async def post(self, name: str, run_id: str):
        try:
            reason = limited_text(_text(self.json_body(), "reason") or "", "the reason", MAX_REASON_CHARS)
        except BadRequest as err:
            return await self.fail(err)
        await self.answer(api.ignore_run, name, run_id, reason)


class UnignoreRunHandler(MlexpHandler):
    @tornado.web.authenticated
    async def post(self, name: str, run_id: str):
        try:
            self.json_body()  # an empty body is fine; a malformed one is still an error
        except BadRequest as err:
            return await self.fail(err)
        await self.answer(api.unignore_run, name, run_id)


# Path segments are matched still percent-encoded, so an encoded '/' stays inside one
# segment and reaches the name check (which refuses it) instead of the file system.
_SEG = r"([^/]+)"
ROUTES = [
    ("experiments", ExperimentsHandler),
    (f"experiments/{_SEG}", ExperimentHandler),
    (f"experiments/{_SEG}/journal", JournalHandler),
    (f"experiments/{_SEG}/runs", RunsHandler),
    (f"experiments/{_SEG}/ignored", IgnoredHandler),
    (f"experiments/{_SEG}/runs/{_SEG}/ignore", IgnoreRunHandler),
    (f"experiments/{_SEG}/runs/{_SEG}/unignore", UnignoreRunHandler),
]


def setup_handlers(web_app) -> None:
    """Mount the API under ``<base_url>/mlexp/api/``."""
    from jupyter_mlexp.frontdoors.server.run_handlers import ROUTES as RUN_ROUTES  # it builds on MlexpHandler

    base_url = web_app.settings["base_url"]
    routes = ROUTES + RUN_ROUTES
    handlers: list[tuple[str, type[APIHandler]]] = [
        (url_path_join(base_url, *NAMESPACE, path) + "/?$", handler) for path, handler in routes
    ]
    from jupyter_mlexp.frontdoors.server.mcp_endpoint import McpHandler  # the agents' tools (docs/agents.md)

    handlers.append((url_path_join(base_url, "mlexp", "mcp") + "/?$", McpHandler))
    web_app.add_handlers(".*$", handlers)
