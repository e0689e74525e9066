"""Text from the record shown as text: in the report's Markdown, its tables and its HTML export.

Journal entries, ignore reasons, the hypothesis, error messages, parameter values are typed by
people (or by anyone who can write to a shared record). The report shows them exactly as
written and never lets them act as markup: no HTML tag, no link or image, no code span of
their own. ``text`` escapes a value for running Markdown, ``code`` wraps it in a code span that
it cannot close, ``cell`` escapes a table cell outside the code spans the report put there.
The HTML export is then sanitised as well (:mod:`jupyter_mlexp.report.html`), in case a text
slipped past.
"""

from __future__ import annotations

import re

# CommonMark backslash-escapes any ASCII punctuation. Escaped here is what starts markup that could
# act: an HTML tag, comment or autolink (``<`` before a letter, / ! ?), a link, image or link
# definition (``](``, ``][``, ``]:``), a code span (`), emphasis (*), math ($), and escapes (\\).
# Intraword ``_``, a bare ``[x]``, ``a < b`` and ``&`` show as written without help.
_INLINE = re.compile(r"[\\`*$]|<(?=[A-Za-z/!?])|\](?=[(\[:])")
_IN_CELL = re.compile(r"\\|<(?=[A-Za-z/!?])|\](?=[(\[:])")
_BLOCK_START = re.compile(r"(?m)^(\s*)([#+=|>-])")
_ORDERED = re.compile(r"(?m)^(\s*\d+)([.)])")
_TICKS = re.compile(r"`+")


def text(value: object, one_line: bool = True) -> str:
    """``value`` as Markdown that renders as exactly its characters (whitespace folded when ``one_line``)."""
    s = str(value if value is not None else "")
    s = " ".join(s.split()) if one_line else s
    s = _INLINE.sub(_escape, s)
    s = _BLOCK_START.sub(r"\1\\\2", s)
    return _ORDERED.sub(r"\1\\\2", s)


def code(value: object) -> str:
    """``value`` in a code span no backtick inside it can close (fence longer than any run in it)."""
    s = " ".join(str(value if value is not None else "").split())
    if not s:
        return "` `"
    fence = "`" * (max((len(t) for t in _TICKS.findall(s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def cell(value: object) -> str:
    """A table cell: one line, ``|`` escaped, and outside its code spans no HTML, link or image."""
    return markup(" ".join(str(value).split("\n"))).replace("|", "\\|")


def markup(s: str) -> str:
    """A message of the tool's own that quotes record text in code spans: escaped outside them."""
    out: list[str] = []
    pos = 0
    for start, end in _code_spans(s):
        out.append(_cell_text(s[pos:start]))
        out.append(s[start:end])
        pos = end
    out.append(_cell_text(s[pos:]))
    return "".join(out)


def _escape(m: re.Match) -> str:
    return "\\" + m.group()


def _cell_text(s: str) -> str:
    # the backslash too: a record's ``\``` must not turn a backtick the splitter paired into a literal one
    return _IN_CELL.sub(_escape, s)


def _code_spans(s: str) -> list[tuple[int, int]]:
    """Where CommonMark sees code spans: a run of n backticks up to the next run of exactly n."""
    spans = []
    runs = list(_TICKS.finditer(s))
    i = 0
    while i < len(runs):
        opener = runs[i]
        close = next((j for j in range(i + 1, len(runs)) if len(runs[j].group()) == len(opener.group())), None)
        if close is None:
            i += 1
            continue
        spans.append((opener.start(), runs[close].end()))
        i = close + 1
    return spans


def quote(value: str) -> str:
    """Record text as a block quote, each line shown as written (no markup of its own)."""
    return "\n".join("> " + text(line, one_line=False) for line in (value or "").splitlines()) or "> "


def one_line(value: str, limit: int = 300) -> str:
    """Record text folded to one line, cut at ``limit`` and escaped (shown as text, never as markup)."""
    flat = " ".join((value or "").split())
    return text(flat if len(flat) <= limit else flat[: limit - 1] + "…")
