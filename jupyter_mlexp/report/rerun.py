"""Re-running ``report.ipynb``: every code cell recomputes its table, figure or verdict from the run
files, and shows it only when it differs from what the report showed when it was built.

So a re-run never shows each table and figure twice (once as built, once recomputed): an unchanged
result is one line saying so; a changed one is shown, marked as recomputed. The notebook's code
cells hold the digest of what was built (:func:`digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

DIGEST_CHARS = 16


def digest(content: str | bytes) -> str:
    """A short SHA-256 of ``content``: what a code cell compares its recomputed result with."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]


def rerun_tables(tables: Iterable[tuple[str, str]]) -> str:
    """The Results tables ``(title, table)`` as one Markdown text."""
    return "\n\n".join(f"### {title}\n\n{table}" for title, table in tables)


def changed(content: str | bytes, built: str) -> bool:
    return digest(content) != built


def show(what: str, markdown: str, built: str) -> bool:
    """Display ``markdown`` if it differs from the built one (digest ``built``); else one line. True if shown."""
    if not changed(markdown, built):
        print(f"{what}: unchanged since the report was built (recomputed from the run files)")
        return False
    from IPython.display import Markdown, display  # only inside the report's kernel

    display(Markdown(f"**{what}: changed since the report was built, recomputed now:**\n\n{markdown}"))
    return True


def show_figures(infos: Iterable[Any], built: dict[str, str], notes: Iterable[str] = ()) -> list[str]:
    """Each redrawn figure whose plotted numbers (its ``.json``) differ from the built ones; the names shown."""
    from IPython.display import Image, display  # only inside the report's kernel

    shown = []
    for info in infos:
        if built.get(info.name) == digest(info.data_path.read_bytes()):
            print(f"Figure {info.name}: unchanged since the report was built")
            continue
        print(f"Figure {info.name}: changed since the report was built, redrawn now:")
        display(Image(filename=str(info.path)))
        shown.append(info.name)
    for note in notes:
        print("No figure:", note)
    return shown
