"""HTTP adapters over :mod:`jupyter_mlexp.frontdoors.server.record_views`, mounted under ``<base_url>/mlexp/api/``.

Each handler parses its request and raises; :class:`~.base.MlexpHandler` answers errors in one place.
"""

from __future__ import annotations

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from jupyter_mlexp.frontdoors.server import record_views as api
from jupyter_mlexp.frontdoors.server.base import (
    MAX_ENTRY_CHARS,
    MAX_REASON_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    NAMESPACE,
    SEG,
    BadRequest,
    MlexpHandler,
    limited_text,
)
from jupyter_mlexp.frontdoors.server.class_handlers import ROUTES as CLASS_ROUTES  # the class view
from jupyter_mlexp.frontdoors.server.mcp_endpoint import McpHandler  # the agents' tools (docs/agents.md)
from jupyter_mlexp.frontdoors.server.run_handlers import ROUTES as RUN_ROUTES


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
        offset = self.int_argument("offset", 0)
        limit = self.int_argument("limit", api.DEFAULT_PAGE)
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
        body = self.json_body()
        text = limited_text(_text(body, "text") or "", "the journal entry", MAX_ENTRY_CHARS)
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise BadRequest("'tags' must be a list of strings")
        if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG_CHARS for t in tags):
            raise BadRequest(f"at most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters each")
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
        reason = limited_text(_text(self.json_body(), "reason") or "", "the reason", MAX_REASON_CHARS)
        await self.answer(api.ignore_run, name, run_id, reason)


class UnignoreRunHandler(MlexpHandler):
    @tornado.web.authenticated
    async def post(self, name: str, run_id: str):
        self.json_body()  # an empty body is fine; a malformed one is still an error
        await self.answer(api.unignore_run, name, run_id)


ROUTES = [
    ("experiments", ExperimentsHandler),
    (f"experiments/{SEG}", ExperimentHandler),
    (f"experiments/{SEG}/journal", JournalHandler),
    (f"experiments/{SEG}/runs", RunsHandler),
    (f"experiments/{SEG}/ignored", IgnoredHandler),
    (f"experiments/{SEG}/runs/{SEG}/ignore", IgnoreRunHandler),
    (f"experiments/{SEG}/runs/{SEG}/unignore", UnignoreRunHandler),
]


def setup_handlers(web_app) -> None:
    """Mount the API under ``<base_url>/mlexp/api/``."""
    base_url = web_app.settings["base_url"]
    routes = ROUTES + RUN_ROUTES + CLASS_ROUTES
    handlers: list[tuple[str, type[APIHandler]]] = [
        (url_path_join(base_url, *NAMESPACE, path) + "/?$", handler) for path, handler in routes
    ]
    handlers.append((url_path_join(base_url, "mlexp", "mcp") + "/?$", McpHandler))
    web_app.add_handlers(".*$", handlers)
