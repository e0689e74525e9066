"""The experiment's verdict: one decision, computed one way, shown by every surface.

``judge`` takes the counted runs (:class:`~jupyter_mlexp.core.observations.Observation`)
and the current hypothesis and returns a :class:`Verdict`: ``supported``, ``not
supported`` or ``inconclusive``, with the reason, the configuration(s) judged, the
test, the one-sided bound, the level, n per arm and the files the numbers came from.
The rule (``docs/report.md``): an absolute criterion is judged on the one-sided t
confidence bound of the mean over seeds; a relative one on the bound of the
difference to the baseline (paired t when both arms ran the same seeds, else
Welch). With registered treatments the verdict is confirmatory on exactly those
configurations; otherwise it is exploratory and Holm-corrected over the k candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.hypothesis import BASELINE_STAGE, Criterion, Hypothesis
from jupyter_mlexp.core.idea_files import registration_problem, registrations
from jupyter_mlexp.core.inference import TEST_ONE_SAMPLE
from jupyter_mlexp.core.observations import Observation
from jupyter_mlexp.core.verdict_arms import (
    Arm,
    ambiguous,
    fmt,
    group_arms,
    matching,
    pick_baseline,
    power_seeds,
    seed_flags,
    test_arms,
    would_decide,
)
from jupyter_mlexp.core.verdict_history import criterion_changes

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
MAX_DESCRIBED = 3  # candidates named in the reason; the rest are in ``candidates``
__all__ = [
    "SUPPORTED",
    "NOT_SUPPORTED",
    "INCONCLUSIVE",
    "Verdict",
    "Arm",
    "judge",
    "judge_experiment",
    "criterion_changes",
]


class Undecidable(MlexpError):
    """The record cannot decide: the verdict is inconclusive for the message's reason."""


@dataclass
class Verdict:
    decision: str
    reason: str
    criterion: str | None
    mode: str
    level: float = 0.95
    confirmatory: bool = False
    selection: str = ""
    test: str | None = None
    judged: list[Arm] = field(default_factory=list)
    candidates: list[Arm] = field(default_factory=list)
    baseline: Arm | None = None
    flags: list[str] = field(default_factory=list)
    earlier_runs: list[str] = field(default_factory=list)
    would_decide: str | None = None
    criterion_changes: list[str] = field(default_factory=list)
    hypothesis_version: int | None = None
    relative: bool = False  # the criterion is relative to the baseline (its runs are in the test)

    @property
    def outcome(self) -> str:
        return self.decision

    @property
    def sources(self) -> list[str]:
        compared = self.baseline is not None and self.relative and self.judged  # the baseline is in the test
        arms = self.judged + ([self.baseline] if compared and self.baseline is not None else [])
        return [s for a in arms for s in a.sources]

    @property
    def configurations(self) -> list[str]:
        return [a.label for a in self.judged]

    def summary(self) -> list[tuple[str, str]]:
        """``(label, text)`` lines every text surface shows (status, runs, panel): the decision and reason first."""
        out = [("verdict", f"{self.decision} — {self.reason}")]
        if self.test:
            out.append(("test", f"{self.test}, level {self.level:g}"))
        out += [("interval", f"`{label}`: {text}") for label, text in self.to_dict()["intervals"].items()]
        out += [("flag", f) for f in self.flags]
        if self.would_decide:
            out.append(("to decide", self.would_decide))
        out += [("note", c) for c in self.criterion_changes]
        if self.earlier_runs:
            out.append(("earlier", f"{len(self.earlier_runs)} run(s) under earlier hypothesis versions: exploratory"))
        return out

    def text(self, indent: str = "") -> str:
        """:meth:`summary` as aligned plain text (``mlexp status``, ``mlexp runs``, ``%mlexp status``)."""
        return "\n".join(f"{indent}{(label + ':').ljust(9)} {text}" for label, text in self.summary())

    def to_dict(self) -> dict[str, Any]:
        arms = self.judged + ([self.baseline] if self.baseline is not None and self.relative else [])
        return {
            "decision": self.decision,
            "reason": self.reason,
            "criterion": self.criterion,
            "mode": self.mode,
            "level": self.level,
            "confirmatory": self.confirmatory,
            "selection": self.selection,
            "test": self.test,
            "configurations": self.configurations,
            "intervals": {a.label: a.interval_text() for a in self.judged if a.bound is not None},
            "n_per_arm": {a.label: a.n for a in arms},
            "baseline": None if self.baseline is None else self.baseline.label,
            "candidates": [a.to_dict() for a in self.candidates],
            "flags": self.flags,
            "earlier_runs": self.earlier_runs,
            "would_decide": self.would_decide,
            "criterion_changes": self.criterion_changes,
            "hypothesis_version": self.hypothesis_version,
            "sources": self.sources,
        }


def judge(
    observations: Sequence[Observation],
    hypothesis: Hypothesis | None,
    *,
    baseline: dict[str, Any] | None = None,
    runs_made: int | None = None,
    changes: Sequence[str] = (),
    registrations: Sequence[dict[str, Any]] | None = None,
) -> Verdict:
    """The verdict on the counted runs ``observations`` (``runs_made``: every run, counted or not).

    ``registrations``: the ``hypothesis_registered`` / ``idea_updated`` events of research_log.jsonl;
    ``hypothesis`` (idea.json) must match the last one (else it was edited by hand and is not trusted).
    Only runs made under ``hypothesis`` (its version and content hash, :meth:`Hypothesis.covers`) are judged.
    """
    if hypothesis is None:
        return Verdict(INCONCLUSIVE, "no hypothesis is registered, so there is no criterion to judge", None, "quick")
    h = hypothesis
    current = [o for o in observations if h.covers(o.version, o.sha256)]
    mode = "full" if any(o.mode == "full" for o in current) else "quick"
    v = Verdict(INCONCLUSIVE, "", h.success, mode, level=h.level, hypothesis_version=h.version)
    v.earlier_runs = [o.run_id for o in observations if not h.covers(o.version, o.sha256)]
    v.criterion_changes = list(changes)
    hand_edit = registration_problem(h, registrations) if registrations is not None else None
    if hand_edit is None and registrations is None and h.edited_by_hand:
        hand_edit = registration_problem(h, ())
    try:
        if hand_edit:
            raise Undecidable(hand_edit)
        _decide(v, h, current, baseline, runs_made)
    except Undecidable as err:
        v.decision, v.reason = INCONCLUSIVE, str(err)
    if mode == "quick" and current:
        v.reason += " (judged on quick, scaled-down runs: no full run counts yet)"
    return v


def _decide(v: Verdict, h: Hypothesis, current: list[Observation], baseline: dict[str, Any] | None, made: int | None):
    crit = h.success_criterion
    if crit.op == "==":
        raise Undecidable(f"`{crit}` cannot be judged over seeds: register a one-sided criterion (>=, >, <=, <)")
    if not current:
        if v.earlier_runs:
            raise Undecidable(
                f"no counted run under hypothesis v{h.version}; {len(v.earlier_runs)} run(s) under earlier "
                "versions are exploratory only"
            )
        raise Undecidable(f"criterion not measured: {'no run completed' if made else 'no run was made'}")
    arms = group_arms(current, v.mode, crit.metric)
    base = _baseline(arms, h, baseline, crit)
    v.baseline = base
    v.confirmatory = bool(h.treatments)
    cands = _treatments(arms, h, base) if h.treatments else _pool(arms, h, base, baseline, crit)
    v.candidates = cands
    v.relative = crit.relative
    if base is not None and base in cands:  # a claim about the baselines themselves: no baseline to name
        v.baseline = base = None
    if crit.relative and base is None:
        raise Undecidable(
            f"the criterion `{crit}` is relative but no baseline was registered or run: add "
            "'baseline: NAME=VALUE, ...' (or 'baseline: stage baselines') and run it"
        )
    _check_measured(cands + ([base] if crit.relative and base else []), crit, v.confirmatory)
    v.flags = seed_flags(cands + ([base] if crit.relative and base else []))  # only the arms tested
    need = h.seeds_needed
    short = [a for a in cands if a.n < need] + ([base] if crit.relative and base and base.n < need else [])
    if short and (v.confirmatory or len(short) >= len(cands) or (base in short)):
        a = short[0]
        raise Undecidable(
            f"too few seeds: `{a.label}`: {crit.metric} = {fmt(a)}; the verdict needs n ≥ {need} per configuration"
        )
    k = len(cands)
    v.selection = (
        f"confirmatory: registered treatment{'s' if k > 1 else ''}"
        if v.confirmatory
        else f"exploratory: selected after the runs among {k} candidate configurations"
        if k > 1
        else "exploratory: the one configuration run, no treatment registered"
    )
    v.test = test_arms(cands, base if crit.relative else None, crit, h.level, need)
    if v.test is None:
        v.test = TEST_ONE_SAMPLE
    _conclude(v, crit, h)


def _baseline(arms: list[Arm], h: Hypothesis, named: dict[str, Any] | None, crit: Criterion) -> Arm | None:
    spec = h.baseline_spec
    params = named if named is not None else spec.params
    if params is not None:
        found = matching(arms, params)
        if not found:
            if crit.relative or named is not None:
                raise Undecidable(
                    f"the baseline {params} was never run: no counted run under hypothesis v{h.version} has those "
                    "parameters (see `mlexp runs`)"
                )
            return None
        if ambiguous(found):
            raise Undecidable(f"the baseline {params} matches several configurations: name more parameters")
        return max(found, key=lambda a: (a.stage == BASELINE_STAGE, a.n))
    return pick_baseline([a for a in arms if a.stage == (spec.stage or BASELINE_STAGE)], crit)


def _treatments(arms: list[Arm], h: Hypothesis, base: Arm | None) -> list[Arm]:
    out = []
    for t in h.treatments:
        found = [a for a in matching(arms, t) if a is not base]
        if not found:
            names = ", ".join(f"{k}={val}" for k, val in t.items())
            raise Undecidable(
                f"the registered treatment `{names}` was never run: no counted run under hypothesis v{h.version} "
                "has those parameters (see `mlexp runs`)"
            )
        if ambiguous(found):
            raise Undecidable(f"the treatment {t} matches several configurations: name more parameters")
        out.append(max(found, key=lambda a: a.n))
    return out


def _pool(arms: list[Arm], h: Hypothesis, base: Arm | None, named: dict[str, Any] | None, crit: Criterion) -> list[Arm]:
    by_stage = named is None and h.baseline_spec.params is None
    stage = h.baseline_spec.stage or BASELINE_STAGE
    pool = [a for a in arms if a is not base and not (by_stage and a.stage == stage)]
    if not pool and not crit.relative:
        pool = list(arms)  # a claim about the baselines themselves: each is a candidate
    if not pool:
        raise Undecidable(f"no configuration besides the baseline to judge `{crit}` on")
    return pool


def _check_measured(arms: list[Arm], crit: Criterion, confirmatory: bool) -> None:
    never = [a for a in arms if a.n == 0]
    if not never:
        return
    a = never[0]
    why = (
        f"all {a.nonfinite} value(s) are NaN/inf"
        if a.nonfinite
        else f"its {len(a.runs)} run(s) never logged `{crit.metric}`"
    )
    raise Undecidable(
        f"criterion not measured: `{a.label}` has no finite `{crit.metric}` ({why})"
        + ("" if len(never) == 1 else f"; {len(never)} configurations lack it")
    )


def _conclude(v: Verdict, crit: Criterion, h: Hypothesis) -> None:
    alpha = 1 - h.level
    cands = v.candidates
    passed = [a for a in cands if a.p_adjusted is not None and a.p_adjusted < alpha]
    best = min(cands, key=lambda a: 1.0 if a.p is None else a.p)
    shown = passed or (cands if len(cands) <= MAX_DESCRIBED else [best])
    where = "; ".join(a.describe(crit) for a in shown[:MAX_DESCRIBED])
    if len(shown) > MAX_DESCRIBED:
        where += f"; and {len(shown) - MAX_DESCRIBED} more (see the candidates)"
    corr = "" if len(cands) == 1 else f" (Holm-adjusted over k = {len(cands)})"
    if passed:
        v.decision, v.judged = SUPPORTED, passed
        v.reason = f"{v.selection}: {where} meets `{crit}` at level {h.level:g}{corr}"
        return
    refuted = all(a.p_against is not None and a.p_against < alpha for a in cands)
    fail = h.failure_criterion
    v.judged = [best]
    if refuted:
        v.decision = NOT_SUPPORTED
        v.reason = f"{v.selection}: every candidate's bound misses `{crit}` at level {h.level:g}; {where}"
        return
    if fail is not None and not fail.relative and _failure_met(cands, fail, h.level):
        v.decision = NOT_SUPPORTED
        v.reason = f"{v.selection}: the failure criterion `{fail}` is met by every candidate; {where}"
        return
    zero = [a for a in cands if a.note.startswith("zero variance")]
    if zero:  # no bound exists for these: the note leads, the others' bounds follow
        rest = [a for a in cands if a.bound is not None]
        more = f" and {len(zero) - 1} more" if len(zero) > 1 else ""
        lead = f"zero variance in `{zero[0].label}`{more}: every seed gave the same value, so no t bound exists"
        others = f"; for the others the bound straddles the threshold of `{crit}`{corr}" if rest else ""
        v.reason = f"{v.selection}: {lead}{others}; {where}"
    else:
        v.reason = f"{v.selection}: the bound straddles the threshold of `{crit}`{corr}; {where}"
    v.would_decide = _would_decide(v, best, crit, h.level)


def _would_decide(v: Verdict, best: Arm, crit: Criterion, level: float) -> str | None:
    base = v.baseline if crit.relative else None
    text = would_decide(best, base, crit, level)
    k = len(v.candidates)
    if text is None or v.confirmatory or k == 1:
        return text
    # the selected configuration, registered and re-run on fresh seeds, is tested alone at the level
    named = ", ".join(f"{key}={val}" for key, val in best.params.items()) or best.config
    strict_level = 1 - (1 - level) / k
    strict = power_seeds(best, base, crit, strict_level)
    return (
        f"register `treatment: {named}` and run it on fresh seeds (confirmatory: no correction for k): {text}; "
        f"kept exploratory over k = {k}, {f'about {strict}' if strict else 'no number of'} seeds per configuration "
        f"at Holm's first step (level {strict_level:.4g})"
    )


def _failure_met(cands: list[Arm], fail: Criterion, level: float) -> bool:
    from jupyter_mlexp.core.inference import one_sample, p_greater

    for a in cands:
        est = one_sample(a.values) if a.metric == fail.metric else None
        if est is None or est.se == 0:
            return False
        p = p_greater(est, fail.value) if fail.higher_is_better else 1 - p_greater(est, fail.value)
        if not p < 1 - level:
            return False
    return True


def judge_experiment(exp: Any, baseline: dict[str, Any] | None = None) -> Verdict:
    """The verdict of an :class:`~jupyter_mlexp.core.experiment.Experiment`, read from its files."""
    from jupyter_mlexp.core.errors import NoHypothesisError
    from jupyter_mlexp.core.observations import load_observations
    from jupyter_mlexp.core.verdict_history import experiment_changes

    try:
        hyp = exp.hypothesis
    except NoHypothesisError:
        hyp = None
    except MlexpError as err:  # a broken idea.json: nothing to judge against, and every surface says why
        return Verdict(INCONCLUSIVE, f"the hypothesis cannot be read: {err}", None, "quick")
    runs = exp.runs(include_ignored=True)  # read once: observations, runs made and criterion changes
    obs = load_observations(exp, runs)
    made = sum(1 for r in runs if not r.ignored)
    regs = registrations(exp.events()) if hyp else []
    changes = experiment_changes(exp, runs, regs) if hyp else ()
    return judge(obs, hyp, baseline=baseline, runs_made=made, changes=changes, registrations=regs)
