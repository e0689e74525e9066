"""Answers made for a context window, and the one place errors become a next step in tool terms.

Every tool answer is one JSON object whose text is at most :data:`MAX_CHARS` characters: a list
too long for it is paged (``limit``/``offset``; the answer's ``page`` says how many there are and
which call gets the rest), then long texts are cut, and a cut answer is still valid JSON. The
structured content carries the very same object.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent

from jupyter_mlexp.core.errors import MlexpError

#: the default bound on one answer's text (``mlexp mcp --max-chars`` changes it)
MAX_CHARS = 2000
_CUTS = (400, 160, 60, 24)


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def _clip(obj: Any, n: int) -> Any:
    if isinstance(obj, str):
        return obj if len(obj) <= n else obj[:n] + "…"
    if isinstance(obj, dict):
        return {k: _clip(v, n) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clip(v, n) for v in obj]
    return obj


def _args_text(args: dict[str, Any]) -> str:
    shown = {k: v for k, v in args.items() if v not in (None, "", False, [])}
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in shown.items())


def fit(
    data: dict[str, Any],
    *,
    items: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    tool: str = "",
    args: dict[str, Any] | None = None,
    max_chars: int | None = None,
) -> dict[str, Any]:
    """``data`` within the bound: its list ``items`` paged from ``offset`` (at most ``limit``, fewer if
    the text would pass the bound), then long strings cut. The page says how to ask for the rest."""
    bound = max_chars or MAX_CHARS
    out = dict(data)
    if items is not None:
        every = list(data.get(items) or [])
        total, offset = len(every), max(0, int(offset or 0))
        want = every[offset : offset + limit] if limit and limit > 0 else every[offset:]

        def page(n: int) -> dict[str, Any]:
            p: dict[str, Any] = {"offset": offset, "shown": n, "total": total}
            if offset + n < total:
                more = _args_text({**(args or {}), "offset": offset + n})
                p["next"] = f"call {tool}({more}) for the next {total - offset - n}"
            return {**data, items: want[:n], "page": p}

        lo, hi = 0, len(want)  # the largest page whose text fits (the text grows with the page)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(dumps(page(mid))) <= bound:
                lo = mid
            else:
                hi = mid - 1
        out = page(lo)
        if lo == 0 and want and len(dumps(page(1))) > bound:
            out = page(1)  # one item too long alone: shown cut below rather than not at all
    if len(dumps(out)) <= bound:
        return out
    for n in _CUTS:
        cut = {**_clip(out, n), "cut": f"texts longer than {n} characters were cut to fit {bound}"}
        if len(dumps(cut)) <= bound:
            return cut
    keys = list(out)
    return {"cut": f"the answer does not fit {bound} characters even cut; ask for less (limit)", "keys": keys[:40]}


def answer(data: dict[str, Any], **paging: Any) -> CallToolResult:
    """A tool's answer: the bounded JSON as text, the same object as structured content."""
    out = fit(data, **paging)
    return CallToolResult(content=[TextContent(type="text", text=dumps(out))], structured_content=out)


# -- errors: the core speaks of cells and commands; an agent is told which tool to call --------------
_REGISTER = "call hypothesis_register with name={name!r}, a statement, a success criterion and the metrics"
_NEXT_STEPS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"register one first with a %%hypothesis (?P<name>\S+) cell \([^)]*\)\s*or `mlexp hypothesis [^`]*`"
        ),
        _REGISTER,
    ),
    (re.compile(r"register one with %%hypothesis (?P<name>\S+) or `mlexp hypothesis [^`]*`"), _REGISTER),
    (
        re.compile(r"register one with `mlexp hypothesis NAME \.\.\.`"),
        "call hypothesis_register with a name, a statement, a success criterion and the metrics",
    ),
    (
        re.compile(r"\(?or register one with `mlexp hypothesis [^`]*`\)?"),
        "or call hypothesis_register with a statement, a success criterion and the metrics",
    ),
    (
        re.compile(r"add a line 'reason: WHY' to the %%hypothesis cell, or pass --reason WHY to `mlexp hypothesis`"),
        "call hypothesis_register again with the same fields and reason='WHY'",
    ),
    (
        re.compile(
            r"re-register it with a %%hypothesis cell that has a 'reason:' line \(or `mlexp hypothesis [^`]*`\)"
        ),
        "call hypothesis_register with the intended fields and a reason",
    ),
    (re.compile(r"\(see `mlexp runs (?P<name>[^`]*)`\)"), "(call runs with experiment={name!r})"),
    (
        re.compile(r"start it with `mlexp loop start (?P<tag>\S+) --experiment NAME`"),
        "call loop_start with tag={tag!r} and the experiment",
    ),
    (re.compile(r"\(start one with `mlexp loop start TAG`, or git switch to it\)"), "(call loop_start with a tag)"),
    (re.compile(r"""say what the attempt changes: -m "DESCRIPTION\""""), "say what the attempt changes: description"),
    (re.compile(r"\(mlexp loop try -m DESC -- python train\.py\)"), "(command=['python', 'train.py'])"),
    (re.compile(r"\(mlexp run --experiment NAME -- python train\.py\)"), "(command=['python', 'train.py'])"),
    (re.compile(r"(?<![\w-])--(budget|seeds|reason|experiment|confirm|grid|param)\b"), "{0}"),
]


def next_step(message: str) -> str:
    """The core's message with its cell and command advice said as tool calls (the one translation)."""
    text = message.removeprefix("mlexp: error: ").strip()
    for pattern, template in _NEXT_STEPS:

        def repl(m: re.Match[str], template: str = template) -> str:
            return template.format(m.group(1) if m.groups() else "", **m.groupdict())

        text = pattern.sub(repl, text)
    return text


def tool_error(err: MlexpError | str) -> ToolError:
    return ToolError(next_step(str(err)))
