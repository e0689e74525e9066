"""jupyter-mlexp: hypothesis-driven ML experiments in Jupyter.

``%load_ext jupyter_mlexp`` registers the magics; ``import jupyter_mlexp as
mlexp`` gives the logging API (``mlexp.log_metric``, ``mlexp.log_array``).
"""

from __future__ import annotations

from .errors import MlexpError
from .experiment import Experiment
from .hypothesis import Hypothesis
from .tracking import attach_batch_run, log_array, log_metric

__version__ = "0.1.0"
__all__ = ["Experiment", "Hypothesis", "MlexpError", "attach_batch_run", "log_array", "log_metric", "__version__"]


def load_ipython_extension(ipython):
    from .magics import load_ipython_extension as _load

    _load(ipython)


# --- Jupyter extension hooks -------------------------------------------------------------------
