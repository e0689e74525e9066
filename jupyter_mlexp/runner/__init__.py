"""The batch runner: quick and full runs of a parameterized notebook, sweeps, local or on Dask.

``mlexp run`` (:mod:`.commands`) is a thin layer over :func:`run_sweep` /
:func:`run_notebook` (:mod:`.api`). One module per job: :mod:`.sweep` expands
parameters, grids and seeds into run specs; :mod:`.notebook` parameterizes with
papermill; :mod:`.kernels` keeps warm kernels; :mod:`.execute` runs one spec;
:mod:`.executors` runs many (``--jobs N`` or ``--scheduler``); :mod:`.progress`
shows how far a sweep is. Imports are lazy: a kernel imports this package to
reach :mod:`.kernelside` and should not pay for the rest.
"""

from __future__ import annotations

__all__ = ["run_notebook", "run_sweep", "SweepResult", "SweepInterrupted"]


def __getattr__(name):
    if name in __all__:
        from jupyter_mlexp.runner import run_api as api

        return getattr(api, name)
    raise AttributeError(name)
