"""Fixtures for the runner: a tmp workspace with a registered experiment, a notebook builder."""

from __future__ import annotations

import pytest
from runner_helpers import HYPOTHESIS, make_notebook


@pytest.fixture
def ws(workspace, monkeypatch):
    """The shared tmp workspace (``MLEXP_ROOT``), as cwd, with a registered experiment ``exp``."""
    monkeypatch.chdir(workspace)
    from jupyter_mlexp import Experiment

    Experiment("exp").register(HYPOTHESIS)
    return workspace


@pytest.fixture
def nb(ws):
    """``nb(name, *cells, **kw)`` writes a notebook into the workspace."""

    def build(name, *cells, **kw):
        return make_notebook(ws / name, *cells, **kw)

    return build
