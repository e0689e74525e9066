"""Shared fixtures: every test gets its own workspace root (``MLEXP_ROOT``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """An empty workspace; the record goes to ``tmp_path/experiments``."""
    monkeypatch.setenv("MLEXP_ROOT", str(tmp_path))
    for var in ("MLEXP_RUN_DIR", "MLEXP_MODE", "MLEXP_EXPERIMENT"):
        monkeypatch.delenv(var, raising=False)
    from jupyter_mlexp.core.execution import tracking

    tracking._active.clear()
    tracking._batch.update(run=None, mode=None, experiment=None, checked=False)
    yield tmp_path
    tracking._active.clear()
    tracking._batch.update(run=None, mode=None, experiment=None, checked=False)


HYPOTHESIS = """Dropout 0.2 improves validation accuracy on digits.
success: val_acc >= 0.9
failure: val_acc < 0.8
metrics: val_acc, loss
"""


@pytest.fixture
def experiment(workspace):
    from jupyter_mlexp import Experiment

    exp = Experiment("digits")
    exp.register(HYPOTHESIS)
    return exp
