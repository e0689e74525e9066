"""Configurations, the baseline, and each configuration's comparison against it.

A configuration is a run's parameters without the seed; the runs of one
configuration in one stage and mode are its seeds. Only counted runs (completed,
not ignored) enter a group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from jupyter_mlexp.core.record.hypothesis import Criterion
from jupyter_mlexp.report.load import ReportData, RunData
from jupyter_mlexp.report.report_errors import BaselineNotFoundError
from jupyter_mlexp.report.stats import Comparison, Summary, compare, summarize

BASELINE_STAGE = "baselines"
CHOSEN_AFTER = "chosen after the runs: descriptive only, the verdict does not use it"


@dataclass
class Group:
    stage: str
    mode: str
    config: str
    params: dict
    runs: list[RunData] = field(default_factory=list)
    _summaries: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def seeds(self) -> list:
        return sorted({r.seed for r in self.runs}, key=lambda s: (s is None, str(s)))

    def summary(self, metric: str) -> Summary:
        got = self._summaries.get(metric)
        if got is None:
            got = self._summaries[metric] = summarize_runs(self.runs, metric)
        return got


def summarize_runs(runs: list[RunData], metric: str) -> Summary:
    values, sources, missing = [], [], 0
    for r in runs:
        got = r.finals.get(metric)
        if got is None:
            missing += 1
        else:
            values.append(got[0])
            sources.append(got[1])
    return summarize(values, sources, missing)


def group_runs(runs: list[RunData]) -> dict[tuple[str, str], list[Group]]:
    """``{(stage, mode): [Group, ...]}`` in first-seen order."""
    table: dict[tuple[str, str], dict[str, Group]] = {}
    for r in runs:
        key = (r.stage, r.mode)
        by_config = table.setdefault(key, {})
        g = by_config.get(r.config)
        if g is None:
            g = by_config[r.config] = Group(r.stage, r.mode, r.config, r.params)
        g.runs.append(r)
    order = {"quick": 0, "full": 1}
    return {k: list(v.values()) for k, v in sorted(table.items(), key=lambda kv: (order.get(kv[0][1], 2), kv[0][0]))}


def higher_is_better(data: ReportData, metric: str) -> bool:
    """From the success criterion when it names ``metric`` (``<``/``<=`` mean lower is better)."""
    h = data.hypothesis
    if h is not None:
        for text in (h.success, h.failure):
            try:
                c = Criterion.parse(text or "")
            except Exception:
                continue
            if c.metric == metric:
                return c.op not in ("<", "<=")
    return not any(w in metric.lower() for w in ("loss", "error", "err", "time", "latency", "perplexity"))


def rank_key(data: ReportData, metric: str):
    hib = higher_is_better(data, metric)

    def key(g: Group):
        m = g.summary(metric).mean
        if m is None:
            return (1, 0.0)
        return (0, -m if hib else m)

    return key


def counted_groups(data: ReportData) -> dict[tuple[str, str], list[Group]]:
    """``group_runs(data.current)``: the runs the verdict judges (current hypothesis), computed once per report."""
    got = data.cache.get("groups")
    if got is None:
        got = data.cache["groups"] = group_runs(data.current)
    return got


def earlier_groups(data: ReportData) -> dict[tuple[str, str], list[Group]]:
    """``group_runs(data.earlier)``: runs under earlier hypothesis versions, shown apart as exploratory."""
    got = data.cache.get("earlier groups")
    if got is None:
        got = data.cache["earlier groups"] = group_runs(data.earlier)
    return got


def mode_groups(data: ReportData, mode: str) -> list[Group]:
    return [g for (stage, m), gs in counted_groups(data).items() if m == mode for g in gs]


def _matches(params: dict, wanted: dict) -> bool:
    for k, v in wanted.items():
        if k not in params:
            return False
        if params[k] != v and str(params[k]) != str(v):
            return False
    return True


def baseline_group(data: ReportData, mode: str, groups: list[Group] | None = None) -> tuple[Group | None, str]:
    """The baseline of ``mode`` and how it was chosen; ``(None, why)`` when there is none."""
    groups = mode_groups(data, mode) if groups is None else groups
    h = data.hypothesis
    primary = h.primary_metric if h else None
    spec = h.baseline_spec if h else None
    wanted = data.baseline_params if data.baseline_params is not None else (spec.params if spec else None)
    if wanted is not None:
        found = [g for g in groups if _matches(g.params, wanted)]
        configs = {g.config for g in found}
        named = ", ".join(f"{k}={v}" for k, v in wanted.items())
        registered = data.baseline_params is None
        if registered and (not found or len(configs) > 1):  # the verdict says why; the report only describes
            why = "was never run" if not found else "matches several configurations"
            return None, f"the registered baseline `{named}` {why} in the counted {mode} runs (see the verdict)"
        if not found:
            anywhere = any(_matches(r.params, wanted) for r in data.counted)
            if not anywhere:
                raise BaselineNotFoundError(
                    f"no counted run has the baseline parameters {wanted}: name a configuration that ran "
                    "(see `mlexp runs`)"
                )
            return None, f"the named baseline {wanted} has no counted {mode} runs"
        if len(configs) > 1:
            raise BaselineNotFoundError(
                f"the baseline {wanted} matches several configurations ({'; '.join(sorted(configs))}): "
                "name more parameters"
            )
        best = max(found, key=lambda g: (g.stage == BASELINE_STAGE, len(g.runs)))
        if registered:
            return best, f"registered (`baseline: {named}`)"
        return best, f"named with --baseline ({named}), {CHOSEN_AFTER}"
    stage = (spec.stage if spec else None) or BASELINE_STAGE
    candidates = [g for g in groups if g.stage == stage]
    if not candidates:
        return None, f"no counted {mode} runs in stage `{stage}` and no baseline registered"
    if len(candidates) == 1 or not primary:
        return candidates[0], f"the configuration of stage `{stage}`"
    best = sorted(candidates, key=rank_key(data, primary))[0]
    return best, f"the best of {len(candidates)} configurations in stage `{stage}` on {primary}"


def comparand(data: ReportData) -> str:
    """What the report calls the configuration it compares against: ``baseline`` only where the
    hypothesis names one (``baseline: NAME=VALUE`` or ``baseline: stage S``) or ``--baseline`` does;
    otherwise ``reference`` (the best of stage `baselines`, which the hypothesis did not call its baseline:
    its ``baseline:`` may be a free-text note such as a majority-class figure)."""
    if data.baseline_params is not None:
        return "baseline"
    spec = data.hypothesis.baseline_spec if data.hypothesis else None
    return "baseline" if spec is not None and (spec.params is not None or spec.stage is not None) else "reference"


def best_group(data: ReportData, groups: list[Group], metric: str, exclude: Group | None = None) -> Group | None:
    pool = [g for g in groups if g is not exclude and g.summary(metric).n > 0]
    if not pool:
        return None
    return sorted(pool, key=rank_key(data, metric))[0]


def comparisons(groups: list[Group], base: Group | None, metric: str, cache: dict | None = None) -> list[Comparison]:
    """Each group of ``groups`` (but the baseline) against ``base`` on ``metric``."""
    if base is None:
        return []
    key = ("comparisons", id(base), metric, len(groups))
    if cache is not None and key in cache:
        return cache[key]
    b = base.summary(metric)
    out = []
    for g in groups:
        if g is base:
            continue
        a = g.summary(metric)
        if a.n == 0:
            continue
        out.append(compare(metric, label(g), a, label(base), b))
    if cache is not None:
        cache[key] = out
    return out


def label(g: Group) -> str:
    return f"{g.config} [{g.stage}]"


def total_duration(runs: list[RunData]) -> float:
    return math.fsum(float(r.info.record.duration_s or 0.0) for r in runs)
