"""``mlexp run --cluster cluster.yaml``: a Dask cluster started from a YAML file, for one sweep.

The file names any cluster class by import path with its keyword arguments::

    class: dask_jobqueue.SLURMCluster     # or dask_gateway.GatewayCluster, distributed.LocalCluster
    kwargs: {cores: 8, memory: 32GB, walltime: "02:00:00"}
    scale: 4                              # optional: cluster.scale(4) (jobs, gateway workers)
    adapt: {minimum: 0, maximum: 10}      # optional: cluster.adapt(...) instead

The cluster is started, the sweep runs on it through its scheduler address exactly as with
``--scheduler ADDRESS``, and it is closed at the end (also on Ctrl-C or an error).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from jupyter_mlexp.core.errors import MlexpError

KEYS = ("class", "kwargs", "scale", "adapt")


def read_spec(path: str | Path) -> dict[str, Any]:
    """The YAML file as a checked dict; a wrong file is one line saying what to write."""

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise MlexpError(f"--cluster {path}: cannot be read ({err.strerror or type(err).__name__})") from None
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise MlexpError(f"--cluster {path}: not YAML ({str(err).splitlines()[0]})") from None
    example = "write e.g. 'class: distributed.LocalCluster' and 'kwargs: {n_workers: 2}'"
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str):
        raise MlexpError(f"--cluster {path}: no 'class: MODULE.CLASS' line; {example}")
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise MlexpError(f"--cluster {path}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(KEYS)}")
    if not isinstance(spec.get("kwargs") or {}, dict):
        raise MlexpError(f"--cluster {path}: 'kwargs' must be a mapping of keyword arguments; {example}")
    return spec


def cluster_class(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    if not module:
        raise MlexpError(f"--cluster: class {name!r} needs its module, e.g. distributed.LocalCluster")
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as err:
        raise MlexpError(f"--cluster: cannot import {module!r} ({err}); install the package that provides it") from None
    except AttributeError:
        raise MlexpError(f"--cluster: {module!r} has no {attr!r}") from None


@contextmanager
def open_cluster(path: str | Path) -> Iterator[str]:
    """Start the cluster ``path`` describes; yield its scheduler address; close it at the end."""
    spec = read_spec(path)
    cls = cluster_class(spec["class"])
    try:
        cluster = cls(**(spec.get("kwargs") or {}))
    except Exception as err:  # a cluster class reports a bad argument its own way (LocalCluster: "failed to start")
        cause = err.__cause__ or err.__context__
        why = f"{err}" + (f" ({type(cause).__name__}: {cause})" if cause is not None else "")
        raise MlexpError(f"--cluster {path}: {spec['class']} did not start with its kwargs: {why}") from None
    try:
        if spec.get("adapt") is not None:
            cluster.adapt(**(spec["adapt"] or {}))
        elif spec.get("scale") is not None:
            cluster.scale(int(spec["scale"]))
        yield cluster.scheduler_address
    finally:
        cluster.close()
