"""Expand ``-p``, ``-f params.yaml``, ``--grid`` and ``--seeds`` into run specs.

A sweep is the cross product of every grid axis and every seed; each point is
one :class:`RunSpec`. ``-p`` values are parsed the way papermill's ``-p`` parses them
(``True``/``False``/``None``, int, float, else the string as written, quotes included);
``--grid`` values by the one ``NAME=VALUE`` grammar of :mod:`jupyter_mlexp.core.record.assignments`
(Python literals: ``[64,64]``, ``'a,b'``; ``nan``; a bare word is a string). A value that cannot be read, or that
does not fit the type the notebook's parameters cell declares, is an error
before anything runs.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.assignments import AssignmentError, parse_axis


class SweepError(MlexpError, ValueError):
    """A sweep that cannot be expanded as written (bad grid, seeds, parameter file)."""


@dataclass
class RunSpec:
    """One run of a sweep: its parameters and seed. ``index`` orders the sweep."""

    index: int
    mode: str
    params: dict[str, Any]
    seed: int
    label: str = ""
    undeclared: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"seed={self.seed}"] + [f"{k}={v!r}" for k, v in self.params.items() if k != "seed"]
        return " ".join(parts)


def resolve_value(text: str) -> Any:
    """papermill's ``-p`` rule: ``True``/``False``/``None``, int, float, else the string."""
    if text == "True":
        return True
    if text == "False":
        return False
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["lr=0.1,0.01", "layers=[64],[64,64]"]`` -> ``{"lr": [0.1, 0.01], "layers": [[64], [64, 64]]}``.

    Each value is read by the one ``NAME=VALUE`` grammar (:mod:`jupyter_mlexp.core.record.assignments`)."""
    grid: dict[str, list[Any]] = {}
    for raw in items or ():
        try:
            name, values = parse_axis(raw)
        except AssignmentError as err:
            raise SweepError(f"--grid {err}") from None
        if name in grid:
            raise SweepError(f"--grid {name} given twice; list all its values in one --grid {name}=...")
        grid[name] = values
    return grid


def parse_seeds(text: str | Iterable[int] | None) -> list[int] | None:
    """``"0,1,2"`` (or ``"0-4"``) -> ``[0, 1, 2]``; None stays None."""
    if text is None:
        return None
    if not isinstance(text, str):
        seeds = list(text)
    else:
        seeds = []
        for part in text.split(","):
            part = part.strip()
            lo, dash, hi = part.partition("-")
            try:
                if dash and lo:
                    seeds.extend(range(int(lo), int(hi) + 1))
                else:
                    seeds.append(int(part))
            except ValueError:
                raise SweepError(
                    f"--seeds {text!r}: {part!r} is not a whole number (write --seeds 0,1,2 or 0-4)"
                ) from None
    if not seeds:
        raise SweepError("--seeds is empty: give at least one seed (e.g. --seeds 0,1,2)")
    if any(not isinstance(s, int) or isinstance(s, bool) for s in seeds):
        raise SweepError(f"seeds must be whole numbers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise SweepError(f"--seeds repeats a seed: {seeds}")
    return seeds


def parse_params(pairs: Iterable[tuple[str, str]] | Mapping[str, Any] | None) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs (strings, papermill's rule) or a mapping (kept as given)."""
    if pairs is None:
        return {}
    if isinstance(pairs, Mapping):
        return dict(pairs)
    out = {}
    for name, value in pairs:
        if not name.isidentifier():
            raise SweepError(f"-p {name!r}: a parameter name must be a Python identifier")
        out[name] = resolve_value(value) if isinstance(value, str) else value
    return out


def read_params_file(path: str | os.PathLike | None) -> dict[str, Any]:
    """A YAML mapping of parameters (papermill's ``-f``)."""
    if not path:
        return {}

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(f"parameter file {path} not found") from None
    except (OSError, yaml.YAMLError) as err:
        raise SweepError(f"parameter file {path} cannot be read as YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise SweepError(f"parameter file {path} must be a mapping of NAME: VALUE")
    return data


_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,)}


def check_types(name: str, values: Iterable[Any], declared: Mapping[str, str]) -> None:
    """A value that cannot be the declared int/float/bool of ``name`` is an error."""
    kind = declared.get(name)
    ok = _TYPES.get(kind or "")
    if not ok:
        return
    for v in values:
        if isinstance(v, bool) and kind != "bool":
            bad = True
        else:
            bad = not isinstance(v, ok)
        if bad:
            raise SweepError(
                f"parameter {name}: value {v!r} is not a {kind} (the notebook's parameters cell declares {name} as {kind})"
            )


def expand(
    mode: str,
    params: Mapping[str, Any] | None = None,
    grid: Mapping[str, list[Any]] | None = None,
    seeds: list[int] | None = None,
    declared: Mapping[str, str] | None = None,
) -> list[RunSpec]:
    """Cross product of ``grid`` and ``seeds`` over the fixed ``params``.

    ``declared`` maps the notebook's parameter names to papermill's inferred type
    names; a name outside it is recorded as undeclared (papermill injects it anyway),
    and ``seed`` is passed as a parameter only when the notebook declares it.
    """
    params = dict(params or {})
    grid = {k: list(v) for k, v in (grid or {}).items()}
    declared = dict(declared or {})
    for name, values in grid.items():
        if not values:
            raise SweepError(f"--grid {name} has no values")
    both = set(params) & set(grid)
    if both:
        raise SweepError(f"{', '.join(sorted(both))} given both as a fixed parameter and as a --grid axis; keep one")
    if "seed" in grid or ("seed" in params and seeds is not None):
        raise SweepError("give seeds with --seeds, not as a parameter or grid axis")
    if seeds is None:
        seed_value = params.pop("seed", 0)
        if not isinstance(seed_value, int) or isinstance(seed_value, bool):
            raise SweepError(f"seed must be a whole number, got {seed_value!r}")
        seeds = [seed_value]
    for name, value in params.items():
        check_types(name, [value], declared)
    for name, values in grid.items():
        check_types(name, values, declared)

    names = list(grid)
    specs: list[RunSpec] = []
    for combo in itertools.product(*(grid[n] for n in names)):
        for seed in seeds:
            p = {**params, **dict(zip(names, combo))}
            if "seed" in declared:
                p["seed"] = seed
            undeclared = [k for k in p if k not in declared]
            label = " ".join(f"{n}={v!r}" for n, v in zip(names, combo))
            specs.append(RunSpec(len(specs), mode, p, seed, label, undeclared))
    return specs
