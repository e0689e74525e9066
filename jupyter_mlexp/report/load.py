"""Read what the runs left behind: manifests, metrics, journal, ignored runs, idea history.

Each metrics file is read once, line by line; a line that is not a JSON metric
record is skipped and remembered as ``file:line``. Every value keeps the
relative path and line it was read from, so the report can cite it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import NoHypothesisError, RecordError
from jupyter_mlexp.core.experiment import Experiment, RunInfo
from jupyter_mlexp.core.record import memo
from jupyter_mlexp.core.record.assignments import AssignmentError, parse_assignments
from jupyter_mlexp.core.record.hypothesis import Hypothesis
from jupyter_mlexp.core.record.idea_files import REGISTRATION_EVENTS, registrations
from jupyter_mlexp.core.record.lessons import read_lessons
from jupyter_mlexp.core.record.shapes import text_list, text_or_none
from jupyter_mlexp.core.stats.observations import (  # the one reader lives in core.observations; re-exported
    DEFAULT_CONFIG,
    NAN,
    Observation,
    config_key,
    read_metrics,
    recorded_hypothesis,
    run_observation,
    run_problems,
)
from jupyter_mlexp.report.report_errors import BaselineRegisteredError

__all__ = ["DEFAULT_CONFIG", "NAN", "config_key", "read_metrics", "load_experiment", "ReportData", "RunData"]


class RunData:
    """One run as the report sees it: the core's :class:`Observation` of it (the verdict's final values,
    from the one loader) and, read when a figure asks, its every point: ``series[name]`` is
    ``[(step, value, line), ...]``."""

    __slots__ = ("info", "rel", "observation", "_series")

    def __init__(self, info: RunInfo, rel: str, observation: Observation) -> None:
        self.info = info
        self.rel = rel  # run folder relative to the experiment folder, posix
        self.observation = observation  # this run as the core verdict sees it (the same final values)
        self._series: dict[str, list[tuple]] | None = None

    run_id = property(lambda self: self.info.run_id)
    mode = property(lambda self: self.info.mode)
    status = property(lambda self: self.info.status)
    ignored = property(lambda self: self.info.ignored)
    manifest = property(lambda self: self.info.manifest)
    stage = property(lambda self: self.info.record.stage or "(none)")
    seed = property(lambda self: self.info.record.seed)
    config = property(lambda self: self.observation.config)  # config_key(params)

    @property
    def finals(self) -> dict[str, tuple[float, str]]:
        """name -> (last value, "file:line"); a run whose metrics.jsonl is gone: its run.json summary."""
        return self.observation.finals

    @property
    def series(self) -> dict[str, list[tuple]]:
        """Every point of each metric (read once, when a figure first asks)."""
        if self._series is None:
            self._series = read_metrics(os.path.join(self.info.path, "metrics.jsonl"))[0]
        return self._series

    @property
    def skipped(self) -> list[tuple[int, str]]:
        """``(line, reason)`` of the lines of metrics.jsonl that are not metric records."""
        return run_problems(self.info)

    @property
    def params(self) -> dict:
        """The configuration: parameters, plus the ``%%run_quick`` overrides a quick run applied."""
        return self.info.record.configuration

    manifest_file = property(lambda self: f"{self.rel}/run.json")
    metrics_file = property(lambda self: f"{self.rel}/metrics.jsonl")

    @property
    def counted(self) -> bool:
        """Enters statistics and figures: completed and not ignored."""
        return self.status == "completed" and not self.ignored


def load_runs(exp: Experiment, runs: list[RunInfo]) -> list[RunData]:
    """``runs`` of ``exp`` (:meth:`Experiment.runs`) through the one loader of what the verdict judges
    (:func:`jupyter_mlexp.core.stats.observations.run_observation`)."""
    top = len(str(exp.path)) + 1
    out = []
    with memo.bulk():
        for info in runs:
            obs = run_observation(info, top)
            out.append(RunData(info, str(info.path)[top:].replace("\\", "/"), obs))
    return out


@dataclass
class Cited:
    """Anything read from a file, with where: ``source`` is ``path`` or ``path:line``."""

    value: Any  # as parsed from JSON: a dict for a log event
    source: str


@dataclass
class ReportData:
    """Everything a report is built from, read once."""

    experiment: Experiment
    hypothesis: Hypothesis | None
    runs: list[RunData]
    history: list[Cited]  # research_log.jsonl hypothesis events, with line
    journal: list  # JournalEntry list
    journal_warnings: list[str]
    ignored: list  # IgnoredRun (listed or placed under ignored/)
    ignored_warnings: list[str]
    lessons: list  # lessons.Lesson of this experiment
    baseline_params: dict | None = None  # the user's --baseline, parsed: descriptive only, chosen after the runs
    #: research_log.jsonl's registration events as the verdict reads them (:func:`registrations`)
    registrations: list[dict] = field(default_factory=list)
    cache: dict = field(default_factory=dict, repr=False)  # derived numbers, computed once per report

    @property
    def counted(self) -> list[RunData]:
        got = self.cache.get("counted")
        if got is None:
            got = self.cache["counted"] = [r for r in self.runs if r.counted]
        return got

    @property
    def current(self) -> list[RunData]:
        """The counted runs made under the current hypothesis (its version and content hash): the runs the
        verdict judges, and the only ones the results, comparisons and figures describe."""
        got = self.cache.get("current")
        if got is None:
            h = self.hypothesis
            got = self.cache["current"] = [
                r for r in self.counted if h is None or h.covers(*recorded_hypothesis(r.info.record))
            ]
        return got

    @property
    def earlier(self) -> list[RunData]:
        """Counted runs made under earlier hypothesis versions: listed apart as exploratory, never judged."""
        ids = {id(r) for r in self.current}
        return [r for r in self.counted if id(r) not in ids]

    @property
    def main_mode(self) -> str:
        """``full`` when any current full run counts, else ``quick``: the mode the verdict is judged on."""
        return "full" if any(r.mode == "full" for r in self.current) else "quick"

    def logged_metrics(self, runs: Iterable[RunData] | None = None) -> list[str]:
        """Metric names logged by counted runs: hypothesis metrics first, then the rest sorted."""
        names: set[str] = set()
        for r in self.counted if runs is None else runs:
            names.update(r.finals)
        first = [m for m in (self.hypothesis.metrics if self.hypothesis else []) if m in names]
        return first + sorted(names - set(first))

    def skipped_lines(self) -> list[str]:
        return [f"{r.metrics_file}:{line}: {why}" for r in self.runs for line, why in r.skipped]


def read_history(log: Path, exp_dir: Path) -> list[Cited]:
    rel = log.relative_to(exp_dir).as_posix()
    out: list[Cited] = []
    try:
        fh = open(log, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return out
    except OSError as err:
        raise RecordError(f"{log} cannot be read ({err.strerror or type(err).__name__}); fix or restore it") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if '"hypothesis' not in line and '"idea_updated"' not in line:
                continue
            try:
                ev = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(ev, dict) and ev.get("event") in REGISTRATION_EVENTS:
                out.append(Cited(_history_event(ev), f"{rel}:{lineno}"))
    return out


def _history_event(ev: dict) -> dict:
    """A registration event with each field the report reads in its expected type (hand edits aside)."""
    hyp = ev.get("hypothesis")
    version = ev.get("version")
    return {
        "event": ev["event"],
        "time": text_or_none(ev.get("time")),
        "version": version if isinstance(version, int) and not isinstance(version, bool) else None,
        "reason": text_or_none(ev.get("reason")),
        "changes": text_list(ev.get("changes")),
        "hypothesis": hyp if isinstance(hyp, dict) else {},
    }


def parse_baseline(text: str | dict | None) -> dict | None:
    """``KEY=VALUE,...`` (the one grammar of :mod:`jupyter_mlexp.core.record.assignments`) to a dict."""
    if text is None or isinstance(text, dict):
        return text
    if not text.strip():
        raise RecordError("--baseline needs KEY=VALUE[,KEY=VALUE...] naming the baseline configuration")
    try:
        return parse_assignments(text)
    except AssignmentError as err:
        raise RecordError(f"--baseline {err}") from None


def load_experiment(exp: Experiment, baseline: str | dict | None = None) -> ReportData:
    """Read the whole record of ``exp`` (runs of every status, ignored ones marked)."""

    exp.require()
    try:
        hyp = exp.hypothesis
    except NoHypothesisError:
        hyp = None
    named = parse_baseline(baseline)
    if named is not None and hyp is not None:
        spec = hyp.baseline_spec
        if spec.params is not None or spec.stage is not None:
            raise BaselineRegisteredError(
                f"a baseline is registered (`baseline: {spec}`, hypothesis v{hyp.version}) and the verdict and the "
                "report use it; --baseline cannot replace it after the runs (re-register a change with a reason instead)"
            )
    listed = exp.runs(include_ignored=True)
    runs = load_runs(exp, listed)
    journal = exp.journal()
    ignored, ignored_warnings = exp.ignored(listed)
    lessons = [x for x in read_lessons(exp.base.parent) if x.experiment == exp.name]
    return ReportData(
        experiment=exp,
        hypothesis=hyp,
        runs=runs,
        history=read_history(exp.log_jsonl, exp.path),
        journal=journal.entries,
        journal_warnings=journal.warnings,
        ignored=ignored,
        ignored_warnings=ignored_warnings,
        lessons=lessons,
        baseline_params=named,
        registrations=registrations(exp.events()),
    )


def finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
