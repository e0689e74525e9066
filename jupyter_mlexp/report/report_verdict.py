"""The report's verdict: the core verdict (:func:`jupyter_mlexp.core.stats.verdict.judge`) on the report's runs.

The report never decides by itself: this adapter hands the core function the same
final values the report's tables show (one reader, ``core.observations``), the
registration events and the criterion's history, and caches the result per report. A
``--baseline`` named when building the report is descriptive only and never reaches the verdict.
"""

from __future__ import annotations

from jupyter_mlexp.core.stats.verdict import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Arm, Verdict, judge_once
from jupyter_mlexp.core.stats.verdict_arms import fmt, fmt_number
from jupyter_mlexp.core.stats.verdict_history import experiment_changes
from jupyter_mlexp.report.groups import baseline_group
from jupyter_mlexp.report.load import ReportData

__all__ = ["SUPPORTED", "NOT_SUPPORTED", "INCONCLUSIVE", "Arm", "Verdict", "judge", "changes", "fmt", "fmt_number"]


def changes(data: ReportData) -> list[str]:
    """ "criterion changed from … to … after N runs", from research_log.jsonl and the runs' start times."""
    return experiment_changes(data.experiment, [r.info for r in data.runs], data.registrations)


def judge(data: ReportData) -> Verdict:
    """The experiment's verdict on the counted runs of ``data`` (computed once per report, and shared with
    the other surfaces that judge the same record: :func:`~jupyter_mlexp.core.stats.verdict.judge_once`)."""
    got = data.cache.get("verdict")
    if isinstance(got, Verdict):
        return got
    if data.baseline_params is not None:
        baseline_group(data, data.main_mode)  # a --baseline no run has is the user's error: raised here
    # --baseline is descriptive only (chosen after the runs): the verdict uses the registered baseline.
    # The same arguments as judge_experiment's, read by the same readers: one verdict on every surface.
    regs = data.registrations if data.hypothesis else []
    v = judge_once(
        [r.observation for r in data.runs],  # every run: the verdict accounts for failed and ignored ones
        data.hypothesis,
        runs_made=sum(1 for r in data.runs if not r.ignored),
        changes=changes(data) if data.hypothesis else (),
        registrations=regs,
    )
    data.cache["verdict"] = v
    return v
