"""Helpers for the runner tests: tiny notebooks built with nbformat, reading run manifests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]
# kernels, Dask workers and `mlexp` subprocesses must import this checkout
_paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
if str(REPO) not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *_paths])

HYPOTHESIS = "A larger lr raises acc.\nsuccess: acc >= 0.15\nmetrics: acc"


def make_notebook(
    path: Path, *cells: str, params: str | None = "lr = 0.1\nepochs = 2", hypothesis: str | None = None
) -> Path:
    """A notebook: optional %%hypothesis cell, optional parameters cell, then ``cells``."""
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    out = [new_markdown_cell("A tiny notebook for the runner's tests.")]
    if hypothesis is not None:
        out.append(new_code_cell("%load_ext jupyter_mlexp"))
        out.append(new_code_cell(hypothesis))
    if params is not None:
        c = new_code_cell(params)
        c.metadata["tags"] = ["parameters"]
        out.append(c)
    out += [new_code_cell(src) for src in cells]
    nb.cells = out
    nbformat.write(nb, str(path))
    return path


def manifests(root: Path, experiment: str = "exp", mode: str | None = None) -> list[dict]:
    import json

    out = []
    for mode_dir in ("quick", "full"):
        if mode and mode_dir != mode:
            continue
        for p in sorted((root / "experiments" / experiment / mode_dir).glob("*/run.json")):
            out.append(json.loads(p.read_text()))
    return out


def mlexp_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", *args]


def alive(pid: int) -> bool:
    """Running and not a zombie (a killed process not yet reaped by its new parent)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(predicate, timeout: float = 30.0, every: float = 0.05) -> bool:
    """True once ``predicate()`` is, polling every ``every`` s; its last answer after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()
