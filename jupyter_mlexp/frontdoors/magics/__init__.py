"""IPython magics: ``%load_ext jupyter_mlexp`` registers them."""

from __future__ import annotations

import jupyter_mlexp
from jupyter_mlexp.frontdoors.magics import report_magics as _report  # noqa: F401  (registers %mlexp report/conclude)
from jupyter_mlexp.frontdoors.magics.experiment_magics import ExperimentMagics


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(ExperimentMagics)
    ipython.push({"mlexp": jupyter_mlexp}, interactive=False)
