"""Fixtures for the REST API tests: a jupyter_server with the extension, and a record to serve.

pytest-jupyter's fixtures are star-imported rather than named in ``pytest_plugins``:
pytest refuses ``pytest_plugins`` in a conftest below the rootdir when the whole
``tests/`` tree is collected, and these tests must also run that way. Browser tests
live in ``tests/browser`` and run in their own pytest process (their event loop
clashes with pytest-jupyter's at teardown).
"""

from __future__ import annotations

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403
from traitlets.config import Config

from jupyter_mlexp.core.experiment import Experiment

HYPOTHESIS = """Dropout 0.3 improves validation accuracy on the toy set
success: acc >= 0.9
metrics: acc, loss
"""


@pytest.fixture
def jp_server_config():
    return Config({"ServerApp": {"jpserver_extensions": {"jupyter_mlexp": True}}})


@pytest.fixture
def jp_base_url():
    # A JupyterHub-style prefix, so every test also checks the routes honour base_url.
    return "/user/alice/"


@pytest.fixture(autouse=True)
def _no_env_root(monkeypatch):
    monkeypatch.delenv("MLEXP_ROOT", raising=False)


def add_run(exp: Experiment, mode: str, acc: float | None, status: str = "completed", run_id: str | None = None):
    kw = {"run_id": run_id} if run_id else {}
    run = exp.start_run(mode, params={"lr": 0.1}, seed=1, **kw)
    if acc is not None:
        run.log_metric("acc", acc)
    exp.finish_run(run, status)
    return run.run_id


@pytest.fixture
def record(jp_root_dir):
    """Experiment ``demo`` under the server root: 3 journal entries (one WEIRD), 2 quick runs, 1 full run."""
    exp = Experiment("demo", jp_root_dir)
    exp.register(HYPOTHESIS)
    exp.add_journal("loss spiked at step 40", tags=["WEIRD"])
    exp.add_journal("[HUNCH] maybe the warmup is too short")
    ids = {
        "quick1": add_run(exp, "quick", 0.7, run_id="q-1"),
        "quick2": add_run(exp, "quick", 0.75, run_id="q-2"),
        "full1": add_run(exp, "full", 0.93, run_id="f-1"),
    }
    return exp, ids
