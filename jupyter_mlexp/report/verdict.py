"""The verdict: the pre-registered success criterion judged on the runs, never written by hand.

``supported`` — the best configuration's whole spread (mean ± std over at least
``MIN_SEEDS`` seeds) meets the success criterion and, when a baseline exists, the
difference to it is beyond seed noise (Welch p < 0.05 and the bootstrap CI
excludes 0). ``not supported`` — the whole spread misses the criterion, or meets
the failure criterion. ``inconclusive`` — too few seeds, a spread that straddles
the threshold or overlaps the baseline, or the criterion's metric not measured.
"""

from __future__ import annotations

from dataclasses import dataclass

from jupyter_mlexp.core.hypothesis import Criterion
from jupyter_mlexp.report.groups import BASELINE_STAGE, Group, baseline_group, best_group, compare, label, mode_groups
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.stats import Comparison, Summary, fmt_number, fmt_summary

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
MIN_SEEDS = 3


@dataclass
class Verdict:
    outcome: str
    reason: str
    criterion: str | None
    mode: str
    group: Group | None = None
    summary: Summary | None = None
    baseline: Group | None = None
    comparison: Comparison | None = None

    @property
    def sources(self) -> list[str]:
        return list(self.summary.sources) if self.summary else []

    def to_dict(self) -> dict:
        return {
            "verdict": self.outcome,
            "reason": self.reason,
            "criterion": self.criterion,
            "mode": self.mode,
            "configuration": None if self.group is None else label(self.group),
            "summary": None if self.summary is None else self.summary.to_dict(),
            "baseline": None if self.baseline is None else label(self.baseline),
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
        }


def _spread_holds(c: Criterion, s: Summary) -> tuple[bool | None, bool | None]:
    if s.mean is None or s.std is None:
        return None, None
    return c.holds(s.mean - s.std), c.holds(s.mean + s.std)


def judge(data: ReportData, min_seeds: int = MIN_SEEDS) -> Verdict:
    """Judge the current hypothesis's success criterion on the counted runs of the main mode."""
    mode = data.main_mode
    h = data.hypothesis
    if h is None:
        return Verdict(INCONCLUSIVE, "no hypothesis is registered, so there is no criterion to judge", None, mode)
    crit = h.success_criterion
    fail = h.failure_criterion
    caveat = "" if mode == "full" else " (judged on quick, scaled-down runs: no full run counts yet)"
    if not data.counted:
        why = "no run completed" if data.runs else "no run was made"
        return Verdict(INCONCLUSIVE, f"criterion not measured: {why}{caveat}", str(crit), mode)
    groups = mode_groups(data, mode)
    base, _ = baseline_group(data, mode, groups)
    # The claim is about the configurations under test: those outside the baseline stage (or, with
    # a named baseline, all but it). When every configuration is a baseline (the hypothesis is
    # about the baselines themselves), the best of them is judged on the criterion alone.
    if data.baseline_params is not None:
        pool = [g for g in groups if g is not base]
    else:
        pool = [g for g in groups if g.stage != BASELINE_STAGE]
    cand = best_group(data, pool, crit.metric)
    if cand is None:
        cand, base = best_group(data, groups, crit.metric), None
    if cand is None:
        return Verdict(
            INCONCLUSIVE,
            f"criterion not measured: no counted {mode} run logged a finite `{crit.metric}`{caveat}",
            str(crit),
            mode,
            baseline=base,
        )
    s = cand.summary(crit.metric)
    v = Verdict(INCONCLUSIVE, "", str(crit), mode, cand, s, base)
    where = f"best configuration `{label(cand)}`: {crit.metric} = {fmt_summary(s)}"
    if s.n < min_seeds:
        v.reason = f"too few seeds: {where}; the verdict needs n ≥ {min_seeds}{caveat}"
        return v
    lo, hi = _spread_holds(crit, s)
    span = "[?]" if s.mean is None or s.std is None else f"[{fmt_number(s.mean - s.std)}, {fmt_number(s.mean + s.std)}]"
    if fail is not None and fail.metric == crit.metric and all(_spread_holds(fail, s)):
        v.outcome, v.reason = (
            NOT_SUPPORTED,
            f"failure criterion `{fail}` met by the whole spread {span}; {where}{caveat}",
        )
        return v
    if not lo and not hi:
        v.outcome, v.reason = NOT_SUPPORTED, f"the whole spread {span} misses `{crit}`; {where}{caveat}"
        return v
    if not (lo and hi):
        v.reason = f"overlapping spread: mean ± std {span} straddles the threshold of `{crit}`; {where}{caveat}"
        return v
    if base is not None and base is not cand:
        cmp = compare(crit.metric, label(cand), s, label(base), base.summary(crit.metric))
        v.comparison = cmp
        p = "—" if cmp.welch is None else fmt_number(cmp.welch.p, 3)
        if not cmp.significant:
            v.reason = (
                f"overlapping spread with the baseline `{label(base)}`: Δ = {fmt_number(cmp.delta)}, "
                f"Welch p = {p}, bootstrap 95% CI {_ci(cmp)}; the criterion `{crit}` is met but the "
                f"difference is within seed noise; {where}{caveat}"
            )
            return v
        better = (
            (cmp.delta or 0) > 0 if crit.op in (">", ">=") else (cmp.delta or 0) < 0 if crit.op in ("<", "<=") else True
        )
        if not better:
            v.reason = f"the criterion `{crit}` is met but the configuration is worse than the baseline `{label(base)}`; {where}{caveat}"
            return v
        v.outcome = SUPPORTED
        v.reason = (
            f"the whole spread {span} meets `{crit}` and beats the baseline `{label(base)}` "
            f"(Δ = {fmt_number(cmp.delta)}, Welch p = {p}, bootstrap 95% CI {_ci(cmp)}); {where}{caveat}"
        )
        return v
    v.outcome = SUPPORTED
    v.reason = f"the whole spread {span} meets `{crit}` (no baseline to compare against); {where}{caveat}"
    return v


def _ci(c: Comparison) -> str:
    return "—" if c.ci is None else f"[{fmt_number(c.ci[0])}, {fmt_number(c.ci[1])}]"
