"""A notebook's parameters: which names they are, and the values the code saw.

The names are the variables the notebook's ``parameters``-tagged cell assigns, and those
papermill's ``injected-parameters`` cell assigns (it starts with ``# Parameters``). Where they
come from depends on who runs the notebook: ``mlexp run`` knows them from the file and tells
the kernel; under papermill or nbclient the kernel's input history holds the injected cell and,
just before it, the parameters cell; interactively the notebook's file (JupyterLab's
``JPY_SESSION_NAME``, VS Code's ``__vsc_ipynb_file__``) holds the tagged cell. The values are
read from the namespace, so they are what the code really used: the parameters cell, then the
injected cell, then ``%%run_quick``'s overrides, and whatever the notebook assigned after.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import MlexpError

INJECTED_MARK = "# Parameters"  # the first line papermill's Python translator writes in the injected cell
_MAX_NOTEBOOK_BYTES = 50_000_000


def assigned_names(source: str) -> list[str]:
    """The variables ``source`` assigns at its top level, in order (a parameters cell's names)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names: list[str] = []

    def add(target: ast.AST) -> None:
        if isinstance(target, ast.Name) and target.id not in names:
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                add(t)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            add(node.target)
    return names


def mentioned_names(source: str) -> set[str] | None:
    """Every name ``source`` reads or writes (variables, arguments, keywords); None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            out.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out.update(node.names)
    return out


def names_from_history(inputs: Sequence[str]) -> list[str]:
    """The parameters of a notebook papermill (or ``mlexp run``) executed, from the kernel's inputs:
    the last injected cell's names, and the names of the cell executed just before it (papermill
    puts the injected cell right after the ``parameters`` cell)."""
    for i in range(len(inputs) - 1, -1, -1):
        text = inputs[i] or ""
        if text.lstrip().partition("\n")[0].rstrip() == INJECTED_MARK:  # exactly papermill's first line
            before = assigned_names(inputs[i - 1]) if i > 0 else []
            injected = assigned_names(text)
            return before + [n for n in injected if n not in before]
    return []


def names_from_notebook(path: str | Path | None) -> list[str]:
    """The names the ``parameters``-tagged cell of the notebook file at ``path`` assigns ([] when
    there is no such file or cell)."""
    if not path:
        return []
    try:
        st = os.stat(path)
    except OSError:
        return []
    if st.st_size > _MAX_NOTEBOOK_BYTES:
        return []
    return list(_names_in_file(str(path), st.st_mtime_ns, st.st_size))


@functools.lru_cache(maxsize=16)
def _names_in_file(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """Read once per version of the file (a cell run again does not parse the notebook again)."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return ()
    cells = nb.get("cells") if isinstance(nb, dict) else None
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tags = (cell.get("metadata") or {}).get("tags") or []
        if isinstance(tags, list) and "parameters" in tags:
            src = cell.get("source", "")
            return tuple(assigned_names("".join(src) if isinstance(src, list) else str(src)))
    return ()


def recordable(value: Any) -> bool:
    """A value the record can hold as JSON and give back equal (numbers, strings, None, lists, dicts)."""
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return len(value) <= 1000 and all(recordable(v) for v in value)
    if isinstance(value, dict):
        return len(value) <= 1000 and all(isinstance(k, str) and recordable(v) for k, v in value.items())
    return False


def seen_values(namespace: Mapping[str, Any] | None, names: Iterable[str]) -> dict[str, Any]:
    """The values ``names`` have in ``namespace``, those the record can hold (plain Python values;
    numpy scalars as Python numbers). A name the namespace lacks is left out."""
    out: dict[str, Any] = {}
    if not namespace:
        return out
    for name in names:
        if name not in namespace:
            continue
        value = namespace[name]
        item = getattr(value, "item", None)  # a numpy scalar
        if not recordable(value) and callable(item) and getattr(value, "ndim", None) == 0:
            try:
                value = item()
            except Exception:
                continue
        if recordable(value):
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def check_override_names(overrides: Mapping[str, Any], parameters: Iterable[str], code: str | None) -> None:
    """An override must name a parameter of the notebook or a name the cell's code mentions; else it
    is a typo, and the error names the closest of those. Code that does not parse is not checked."""
    if not overrides:
        return
    known = set(parameters)
    mentioned = mentioned_names(code) if code is not None else None
    if mentioned is None:
        return
    known |= mentioned
    for name in overrides:
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise MlexpError(
            f"override {name} is neither a parameter of the notebook nor a name this cell uses, "
            f"so it would change nothing{hint}"
        )


def overwritten(injected: Mapping[str, Any], seen: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The injected parameters the notebook changed before it ended: ``{name: {injected, used}}``."""
    out: dict[str, dict[str, Any]] = {}
    for name, value in injected.items():
        if name in seen and not _same(seen[name], value):
            out[name] = {"injected": value, "used": seen[name]}
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)
    except Exception:
        return False
