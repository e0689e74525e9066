"""jupyter-mlexp: hypothesis-driven ML experiments in Jupyter.

``%load_ext jupyter_mlexp`` registers the magics; ``import jupyter_mlexp as
mlexp`` gives the logging API (``mlexp.log_metric``, ``mlexp.log_array``).
"""

from __future__ import annotations

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.execution.tracking import artifact_path, attach_batch_run, log_array, log_metric
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.hypothesis import Hypothesis

__version__ = "0.1.0"
__all__ = [
    "Experiment",
    "Hypothesis",
    "MlexpError",
    "artifact_path",
    "attach_batch_run",
    "log_array",
    "log_metric",
    "__version__",
]


def load_ipython_extension(ipython):
    from jupyter_mlexp.frontdoors.magics import load_ipython_extension as _load

    _load(ipython)


# --- Jupyter extension hooks -------------------------------------------------------------------


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-mlexp"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyter_mlexp"}]


def _load_jupyter_server_extension(server_app):
    """Mount the REST API; imported lazily so kernels never import jupyter_server."""
    from jupyter_mlexp.core.record.workspace import pin_root
    from jupyter_mlexp.frontdoors.server.handlers import setup_handlers

    pin_root()  # a relative $MLEXP_ROOT means the server's folder, for its kernels too
    setup_handlers(server_app.web_app)
    server_app.log.info("jupyter_mlexp: REST API mounted under %smlexp/api/", server_app.web_app.settings["base_url"])
