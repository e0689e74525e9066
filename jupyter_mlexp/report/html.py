"""``report.html``: nbconvert's HTML of the report notebook, sanitised.

The notebook's Markdown already shows every text from the record as text
(:mod:`jupyter_mlexp.report.safe`). The export does not rely on that alone: each
Markdown cell's HTML keeps only the tags and attributes a report uses (headings,
paragraphs, lists, tables, code, quotes, links to http/https/mailto/anchors, images
embedded as ``data:image/…``), and the page carries a Content-Security-Policy that
forbids every script, so a file mailed around or published runs nothing when opened.
"""

from __future__ import annotations

import re
from pathlib import Path

import bleach  # type: ignore[import-untyped]  # a dependency of nbconvert
import nbformat
from jinja2 import pass_context
from nbconvert import HTMLExporter

from jupyter_mlexp.report.output import write_text

TAGS = frozenset(
    "p h1 h2 h3 h4 h5 h6 a img table thead tbody tr th td blockquote code pre em strong b i ul ol li hr br "
    "span div del sup sub".split()
)
CSP = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
_PLAIN_ATTRS = frozenset({"class", "id", "title", "alt", "align"})


def safe_url(value: str) -> bool:
    """A link a report may hold: an anchor, a relative path, or http(s)/mailto."""
    url = re.sub(r"[\x00-\x20]", "", value).lower()
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", url)
    return scheme is None or scheme.group(1) in ("http", "https", "mailto")


def _allowed(tag: str, name: str, value: str) -> bool:
    if name in _PLAIN_ATTRS:
        return True
    if tag == "a" and name == "href":
        return safe_url(value)
    if tag == "img" and name == "src":
        return value.startswith("data:image/") or safe_url(value)
    return False


def clean(markup: str) -> str:
    """HTML with only the report's tags and safe attributes; any other tag is shown as text."""
    return bleach.clean(
        markup,
        tags=TAGS,
        attributes=_allowed,
        protocols=["http", "https", "mailto", "data"],
        strip_comments=True,
    )


class SafeHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter whose Markdown cells pass through :func:`clean`."""

    @pass_context
    def markdown2html(self, context, source):
        return clean(super().markdown2html(context, source))


def write_html(nb: nbformat.NotebookNode, target: Path) -> Path:
    body, _ = SafeHTMLExporter().from_notebook_node(nb)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}"/>'
    body, n = re.subn(r"<head>", "<head>\n" + meta, body, count=1)
    if not n:
        body = meta + "\n" + body
    write_text(target, body)
    return Path(target)
