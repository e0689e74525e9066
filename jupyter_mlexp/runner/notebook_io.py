"""The notebook side of a run: read it, parameterize it, mark its errors, write it.

Parameters go in with papermill's own machinery (``parameterize_notebook``:
an ``injected-parameters`` cell after the ``parameters`` cell, or at the top
when there is none), and the runner adds one cell after it that attaches the
kernel to the run folder, so ``%%run_quick`` cells and ``mlexp.log_metric``
log into this run.
"""

from __future__ import annotations

import ast
import copy
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from jupyter_mlexp.core.errors import MlexpError

log = logging.getLogger("jupyter_mlexp.runner")

ATTACH_TAG = "mlexp-attach"
_HYPOTHESIS_RE = re.compile(r"^\s*%%hypothesis(?:[ \t]+(?P<args>[^\n]*))?\n(?P<body>.*)\Z", re.S)
_USE_RE = re.compile(r"^\s*%mlexp\s+use\s+(\S+)", re.M)


class NotebookError(MlexpError):
    """A notebook that cannot be read or run as given."""


@dataclass
class SourceNotebook:
    """A notebook read once per sweep, and what the runner learnt from it."""

    path: Path
    nb: Any
    kernel_name: str
    language: str
    declared: dict[str, str] = field(default_factory=dict)  # name -> papermill's inferred type name
    has_parameters_cell: bool = False
    hypothesis_name: str | None = None
    hypothesis_body: str | None = None
    used_experiment: str | None = None


def load(path: str | os.PathLike, kernel_name: str | None = None) -> SourceNotebook:
    """Read ``path`` and inspect it; a missing or unreadable notebook is a clear error."""
    path = Path(path)
    if not path.exists():
        raise NotebookError(f"notebook {path} not found")
    if path.is_dir():
        raise NotebookError(f"{path} is a folder; give a .ipynb notebook")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as err:  # nbformat raises several kinds for a broken file
        raise NotebookError(f"{path} is not a readable notebook: {err}") from None
    for cell in nb.cells:  # as papermill's load_notebook_node: every cell has a tags list
        cell.metadata.setdefault("tags", [])
    from papermill.inspection import _infer_parameters
    from papermill.utils import find_first_tagged_cell_index

    spec = nb.metadata.get("kernelspec") or {}
    name = kernel_name or spec.get("name") or "python3"
    language = spec.get("language") or (nb.metadata.get("language_info") or {}).get("name") or "python"
    src = SourceNotebook(path=path.resolve(), nb=nb, kernel_name=name, language=language)
    src.has_parameters_cell = find_first_tagged_cell_index(nb, "parameters") >= 0
    if src.has_parameters_cell:
        src.declared = {p.name: _type_name(p) for p in _infer_parameters(nb, name=name, language=language)}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        m = _HYPOTHESIS_RE.match(cell.source)
        if m and src.hypothesis_body is None:
            args = [a for a in (m["args"] or "").split() if not a.startswith("-")]
            src.hypothesis_name = args[0] if args else None
            src.hypothesis_body = m["body"]
        u = _USE_RE.search(cell.source)
        if u and src.used_experiment is None:
            src.used_experiment = u.group(1)
    return src


def _type_name(param) -> str:
    """papermill's inferred type (from an annotation), else the type of the literal default."""
    if param.inferred_type_name not in ("None", None):
        return param.inferred_type_name
    try:
        value = ast.literal_eval(param.default)
    except (ValueError, SyntaxError, TypeError):
        return "None"
    return type(value).__name__ if value is not None else "None"


def attach_source(run_dir: Path, mode: str, experiment: str, seed: int, parameters: list[str] | None = None) -> str:
    return (
        "# Injected by `mlexp run`: log this notebook's metrics into its run folder.\n"
        "from jupyter_mlexp import attach_batch_run as _mlexp_attach\n"
        "from jupyter_mlexp.core.execution.seeding import seed_everything as _mlexp_seed\n"
        f"_mlexp_attach({str(run_dir)!r}, {mode!r}, experiment={experiment!r}, parameters={list(parameters or [])!r})\n"
        f"_mlexp_seed({int(seed)})"
    )


def prepare(src: SourceNotebook, params: dict, run_dir: Path, mode: str, experiment: str, seed: int):
    """A copy of the notebook with the run's parameters and the attach cell injected.

    Returns ``(nb, source_index)``: ``source_index[i]`` is cell ``i``'s index in the
    user's notebook, or None for an injected cell.
    """
    nb = copy.deepcopy(src.nb)
    nb.metadata.setdefault("papermill", {})
    if params:
        from papermill.parameterize import parameterize_notebook

        nb = parameterize_notebook(nb, params, kernel_name=src.kernel_name, language=src.language)
    nb.metadata.papermill.update(input_path=str(src.path), parameters=params)
    names = list(src.declared) + [k for k in params if k not in src.declared]  # read back at the run's end
    cell = nbformat.v4.new_code_cell(source=attach_source(run_dir, mode, experiment, seed, names))
    cell.metadata["tags"] = [ATTACH_TAG]
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    at = next((i + 1 for i, t in enumerate(tags) if "injected-parameters" in t), 0)
    nb.cells.insert(at, cell)
    source_index: list[int | None] = []
    k = 0
    for c in nb.cells:
        t = c.metadata.get("tags", [])
        if "injected-parameters" in t or ATTACH_TAG in t:
            source_index.append(None)
        else:
            source_index.append(k)
            k += 1
    return nb, source_index


def stdout_text(nb) -> str:
    """All stdout stream text of the executed notebook, in order."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", ()):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                parts.append(out.get("text", ""))
    return "".join(parts)


def mark_error(nb, index: int, message: str) -> None:
    """papermill's marker: a red note at the top linking to the failing cell."""
    from papermill.execute import ERROR_ANCHOR_MSG, ERROR_MARKER_TAG

    top = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-size:1.5em;">mlexp run stopped at cell {index}: '
        f'<a href="#papermill-error-cell">{_html(message)}</a></span>'
    )
    anchor = nbformat.v4.new_markdown_cell(ERROR_ANCHOR_MSG)
    for c in (top, anchor):
        c.metadata["tags"] = [ERROR_MARKER_TAG]
    nb.cells.insert(index, anchor)
    nb.cells.insert(0, top)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[:300]


def write(nb, path: Path) -> None:
    """Write the executed (or partial) notebook; a write error is logged, never fatal to the record."""
    try:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(nbformat.writes(nb), encoding="utf-8")
        tmp.replace(path)
    except Exception as err:
        log.warning("could not write %s: %s", path, err)
