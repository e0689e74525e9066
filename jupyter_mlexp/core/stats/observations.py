"""What the verdict is judged on: each counted run's configuration, seed and final metric values.

One reader for every surface: the report (through :mod:`jupyter_mlexp.report.load`),
the REST endpoint, ``mlexp status`` and the widgets all get a run's final value of
a metric here: the last value it logged in ``metrics.jsonl`` (cited ``file:line``),
else the ``last`` of ``metrics_summary`` in ``run.json``. NaN/inf are kept (a ``null`` last is NaN).
The lines are read by :mod:`jupyter_mlexp.core.record.metric_lines`, the one codec of ``metrics.jsonl``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.record import memo
from jupyter_mlexp.core.record.fsio import check_confined
from jupyter_mlexp.core.record.metric_lines import NAN, Series, read_series, read_summaries
from jupyter_mlexp.core.record.run_record import RunRecord

if TYPE_CHECKING:
    from jupyter_mlexp.core.experiment import Experiment, RunInfo

DEFAULT_CONFIG = "(no parameters)"


def config_key(params: dict[str, Any] | None) -> str:
    """A configuration's name: its parameters without the seed, sorted, ``k=v, ...``."""
    items = sorted((k, v) for k, v in (params or {}).items() if k != "seed")
    if not items:
        return DEFAULT_CONFIG
    return ", ".join(f"{k}={_value_text(v)}" for k, v in items)


def same_value(value: Any, wanted: Any) -> bool:
    """A parameter's recorded value is the one named (``0.1`` and ``"0.1"`` are the same)."""
    return bool(value == wanted or str(value) == str(wanted))


def _value_text(v: Any) -> str:
    """A parameter's value as ``json.dumps`` writes it; strings bare. Whole numbers skip the encoder (hot)."""
    if isinstance(v, str):
        return v
    if type(v) is int:
        return str(v)
    if type(v) is float and v - v == 0.0:  # finite: json.dumps writes float.__repr__ (hot: every row's label)
        return repr(v)
    return json.dumps(v)


def run_params(manifest: dict[str, Any] | RunRecord) -> dict[str, Any]:
    """The configuration: parameters, plus the ``%%run_quick`` overrides a quick run applied
    (:attr:`RunRecord.configuration`; a listed run has it as ``info.record.configuration``)."""
    record = manifest if isinstance(manifest, RunRecord) else RunRecord.from_manifest(manifest)
    return record.configuration


def read_metrics(path: Path | str) -> tuple[Series, list[tuple[int, str]]]:
    """``{name: [(step, value, line)]}`` and skipped ``(line, reason)``; NaN/inf kept (as NaN/±inf).

    Read by :mod:`jupyter_mlexp.core.record.metric_lines` (the one codec of ``metrics.jsonl``). An
    unchanged file is parsed once per process (:mod:`jupyter_mlexp.core.record.memo`): the result is
    shared, read-only. Every point is kept: for a run's final values alone, use :func:`read_finals`.
    """
    try:
        check_confined(path)  # before the memo: a file parsed unconfined is not served confined
        return memo.cached(str(path), "metrics", _parse_metrics)
    except FileNotFoundError:
        return {}, []
    except RecordError as err:  # a symlink out of the workspace, a folder where the file belongs: not read
        return {}, [(0, str(err))]
    except OSError as err:
        return {}, [(0, f"cannot be read ({err.strerror or type(err).__name__})")]


def _parse_metrics(file: str) -> tuple[Series, list[tuple[int, str]]]:
    series, problems = read_series(file)
    return series, problems.lines()


def read_finals(path: Path | str) -> tuple[dict[str, tuple[float, int]], list[tuple[int, str]]]:
    """Each metric's last value and its line, streamed (memory does not grow with the file), and the
    skipped ``(line, reason)``. The same values as the last point of :func:`read_metrics`."""
    try:
        check_confined(path)
        return memo.cached(str(path), "finals", _parse_finals, any_size=True)
    except FileNotFoundError:
        return {}, []
    except RecordError as err:
        return {}, [(0, str(err))]
    except OSError as err:
        return {}, [(0, f"cannot be read ({err.strerror or type(err).__name__})")]


def _parse_finals(file: str) -> tuple[dict[str, tuple[float, int]], list[tuple[int, str]]]:
    summaries, problems = read_summaries(file)
    return {name: (s.last, s.line) for name, s in summaries.items()}, problems.lines()


def cited_finals(lasts: dict[str, tuple[float, int]], record: RunRecord, rel: str) -> dict[str, tuple[float, str]]:
    """``{metric: (last value, "file:line")}`` from each metric's ``(last value, line)`` (:func:`read_finals`);
    a metric whose metrics.jsonl is gone falls back to the ``metrics_summary`` of run.json, cited as such.
    ``rel``: the run folder, relative."""
    finals: dict[str, tuple[float, str]] = {}
    for name, (value, line) in lasts.items():
        finals[name] = (value, f"{rel}/metrics.jsonl:{line}")
    for name, s in record.metrics_summary.items():
        if name not in finals and "last" in s:
            last = s.get("last")
            finals[name] = (NAN if last is None else float(last), f"{rel}/run.json")
    return finals


@dataclass
class Observation:
    """One counted run as the verdict sees it."""

    run_id: str
    mode: str
    stage: str
    params: dict[str, Any]
    seed: Any
    finals: dict[str, tuple[float, str]] = field(default_factory=dict)
    version: int | None = None  # hypothesis version in force when it started (None: not recorded)
    started: str | None = None
    sha256: str | None = None  # content_sha256 of that hypothesis, as the run recorded it
    config: str = ""
    status: str = "completed"  # the run's final status (the verdict accounts for failed seeds of a judged arm)
    ignored: str | None = None  # the reason, when the run is ignored
    overrides: dict[str, Any] = field(default_factory=dict)  # a quick run's %%run_quick overrides
    record: RunRecord | None = None  # run.json: what differed between two runs of one seed

    @property
    def counted(self) -> bool:
        """Enters the verdict's test: completed and not ignored."""
        return self.status == "completed" and self.ignored is None

    def __post_init__(self) -> None:
        if not self.config:
            self.config = config_key(self.params)


def recorded_hypothesis(record: RunRecord) -> tuple[int | None, str | None]:
    """The hypothesis version and content hash a run recorded when it started (None: not recorded)."""
    return record.hypothesis_version, record.hypothesis_sha256


def observation(
    info: RunInfo,
    rel: str,
    finals: dict[str, tuple[float, str]],
    params: dict[str, Any] | None = None,
    config: str = "",
) -> Observation:
    """``info`` as the verdict sees it; ``params`` and ``config`` when the caller has them already."""
    r = info.record
    return Observation(
        run_id=info.run_id,
        mode=info.mode,
        stage=r.stage or "(none)",
        params=r.configuration if params is None else params,
        config=config,
        seed=r.seed,
        finals=finals,
        version=r.hypothesis_version,
        started=r.started,
        sha256=r.hypothesis_sha256,
        status=info.status,
        ignored=info.ignored_reason,
        overrides=r.overrides,
        record=r,
    )


def counted(info: RunInfo) -> bool:
    """Enters the verdict: completed and not ignored."""
    return info.status == "completed" and not info.ignored


def load_observations(exp: Experiment, runs: list[RunInfo] | None = None, *, every: bool = False) -> list[Observation]:
    """Every counted run of ``exp`` (of ``runs``, when the caller has read them) with its final metric values;
    ``every``: every run, failed and ignored ones too (the verdict accounts for each of them).

    The one loader of what the verdict judges: the report, the REST API, ``mlexp status`` and the
    widgets all come here. A run whose listing and ``metrics.jsonl`` did not change since the last
    call gives the same (shared, read-only) :class:`Observation` again.
    """
    out = []
    top = len(str(exp.path)) + 1
    listed = exp.runs(include_ignored=True) if runs is None else runs
    with memo.bulk():
        for info in listed:
            if not every and not counted(info):
                continue
            out.append(run_observation(info, top))
    return out


def run_observation(info: RunInfo, top: int) -> Observation:
    """``info``'s :class:`Observation`: its final values read through :func:`read_finals`; ``top``: the
    length of the experiment folder's path plus one (the run folder's path, relative, follows it)."""
    lasts, _ = read_finals(os.path.join(info.path, "metrics.jsonl"))  # a str: no Path per run (hot)
    kept = info.__dict__.get("_observation")
    if kept is not None and kept[0] is lasts and kept[1] == top:  # the same parse of the same file: unchanged
        return kept[2]
    rel = str(info.path)[top:].replace("\\", "/")  # the run folder relative to the experiment
    obs = observation(info, rel, cited_finals(lasts, info.record, rel))
    info.__dict__["_observation"] = (lasts, top, obs)
    return obs


def run_problems(info: RunInfo) -> list[tuple[int, str]]:
    """The ``(line, reason)`` of ``info``'s ``metrics.jsonl`` lines that are not metric records (the
    same read as :func:`run_observation`'s)."""
    return read_finals(os.path.join(info.path, "metrics.jsonl"))[1]
