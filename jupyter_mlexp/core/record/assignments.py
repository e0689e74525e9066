"""The one ``NAME=VALUE`` grammar: ``--grid``, ``%%run_quick``, ``baseline:``/``treatment:``, ``--baseline``.

A value is a Python literal, read with :func:`ast.literal_eval` (``0.1``, ``1e-3``, ``True``,
``None``, ``'a b'``, ``[64, 64]``, ``(1, 2)``, ``{'k': 1}``); ``nan``, ``inf`` and ``-inf`` are
floats; any other bare word without spaces, quotes, brackets, commas or ``=`` is a string
(``optimizer=adam``, ``path=data/train.csv``). Anything else is an error that names the value:
an empty value, a bracket or quote left open, a literal that does not parse (``[1,2``), a word
with spaces or symbols that should be quoted, a top-level comma in one value (write a list).

Where a line holds several values (``--grid lr=0.1,0.01``; ``treatment: lr=0.1, epochs=3``)
they are separated by the commas outside brackets and quotes. ``-p NAME VALUE`` is not this
grammar: it keeps papermill's typing (:func:`jupyter_mlexp.runner.sweep.resolve_value`).
"""

from __future__ import annotations

import ast
import keyword
from typing import Any

from jupyter_mlexp.core.errors import MlexpError

#: ``nan``/``inf`` are not Python literals, but a researcher writes them for a float
_FLOAT_WORDS = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_NOT_IN_A_WORD = set("'\"()[]{},=") | set(" \t\r\n")
MAX_VALUE_CHARS = 10_000  # a value longer than this is refused before it is parsed (a bounded parser)


class AssignmentError(MlexpError, ValueError):
    """A ``NAME=VALUE`` that cannot be read as written."""


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on the commas outside brackets and quotes: ``"[1,2],'a,b',3"`` -> ``["[1,2]", "'a,b'", "3"]``.

    ``sep=" "`` splits on whitespace instead (empty parts dropped): the words of a magic's line,
    ``x=[1, 2] name='a b'`` -> ``["x=[1, 2]", "name='a b'"]``."""
    items: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise AssignmentError(f"unbalanced {ch!r} in {text!r}")
        elif depth == 0 and (ch == sep or (sep == " " and ch.isspace())):
            items.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    if quote or depth:
        raise AssignmentError(f"unclosed {'quote' if quote else 'bracket'} in {text!r}")
    items.append("".join(cur))
    return [w for w in items if w] if sep == " " else items


def parse_value(text: str) -> Any:
    """One value: a Python literal, ``nan``/``inf`` as floats, else a bare word as a string."""
    raw = text.strip()
    if not raw:
        raise AssignmentError("empty value")
    if len(raw) > MAX_VALUE_CHARS:
        raise AssignmentError(f"value of {len(raw)} characters is longer than {MAX_VALUE_CHARS}")
    parts = split_top_level(raw)
    if len(parts) > 1:
        raise AssignmentError(
            f"value {raw!r} holds a comma: write a list as [{raw}] (or quote a string: {_quoted(raw)})"
        )
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    if raw.lower() in _FLOAT_WORDS:
        return float(raw)
    if raw[0] in "'\"([{" or raw[-1] in "'\")]}":
        raise AssignmentError(f"value {raw!r} does not parse as a Python literal")
    if any(ch in _NOT_IN_A_WORD for ch in raw):
        raise AssignmentError(f"value {raw!r} is not a Python literal: quote it to mean a string ({_quoted(raw)})")
    return raw


def _quoted(raw: str) -> str:
    return repr(raw.strip("'\""))


def check_name(name: str, item: str) -> str:
    """``name`` stripped, when it can be a Python variable; else an error naming ``item``."""
    name = name.strip()
    if not name.isidentifier() or keyword.iskeyword(name):
        raise AssignmentError(f"{item.strip()!r} is not NAME=VALUE with NAME a Python variable name (e.g. lr=0.1)")
    return name


def parse_assignment(item: str) -> tuple[str, Any]:
    """``"lr=0.1"`` -> ``("lr", 0.1)``."""
    name, sep, raw = item.partition("=")
    if not sep:
        raise AssignmentError(f"{item.strip()!r} is not NAME=VALUE (e.g. lr=0.1)")
    name = check_name(name, item)
    try:
        return name, parse_value(raw)
    except AssignmentError as err:
        raise AssignmentError(f"{name}: {err}") from None


def parse_assignments(items: str | list[str]) -> dict[str, Any]:
    """``"lr=0.1, layers=[64, 64]"`` (or a list of ``NAME=VALUE`` strings) -> a dict; a name given
    twice is an error."""
    if isinstance(items, str):
        items = [p for p in split_top_level(items) if p.strip()]
    out: dict[str, Any] = {}
    for item in items:
        name, value = parse_assignment(item)
        if name in out:
            raise AssignmentError(f"{name} given twice")
        out[name] = value
    return out


def looks_like_assignments(text: str) -> bool:
    """Whether every comma-separated part of ``text`` begins ``NAME=`` (so it is meant as a
    configuration, and a bad value in it is an error rather than free text)."""
    try:
        parts = [p for p in split_top_level(text) if p.strip()]
    except AssignmentError:  # a bracket or quote left open: meant as a configuration if it begins NAME=
        parts = [text]
    if not parts:
        return False
    for part in parts:
        name, sep, _ = part.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or keyword.iskeyword(name):
            return False
    return True


def parse_axis(item: str) -> tuple[str, list[Any]]:
    """One sweep axis: ``"lr=0.1,0.01"`` -> ``("lr", [0.1, 0.01])``."""
    name, sep, raw = item.partition("=")
    if not sep:
        raise AssignmentError(f"{item.strip()!r} is not NAME=V1,V2,... (e.g. lr=0.1,0.01)")
    name = check_name(name, item)
    try:
        return name, [parse_value(v) for v in split_top_level(raw)]
    except AssignmentError as err:
        raise AssignmentError(f"{name}: {err}") from None
