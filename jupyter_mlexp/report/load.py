"""Read what the runs left behind: manifests, metrics, journal, ignored runs, idea history.

Each metrics file is read once, line by line; a line that is not a JSON metric
record is skipped and remembered as ``file:line``. Every value keeps the
relative path and line it was read from, so the report can cite it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import NoHypothesisError, RecordError
from jupyter_mlexp.core.experiment import Experiment, RunInfo
from jupyter_mlexp.core.hypothesis import Hypothesis

NAN = float("nan")
DEFAULT_CONFIG = "(no parameters)"


def config_key(params: dict | None) -> str:
    """A configuration's name: its parameters without the seed, sorted, ``k=v, ...``."""
    items = sorted((k, v) for k, v in (params or {}).items() if k != "seed")
    if not items:
        return DEFAULT_CONFIG
    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in items)


@dataclass
class RunData:
    """One run as the report sees it. ``series[name]`` is ``[(step, value, line), ...]``."""

    info: RunInfo
    rel: str  # run folder relative to the experiment folder, posix
    series: dict[str, list[tuple]] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    finals: dict[str, tuple[float, str]] = field(default_factory=dict)  # name -> (last value, "file:line")
    config: str = ""  # config_key(params), computed once

    run_id = property(lambda self: self.info.run_id)
    mode = property(lambda self: self.info.mode)
    status = property(lambda self: self.info.status)
    ignored = property(lambda self: self.info.ignored)
    manifest = property(lambda self: self.info.manifest)
    stage = property(lambda self: self.info.manifest.get("stage") or "(none)")
    seed = property(lambda self: self.info.manifest.get("seed"))

    @property
    def params(self) -> dict:
        """The configuration: parameters, plus the ``%%run_quick`` overrides a quick run applied."""
        m = self.info.manifest
        merged = {**(m.get("params") or {}), **(m.get("overrides") or {})}
        return {k: v for k, v in merged.items() if k != "seed"}

    manifest_file = property(lambda self: f"{self.rel}/run.json")
    metrics_file = property(lambda self: f"{self.rel}/metrics.jsonl")

    @property
    def counted(self) -> bool:
        """Enters statistics and figures: completed and not ignored."""
        return self.status == "completed" and not self.ignored


def read_metrics(path: Path) -> tuple[dict[str, list[tuple]], list[tuple[int, str]]]:
    """``{name: [(step, value, line)]}`` and skipped ``(line, reason)``; NaN/inf come back as NaN.

    Fast path: the whole file is decoded in one ``json.loads`` call; a file with a
    bad line is read again line by line to skip exactly the bad ones.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except FileNotFoundError:
        return {}, []
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    records = None
    if all(lines):
        try:
            records = json.loads("[" + ",".join(lines) + "]")
        except ValueError:
            records = None
        if records is not None and len(records) != len(lines):
            records = None  # a line holding two values: read line by line
    series: dict[str, list[tuple]] = {}
    skipped: list[tuple[int, str]] = []
    if records is None:
        records = []
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                records.append(None)
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append(None)
                skipped.append((lineno, "not JSON"))
    for lineno, rec in enumerate(records, 1):
        if rec is None:
            continue
        try:
            name = rec["name"]
            value = rec["value"]
            step = rec.get("step")
            hash(name)
        except (KeyError, TypeError, AttributeError):
            skipped.append((lineno, "not a metric record (needs name and value)"))
            continue
        if value is None:
            value = NAN
        elif type(value) is not float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                skipped.append((lineno, f"value {value!r} is not a number"))
                continue
            value = float(value)
        points = series.get(name)
        if points is None:
            points = series[name] = []
        points.append((len(points) if step is None else step, value, lineno))
    skipped.sort()
    return series, skipped


def load_run(info: RunInfo, exp_dir: Path) -> RunData:
    rel = info.path.relative_to(exp_dir).as_posix()
    data = RunData(info, rel)
    data.config = config_key(data.params)
    data.series, data.skipped = read_metrics(info.path / "metrics.jsonl")
    mf = data.metrics_file
    for name, points in data.series.items():
        _, value, line = points[-1]
        data.finals[name] = (value, f"{mf}:{line}")
    # A run whose metrics.jsonl is gone still has its summary in run.json: use it, cite it.
    for name, s in (info.manifest.get("metrics_summary") or {}).items():
        if name not in data.finals and isinstance(s, dict) and "last" in s:
            last = s.get("last")
            data.finals[name] = (NAN if last is None else float(last), data.manifest_file)
    return data


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
    baseline_params: dict | None = None  # the user's --baseline, parsed
    cache: dict = field(default_factory=dict, repr=False)  # derived numbers, computed once per report

    @property
    def counted(self) -> list[RunData]:
        got = self.cache.get("counted")
        if got is None:
            got = self.cache["counted"] = [r for r in self.runs if r.counted]
        return got

    @property
    def main_mode(self) -> str:
        """``full`` when any full run counts, else ``quick``: the mode the verdict is judged on."""
        return "full" if any(r.mode == "full" for r in self.counted) else "quick"

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
    with fh:
        for lineno, line in enumerate(fh, 1):
            if '"hypothesis' not in line and '"idea_updated"' not in line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict) and ev.get("event") in ("hypothesis_registered", "idea_updated"):
                out.append(Cited(ev, f"{rel}:{lineno}"))
    return out


def parse_baseline(text: str | dict | None) -> dict | None:
    """``KEY=VALUE,...`` (values as Python literals, else strings) to a dict."""
    if text is None or isinstance(text, dict):
        return text
    from jupyter_mlexp.core.quickrun import parse_overrides

    items = [p.strip() for p in text.split(",") if p.strip()]
    if not items:
        raise RecordError("--baseline needs KEY=VALUE[,KEY=VALUE...] naming the baseline configuration")
    return parse_overrides(items)


def load_experiment(exp: Experiment, baseline: str | dict | None = None) -> ReportData:
    """Read the whole record of ``exp`` (runs of every status, ignored ones marked)."""
    from jupyter_mlexp.core.lessons import read_lessons

    exp.require()
    try:
        hyp = exp.hypothesis
    except NoHypothesisError:
        hyp = None
    runs = [load_run(info, exp.path) for info in exp.runs(include_ignored=True)]
    journal = exp.journal()
    ignored, ignored_warnings = exp.ignored()
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
        baseline_params=parse_baseline(baseline),
    )


def finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
