"""Closing an experiment: a ``COMPLETED`` journal entry that pairs the ``PLANNED`` one.

The outcome, its deltas against the expectation and the baseline, and the total
run time are computed from the runs; the learning and the next step are the
researcher's own words. The tool never invents them.
"""

from __future__ import annotations

import re

from jupyter_mlexp.core import journaling
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.stats.verdict_arms import fmt
from jupyter_mlexp.report.groups import total_duration
from jupyter_mlexp.report.load import load_experiment
from jupyter_mlexp.report.report_errors import ReportError
from jupyter_mlexp.report.report_verdict import judge
from jupyter_mlexp.report.tables import cite

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")


def expected_value(expected: str | None, metric: str) -> float | None:
    """The number in the registered ``expected:`` text (the one after the metric's name, if named)."""
    if not expected:
        return None
    at = expected.find(metric)
    m = _NUMBER.search(expected, at + len(metric)) if at >= 0 else None
    m = m or _NUMBER.search(expected)
    if not m:
        return None
    raw = m.group(0)
    return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)


def conclude(exp: Experiment, learning: str, next: str | None = None, baseline: str | dict | None = None) -> str:
    """Append the ``COMPLETED`` entry to ``JOURNAL.md``; return its text."""
    learning = " ".join((learning or "").split())
    if not learning:
        raise ReportError(
            "say what you learned: --learning TEXT is required (one sentence, your words; "
            "the tool never writes it for you)"
        )
    next_step = " ".join((next or "").split()) or None
    data = load_experiment(exp, baseline=baseline)
    h = data.hypothesis
    if h is None:
        raise ReportError(f"experiment {exp.name!r} has no registered hypothesis to conclude")
    v = judge(data)
    planned = [e for e in data.journal if "PLANNED" in e.tags]
    mine = [e for e in planned if f"Hypothesis v{h.version}:" in e.text] or planned
    lines = []
    if mine:
        p = mine[-1]
        lines.append(f"Pairs the PLANNED entry at JOURNAL.md:{p.line} ({p.timestamp}) for hypothesis v{h.version}.")
    else:
        lines.append(f"No PLANNED entry found in JOURNAL.md for hypothesis v{h.version}.")
    lines.append(f"Verdict ({v.mode} runs): {v.decision} — {v.reason}")
    lines += [f"Note: {c}" for c in v.criterion_changes]
    crit = h.success_criterion
    judged = v.judged[0] if v.judged else None
    if judged is not None and judged.mean is not None:
        lines.append(f"Actual outcome: {crit.metric} = {fmt(judged)} for `{judged.config}` ({cite(judged.sources)})")
        exp_num = expected_value(h.expected, crit.metric)
        if exp_num is not None:
            lines.append(f"Delta vs expectation ({h.expected!r}): {judged.mean - exp_num:+.4g}")
        elif h.expected:
            lines.append(f"Delta vs expectation: not computable (the expected outcome {h.expected!r} names no number)")
        else:
            lines.append("Delta vs expectation: not computable (no expected outcome was registered)")
        if not crit.relative:
            lines.append(f"Delta vs the success threshold {crit}: {judged.mean - crit.value:+.4g}")
        b = v.baseline
        if b is not None and b is not judged and b.mean is not None:
            lines.append(f"Delta vs baseline `{b.config}` ({fmt(b)}): {judged.mean - b.mean:+.4g} ({cite(b.sources)})")
        else:
            lines.append("Delta vs baseline: no baseline configuration with counted runs")
    else:
        lines.append(f"Actual outcome: {crit.metric} not measured by any counted run")
    used = [r for r in data.runs if not r.ignored]
    quick = sum(r.mode == "quick" for r in used)
    lines.append(
        f"Total run time: {total_duration(used):.1f} s over {len(used)} runs ({quick} quick, "
        f"{len(used) - quick} full; ignored runs excluded; source: duration_s of each run.json)"
    )
    lines.append(f"Learning: {learning}")
    lines.append(f"Next step: {next_step or '(not given)'}")
    text = "\n".join(lines)
    journaling.add_entry(exp, text, tags=["COMPLETED"], event=False)
    exp.log_event(
        "experiment_concluded", verdict=v.decision, hypothesis_version=h.version, learning=learning, next=next_step
    )
    return text
