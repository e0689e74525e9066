"""The server's base handler: one place that parses requests and maps every error to an answer.

Every handler raises: an :class:`~jupyter_mlexp.core.errors.MlexpError` (a user error, a malformed
record, a full disk) becomes its ``http_status`` and ``{"message": ...}`` in :meth:`MlexpHandler.write_error`,
tornado's own hook for error pages, and is logged in one line; anything else is a 500 with the
message and the traceback in the server's log. The record is read in a worker thread so a large
journal or a held file lock never stalls the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from jupyter_server.base.handlers import APIHandler

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
        result = await asyncio.to_thread(_confined_call, self.root, fn, *args)
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
        result = await asyncio.to_thread(_confined_call, self.root, fn, *args)
        self.set_header("Content-Type", "application/json")
        # our own ETag: tornado would otherwise hash megabytes of text on every answer
        self.set_header("Etag", f'"{result.stamp}"')
        self.finish(stamped.unchanged(result.stamp) if result.unchanged_since(since) else result.text)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """The one error mapping: a :class:`MlexpError` answers its status and its one-line message."""
        err = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(err, MlexpError):
            self.set_status(err.http_status)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"message": str(err)}))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlexpError):  # an answer, not a server fault: one line, no traceback
            self.log.info("%s %s: %s %s", self.request.method, self.request.path, value.http_status, value)
            return
        super().log_exception(typ, value, tb)


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


# Path segments are matched still percent-encoded, so an encoded '/' stays inside one
# segment and reaches the name check (which refuses it) instead of the file system.
SEG = r"([^/]+)"
