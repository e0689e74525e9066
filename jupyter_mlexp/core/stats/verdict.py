"""The experiment's verdict: one decision, computed one way, shown by every surface.

``judge`` takes the counted runs (:class:`~jupyter_mlexp.core.stats.observations.Observation`)
and the current hypothesis and returns a :class:`Verdict`: ``supported``, ``not
supported`` or ``inconclusive``, with the reason, the configuration(s) judged, the
test, the one-sided bound, the level, n per arm and the files the numbers came from.
The rule (``docs/report.md``): an absolute criterion is judged on the one-sided t
confidence bound of the mean over seeds; a relative one on the bound of the
difference to the baseline (paired t when both arms ran the same seeds, else
Welch). With registered treatments the verdict is confirmatory on exactly those
configurations; otherwise it is exploratory and Holm-corrected over the k configurations the
hypothesis saw. What it counts: each (configuration, seed) once (the earliest completed run), the
plan's first ``seeds: N`` seeds attempted (failed and NaN ones stay in the plan; extra ones are
reported, not pooled), fresh seeds only for a registered treatment, and a run ignored after its value
was logged is called out with the verdict with it (``docs/report.md``, steps 2a-2b, 4, 4a). Full runs
are judged when any counts; quick runs alone only suggest: the verdict on them is inconclusive (step 1).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from jupyter_mlexp.core.errors import MlexpError, NoHypothesisError
from jupyter_mlexp.core.record.hypothesis import BASELINE_STAGE, Criterion, Hypothesis
from jupyter_mlexp.core.record.idea_files import registration_problem, registrations
from jupyter_mlexp.core.record.run_record import GitState, RunRecord
from jupyter_mlexp.core.stats.inference import TEST_ONE_SAMPLE, obrien_fleming, on_scale, p_greater
from jupyter_mlexp.core.stats.observations import Observation, config_key, load_observations
from jupyter_mlexp.core.stats.verdict_arms import (
    Arm,
    ambiguous,
    apply_plan,
    estimate,
    favourable_outlier,
    fill,
    fmt,
    fmt_number,
    group_arms,
    matching,
    near_bound,
    pick_baseline,
    power_seeds,
    same_value,
    seed_flags,
    seed_key,
    test_arms,
    would_decide,
)
from jupyter_mlexp.core.stats.verdict_history import criterion_changes, experiment_changes

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
MODEL = "normal seed noise: each seed's value is an independent draw around the configuration's mean (t test)"
MODEL_ON_SCALE = (
    "normal seed noise of {t}({m}) (registered 'transform: {t}'): each seed's {t}({m}) is an independent draw "
    "around the configuration's mean on that scale (t test; the criterion on that scale: `{c}`)"
)
MAX_DESCRIBED = 3  # candidates named in the reason; the rest are in ``candidates``
__all__ = [
    "judge_once",
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
    family_size: int | None = None  # k: the configurations the selection saw (Holm's k when exploratory)
    family: list[str] = field(default_factory=list)  # configurations in k that have no arm here (quick, failed)
    plan: int | None = None  # seeds per configuration the plan judges
    model: str = MODEL
    ignored_after_seen: list[dict[str, Any]] = field(default_factory=list)
    with_ignored: dict[str, Any] | None = None  # the verdict with the runs ignored after their value was seen
    decided_by_ignoring: bool = False  # supported only without those runs: made inconclusive for it
    looks: list[int] = field(default_factory=list)  # a registered sequential plan's looks (seeds per configuration)
    look: int | None = None  # the look judged (1-based): the last one every tested arm reached
    boundary: float | None = None  # that look's nominal one-sided p boundary (O'Brien–Fleming spending)
    # quick runs alone: what they would decide (decision, reason, would_decide); the verdict is inconclusive
    quick_suggests: dict[str, Any] | None = None

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
            out.append(("test", f"{self.test}, level {self.level:g}; model: {self.model}"))
        if self.look is not None:
            out.append(("plan", self.look_text()))
        if self.family_size is not None and self.family_size > 1 and not self.confirmatory:
            extra = f" ({len(self.family)} of them quick or failed only)" if self.family else ""
            out.append(
                ("family", f"k = {self.family_size} configuration(s) run under v{self.hypothesis_version}{extra}")
            )
        out += [("interval", f"`{a.label}`: {a.interval_text()} ({a.level_text()})") for a in self.judged if a.bound]
        out += [("flag", f) for f in self.flags]
        if self.would_decide:
            out.append(("to decide", self.would_decide))
        out += [("note", c) for c in self.criterion_changes]
        if self.earlier_runs:
            out.append(("earlier", f"{len(self.earlier_runs)} run(s) under earlier hypothesis versions: exploratory"))
        return out

    def look_text(self) -> str:
        """``sequential: look 2 of 3 (n = 5 of 3, 5, 10), O'Brien–Fleming boundary p < 0.00545``."""
        return (
            f"sequential: look {self.look} of {len(self.looks)} (n = {self.plan} of {', '.join(map(str, self.looks))}"
            f"), O'Brien–Fleming boundary p < {fmt_number(self.boundary, 3)}"
        )

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
            "family_size": self.family_size,
            "family_untested": self.family,
            "plan": self.plan,
            "model": self.model,
            "ignored_after_seen": self.ignored_after_seen,
            "with_ignored": self.with_ignored,
            "decided_by_ignoring": self.decided_by_ignoring,
            "looks": self.looks,
            "look": self.look,
            "boundary": self.boundary,
            "quick_suggests": self.quick_suggests,
        }


def judge(
    observations: Sequence[Observation],
    hypothesis: Hypothesis | None,
    *,
    baseline: dict[str, Any] | None = None,
    runs_made: int | None = None,
    changes: Sequence[str] = (),
    registrations: Sequence[dict[str, Any]] | None = None,
    _alt: bool = False,
) -> Verdict:
    """The verdict on the counted runs ``observations`` (``runs_made``: every run, counted or not).

    ``registrations``: the ``hypothesis_registered`` / ``idea_updated`` events of research_log.jsonl;
    ``hypothesis`` (idea.json) must match the last one (else it was edited by hand and is not trusted).
    Only runs made under ``hypothesis`` (its version and content hash, :meth:`Hypothesis.covers`) are judged.
    """
    if hypothesis is None:
        return Verdict(INCONCLUSIVE, "no hypothesis is registered, so there is no criterion to judge", None, "quick")
    h = hypothesis
    every: list[Observation] = []  # under this hypothesis, any status: the accounting
    current: list[Observation] = []  # under this hypothesis, counted: the test
    uncounted: list[Observation] = []  # under this hypothesis, not ignored, not completed: the plan's attempts
    earlier: list[str] = []
    version, sha = h.version, h.content_sha256
    for o in observations:
        # h.covers(o.version, o.sha256), inline (hot)
        if (o.version is None or o.version == version) and (o.sha256 is None or o.sha256 == sha):
            every.append(o)
            if o.ignored is None:  # Observation.counted, inline (hot)
                if o.status == "completed":
                    current.append(o)
                else:
                    uncounted.append(o)
        elif o.status == "completed" and o.ignored is None:
            earlier.append(o.run_id)
    mode = "full" if any(o.mode == "full" for o in current) else "quick"
    v = Verdict(INCONCLUSIVE, "", h.success, mode, level=h.level, hypothesis_version=h.version)
    v.earlier_runs = earlier
    v.plan = h.seeds_needed
    v.criterion_changes = list(changes)
    hand_edit = registration_problem(h, registrations) if registrations is not None else None
    if hand_edit is None and registrations is None and h.edited_by_hand:
        hand_edit = registration_problem(h, ())
    try:
        if hand_edit:
            raise Undecidable(hand_edit)
        _decide(v, h, current, baseline, runs_made, _Context(observations, every, uncounted, registrations))
    except Undecidable as err:
        v.decision, v.reason = INCONCLUSIVE, str(err)
    if mode == "quick" and current:
        _quick_only(v, h)
    if not _alt and not hand_edit:
        _ignored_after_seen(v, h, observations, every, baseline, runs_made, changes, registrations)
    return v


def _quick_only(v: Verdict, h: Hypothesis) -> None:
    """Quick runs alone cannot decide the claim: the verdict is inconclusive, and says what they suggest
    (kept in ``quick_suggests``) and what would decide it: full runs (``docs/report.md``, step 1)."""
    v.quick_suggests = {"decision": v.decision, "reason": v.reason, "would_decide": v.would_decide}
    v.decision = INCONCLUSIVE
    v.reason = (
        "no full run counts yet, and quick, scaled-down runs (%%run_quick's overrides, a time budget) measure "
        "another quantity than the claim, so they cannot decide it; the quick runs suggest "
        f"{v.quick_suggests['decision']}: {v.quick_suggests['reason']}"
    )
    v.would_decide = (
        f"run the notebook (or script) of the quick runs full, on fresh seeds: `mlexp run --full --seeds "
        f"fresh:{h.seeds_needed} ...`; full runs are judged, quick runs only suggest"
    )


@dataclass
class _Context:
    """What the verdict accounts for besides the counted runs: every run (any version, any status)."""

    observations: Sequence[Observation]
    every: list[Observation]  # runs under the current version, any status
    uncounted: list[Observation]  # of those, the ones neither completed nor ignored
    registrations: Sequence[dict[str, Any]] | None


def _ignored_after_seen(
    v: Verdict,
    h: Hypothesis,
    observations: Sequence[Observation],
    every: list[Observation],
    baseline: dict[str, Any] | None,
    runs_made: int | None,
    changes: Sequence[str],
    regs: Sequence[dict[str, Any]] | None,
) -> None:
    """A run ignored after its criterion metric was logged is called out, with the verdict with it."""
    metric = h.success_criterion.metric
    seen = [
        o
        for o in every
        if o.ignored is not None
        and o.status == "completed"
        and o.mode == v.mode
        and metric in o.finals
        and math.isfinite(o.finals[metric][0])
    ]
    if not seen:
        return
    ids = {o.run_id for o in seen}
    back = [replace(o, ignored=None) if o.run_id in ids else o for o in observations]
    alt = judge(back, h, baseline=baseline, runs_made=runs_made, changes=changes, registrations=regs, _alt=True)
    v.with_ignored = {"decision": alt.decision, "reason": alt.reason}
    for o in seen:
        value = o.finals[metric][0]
        v.ignored_after_seen.append(
            {"run_id": o.run_id, "configuration": o.config, "seed": o.seed, "value": value, "reason": o.ignored}
        )
    listed = ", ".join(
        f"{d['run_id']} (`{d['configuration']}`, seed {d['seed']}, {metric} = {fmt_number(d['value'])}, "
        f"reason: {d['reason']})"
        for d in v.ignored_after_seen
    )
    same = "the same" if alt.decision == v.decision else "different"
    if v.decision == SUPPORTED and alt.decision != SUPPORTED:  # the ignoring decided it: not supported on that
        v.decision = INCONCLUSIVE
        v.decided_by_ignoring = True
        v.reason = (
            f"supported only without {len(seen)} run(s) ignored after their `{metric}` was logged "
            f"({', '.join(o.run_id for o in seen)}), and {alt.decision} with them: a run left out after its value "
            f"was seen cannot decide the verdict (re-run the seed if the run was broken); without them: {v.reason}"
        )
    v.flags.append(
        f"ignored after its value was logged: {listed}; with {'it' if len(seen) == 1 else 'them'} the verdict is "
        f"{alt.decision} ({same}): {alt.reason}"
    )


def _decide(
    v: Verdict,
    h: Hypothesis,
    current: list[Observation],
    baseline: dict[str, Any] | None,
    made: int | None,
    ctx: _Context,
):
    crit = h.success_criterion
    if crit.op == "==":
        raise Undecidable(f"`{crit}` cannot be judged over seeds: register a one-sided criterion (>=, >, <=, <)")
    fail = h.failure_criterion
    outside: dict[str, float] = {}  # run id -> a value the registered transform cannot take
    if h.transform:
        current, crit, fail = _on_scale(h.transform, current, crit, fail, outside)
        v.model = MODEL_ON_SCALE.format(t=h.transform, m=h.success_criterion.metric, c=crit)
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
    need = h.seeds_needed
    tested = cands + ([base] if crit.relative and base else [])
    _plan(v, h, cands, base if crit.relative else None, need, ctx)
    if h.looks:
        need = _look(v, h, tested, cands, base if crit.relative else None, ctx)
    bad = [(a, o) for a in tested for o in a.runs if o.run_id in outside] if outside else []
    if bad:
        a, o = bad[0]
        raise Undecidable(
            f"transform: {h.transform} cannot take seed {o.seed} of `{a.label}`: {h.success_criterion.metric} = "
            f"{fmt_number(outside[o.run_id])} ({'logit needs values in (0, 1)' if h.transform == 'logit' else 'log needs values > 0'}"
            f"{f'; {len(bad) - 1} more seed(s) too' if len(bad) > 1 else ''}): register 'transform: none' or "
            "another transform as a new version"
        )
    v.flags = seed_flags(tested) + _evidence_flags(tested)  # only the arms tested
    reused = [a for a in cands if a.reused_seeds and a.n < need] if v.confirmatory else []
    if reused:
        a = reused[0]
        v.selection = "exploratory: the treatment's seeds were run before it was registered"
        raise Undecidable(
            f"not confirmatory: `{a.label}` has {a.n} of the plan's {need} fresh seeds; seed "
            f"{', '.join(map(str, a.reused_seeds))} of it ran before the treatment was registered, and "
            "re-running seeds the selection saw reproduces the selection, not a confirmation: run fresh "
            f"seeds (`mlexp run ... --seeds fresh:{need}`)"
        )
    _check_measured(tested, crit, v.confirmatory)
    short = [a for a in cands if a.n < need] + ([base] if crit.relative and base and base.n < need else [])
    if short and (v.confirmatory or len(short) >= len(cands) or (base in short)):
        a = short[0]
        raise Undecidable(
            f"too few seeds: `{a.label}`: {crit.metric} = {fmt(a)}; the verdict needs n ≥ {need} per "
            f"configuration ({a.plan_text()})"
        )
    untested = [] if v.confirmatory else _family(ctx.every, v.mode, arms, cands, h.scale)
    v.family = untested
    k = len(cands) + len(untested)
    v.family_size = k
    v.selection = (
        f"confirmatory: registered treatment{'s' if k > 1 else ''}"
        if v.confirmatory
        else f"exploratory: selected after the runs among {k} candidate configurations"
        if k > 1
        else "exploratory: the one configuration run, no treatment registered"
    )
    level = h.level if v.boundary is None else 1 - v.boundary  # a sequential look: its boundary is the α
    v.test = test_arms(cands, base if crit.relative else None, crit, level, need, len(untested))
    if v.test is None:
        v.test = TEST_ONE_SAMPLE
    _conclude(v, crit, h, fail)


def _look(v: Verdict, h: Hypothesis, tested: list[Arm], cands: list[Arm], base: Arm | None, ctx: _Context) -> int:
    """A sequential plan: the last look every tested arm reached (by plan seeds attempted, whatever became of
    them), its boundary, and the arms re-planned on that look's seeds (later ones reported, not pooled)."""
    reach = min(a.n + a.nonfinite + a.missing + len(a.failed_seeds) for a in tested)
    j = max((i for i, n in enumerate(h.looks) if n <= reach), default=0)
    need = h.looks[j]
    if need != h.seeds_needed:
        _plan(v, h, cands, base, need, ctx)
    v.looks, v.look, v.plan = list(h.looks), j + 1, need
    for a in tested:
        a.plan_label = f"look {j + 1}"
    v.boundary = obrien_fleming(tuple(h.looks), round(1 - h.level, 12))[j]
    return need


def _on_scale(
    transform: str, current: list[Observation], crit: Criterion, fail: Criterion | None, outside: dict[str, float]
) -> tuple[list[Observation], Criterion, Criterion | None]:
    """The counted runs with the criterion metric's value on the registered transform's scale (under the name
    ``logit(m)``), and the criteria on that scale (a failure criterion on the same metric too). A value the
    transform cannot take becomes NaN and its run id goes to ``outside``."""
    metric = crit.metric
    name = f"{transform}({metric})"

    def moved(c: Criterion) -> Criterion:
        if c.relative:  # margin 0 (checked at registration): the difference of the means on the scale
            return Criterion(name, c.op, c.value, relative=True)
        y = on_scale(transform, c.value)
        if y is None:
            raise Undecidable(f"transform: {transform} cannot take the threshold of `{c}`")
        return Criterion(name, c.op, y)

    out = []
    for o in current:
        got = o.finals.get(metric)
        if got is not None:
            y = on_scale(transform, got[0]) if math.isfinite(got[0]) else got[0]
            if y is None:
                outside[o.run_id] = got[0]
                y = math.nan
            o = replace(o, finals={**o.finals, name: (y, got[1])})
        out.append(o)
    same = fail is not None and fail.metric == metric and fail.relative == crit.relative
    return out, moved(crit), moved(fail) if same and fail is not None else fail


def _plan(v: Verdict, h: Hypothesis, cands: list[Arm], base: Arm | None, need: int, ctx: _Context) -> None:
    """Each tested arm judged on its plan: the first ``need`` seeds it attempted (fresh ones, for a
    registered treatment), each seed once; failed seeds stay in the plan, extra seeds are reported."""
    uncounted: dict[tuple[str, str], list[Observation]] = {}  # attempts that did not complete, by arm
    for o in ctx.uncounted:
        if o.mode == v.mode:
            uncounted.setdefault((o.stage, o.config), []).append(o)
    since = _registered_since(h, ctx.registrations) if v.confirmatory else None
    for a in cands:
        reused = _NONE if since is None else _seen_before(a, h, since, ctx.observations)
        apply_plan(a, need, uncounted.get((a.stage, a.config), ()), reused)
    if base is not None:
        prefer = [seed_key(o) for o in cands[0].runs] if cands else []
        apply_plan(base, need, uncounted.get((base.stage, base.config), ()), prefer=prefer)


_NONE: frozenset[str] = frozenset()


def _registered_since(h: Hypothesis, regs: Sequence[dict[str, Any]] | None) -> list[tuple[dict[str, Any], int]]:
    """Each registered treatment and the version since which it has been registered without a break."""
    out = []
    for t in h.treatments:
        since = h.version
        for ev in reversed(list(regs or ())):
            hyp = ev.get("hypothesis") if isinstance(ev.get("hypothesis"), dict) else {}
            version = ev.get("version", hyp.get("version"))
            got = hyp.get("treatments")
            listed: list[Any] = got if isinstance(got, list) else []
            if not isinstance(version, int) or version > h.version:
                continue
            if not any(
                isinstance(x, dict) and x.keys() == t.keys() and all(same_value(x[k], t[k]) for k in t) for x in listed
            ):
                break
            since = min(since, version)
        out.append((t, since))
    return out


def _has(params: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(k in params and same_value(params[k], val) for k, val in wanted.items())


def _seen_before(
    a: Arm, h: Hypothesis, since: list[tuple[dict[str, Any], int]], observations: Sequence[Observation]
) -> set[str]:
    """Seed keys the arm's configuration ran (any version, any status) before its treatment was registered:
    by the hypothesis version each run recorded (a run that recorded none: not under this version)."""
    first = min((version for t, version in since if _has(a.params, t)), default=h.version)
    out = set()
    for o in observations:
        before = o.version < first if o.version is not None else not h.covers(o.version, o.sha256)
        if before and _has(o.params, a.params):
            out.add(seed_key(o))
    return out


def _family(
    every: list[Observation], mode: str, arms: list[Arm], cands: list[Arm], scale: Sequence[str] = ()
) -> list[str]:
    """Configurations run under this version that are neither a candidate nor the baseline: quick runs
    (their configuration without the overrides that only scale the run: overrides of a parameter the judged
    runs do not set, and of a parameter registered under ``scale:``, whose value then does not tell
    configurations apart), failed or ignored ones."""
    budget = set(scale)

    def unscaled(params: dict[str, Any]) -> str:
        return config_key({k: val for k, val in params.items() if k not in budget})

    cand_keys = {a.config for a in cands} | ({unscaled(a.params) for a in cands} if budget else set())
    others = ({a.config for a in arms} | ({unscaled(a.params) for a in arms} if budget else set())) - cand_keys
    if sum([len(a.firsts) + len(a.duplicate_runs) for a in arms]) == len(every):
        return []  # the common case: every run is in an arm (hot)
    method: set[str] | None = None  # parameters the judged runs set (computed when a quick run needs it)
    out: list[str] = []
    for o in every:
        if o.mode == mode or not o.overrides:
            key = o.config
        else:
            if method is None:
                method = {k for r in every if r.mode == mode for k in r.params}
            drop = set(o.overrides) - method
            if budget & set(o.overrides):  # a registered budget parameter was scaled: compared without them all
                drop |= budget
            key = config_key({k: val for k, val in o.params.items() if k not in drop})
        if key not in cand_keys and key not in others and key not in out:
            out.append(key)
    return out


def _evidence_flags(arms: list[Arm]) -> list[str]:
    """What the counting left out of each tested arm, said once per arm."""
    out = []
    for a in arms:
        differs = [d for d in a.duplicates if d["differs"]]
        for d in differs:
            first = a.firsts.get(str(d["seed"]))
            was = first.finals.get(a.metric, (None,))[0] if first else None
            out.append(
                f"non-determinism: seed {d['seed']} of `{a.label}` gave {fmt_number(was)} (run {d['counted_run']}, "
                f"counted) and {fmt_number(d['value'])} (run {d['run_id']}); differed: "
                f"{_differences(first.record if first else None, _record(a, d['run_id']))}"
            )
        if a.duplicates:
            out.append(
                f"`{a.label}`: {len(a.duplicates)} later run(s) of seeds already counted are not counted again "
                "(each seed counts once: its earliest completed run)"
            )
        if a.failed_seeds or a.nonfinite_seeds or a.extra_seeds or a.reused_seeds:
            out.append(f"`{a.label}`: {a.plan_text()}")
    return out


def _record(a: Arm, run_id: str) -> RunRecord | None:
    for o in a.duplicate_runs:
        if o.run_id == run_id:
            return o.record
    return None


def _differences(a: RunRecord | None, b: RunRecord | None) -> str:
    """What two runs of one seed recorded differently (code, environment, data, command)."""
    if a is None or b is None:
        return "provenance not recorded"
    out = []
    ga, gb = a.git or GitState(), b.git or GitState()
    for key in ("commit", "dirty", "diff_sha256"):
        if getattr(ga, key) != getattr(gb, key):
            out.append(f"git {key} {str(getattr(ga, key))[:12]} → {str(getattr(gb, key))[:12]}")
    ea, eb = a.environment, b.environment
    for key in sorted(set(ea) | set(eb)):
        if ea.get(key) != eb.get(key):
            out.append(f"environment {key}")
    for key in ("data", "command", "params", "overrides"):
        if getattr(a, key) != getattr(b, key):
            out.append(key)
    return ", ".join(out) or "nothing recorded (code, environment, data, command are the same)"


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


def _conclude(v: Verdict, crit: Criterion, h: Hypothesis, fail: Criterion | None) -> None:
    alpha = 1 - h.level
    to_pass = alpha if v.boundary is None else v.boundary  # a sequential look's boundary in place of α
    cands = v.candidates
    passed = [a for a in cands if a.p_adjusted is not None and a.p_adjusted < to_pass]
    best = min(cands, key=lambda a: 1.0 if a.p is None else a.p)
    shown = passed or (cands if len(cands) <= MAX_DESCRIBED else [best])
    where = "; ".join(a.describe(crit) for a in shown[:MAX_DESCRIBED])
    if len(shown) > MAX_DESCRIBED:
        where += f"; and {len(shown) - MAX_DESCRIBED} more (see the candidates)"
    k = v.family_size or len(cands)
    corr = "" if k == 1 else f" (Holm-adjusted over k = {k})"
    outlying = []
    for a in list(passed):  # a result that holds only with an outlying seed is not supported (docs/report.md)
        got = favourable_outlier(a, v.baseline if crit.relative else None, crit)
        if got is None:
            continue
        seed, z, p_without = got
        scale = (a.p_adjusted or 0.0) / a.p if a.p else 1.0  # Holm's multiplier of this candidate
        if p_without is not None and p_without * scale < to_pass:
            continue
        passed.remove(a)
        without = "no t bound" if p_without is None else f"p = {fmt_number(p_without * scale, 3)}"
        outlying.append(
            f"`{a.label}` meets `{crit}` only with seed {seed}, an outlier (modified z = {z:.3g} > 3.5); "
            f"without it {without}"
        )
    skewed = [] if h.transform else [(a, nb) for a in passed if (nb := near_bound(a, crit)) is not None]
    for a, _ in skewed:  # near a bound the normal model does not hold: not supported on it (docs/report.md)
        passed.remove(a)
    v.flags += outlying + [text for _, (text, _) in skewed]
    if skewed and not passed:
        first, (why, fix) = skewed[0]
        v.decision, v.judged = INCONCLUSIVE, [first]
        v.reason = f"{v.selection}: the t test passes but its model does not hold: {why}; {where}" + (
            f"; and {len(skewed) - 1} more configuration(s) alike" if len(skewed) > 1 else ""
        )
        v.would_decide = (
            f"register 'transform: {fix}' as a new version (the claim is then judged on the mean of "
            f"{fix}({crit.metric}), where seed noise near a bound is close to normal) and run it on fresh seeds "
            f"(--seeds fresh:{h.seeds_needed})"
        )
        return
    if outlying and not passed:
        v.decision, v.judged = INCONCLUSIVE, [best]
        v.reason = f"{v.selection}: supported only with an outlying seed: {'; '.join(outlying)}; {where}"
        v.would_decide = _would_decide(v, best, crit, h.level)
        return
    if passed:
        if outlying:  # the ones left
            where = "; ".join(a.describe(crit) for a in passed[:MAX_DESCRIBED])
            if len(passed) > MAX_DESCRIBED:
                where += f"; and {len(passed) - MAX_DESCRIBED} more (see the candidates)"
        v.decision, v.judged = SUPPORTED, passed
        v.reason = f"{v.selection}: {where} meets `{crit}` at level {h.level:g}{corr}"
        if v.look is not None:
            v.reason += f", at {v.look_text().removeprefix('sequential: ')}"
        return
    if v.look is not None and v.look < len(v.looks):  # an interim look not crossed: the plan goes on
        nxt = v.looks[v.look]
        after = obrien_fleming(tuple(v.looks), round(alpha, 12))[v.look]
        v.judged = [best]
        v.reason = f"{v.selection}: {v.look_text()} not crossed{corr}; {where}"
        v.would_decide = (
            f"run seeds up to the next look of the registered plan: n = {nxt} per configuration (look "
            f"{v.look + 1} of {len(v.looks)}, boundary p < {fmt_number(after, 3)})"
        )
        return
    refuted = all(a.p_against is not None and a.p_against < alpha for a in cands)
    v.judged = [best]
    if refuted:
        v.decision = NOT_SUPPORTED
        where = "; ".join(a.describe(crit, against=h.level) for a in shown[:MAX_DESCRIBED])
        if len(shown) > MAX_DESCRIBED:
            where += f"; and {len(shown) - MAX_DESCRIBED} more (see the candidates)"
        v.reason = f"{v.selection}: every candidate's bound misses `{crit}` at level {h.level:g}; {where}"
        return
    if fail is not None and _failure_met(cands, v.baseline, fail, h.level, h.seeds_needed):
        v.decision = NOT_SUPPORTED
        v.reason = (
            f"{v.selection}: the failure criterion `{fail}` is met by every candidate at level {h.level:g}; {where}"
        )
        return
    zero = [a for a in cands if a.note.startswith("zero variance")]
    if zero:  # no bound exists for these: the note leads, the others' bounds follow
        rest = [a for a in cands if a.bound is not None]
        more = f" and {len(zero) - 1} more" if len(zero) > 1 else ""
        same = (
            "the difference to the baseline was the same at every seed"
            if (zero[0].test or "").startswith("paired")
            else "every seed gave the same value"
        )
        lead = f"zero variance in `{zero[0].label}`{more}: {same}, so no t bound exists"
        others = f"; for the others the bound straddles the threshold of `{crit}`{corr}" if rest else ""
        v.reason = f"{v.selection}: {lead}{others}; {where}"
    else:
        v.reason = f"{v.selection}: the bound straddles the threshold of `{crit}`{corr}; {where}"
    v.reason += _between(v, best, crit, fail)
    v.would_decide = _would_decide(v, best, crit, h.level)


def _would_decide(v: Verdict, best: Arm, crit: Criterion, level: float) -> str | None:
    base = v.baseline if crit.relative else None
    text = would_decide(best, base, crit, level)
    k = v.family_size or len(v.candidates)
    if text is None or v.confirmatory or k == 1:
        return text
    # the selected configuration, registered and re-run on fresh seeds, is tested alone at the level
    named = ", ".join(f"{key}={val}" for key, val in best.params.items()) or best.config
    strict_level = 1 - (1 - level) / k
    strict = power_seeds(best, base, crit, strict_level)
    return (
        f"register `treatment: {named}` and run it on fresh seeds (confirmatory: no correction for k): {text}; "
        f"kept exploratory over k = {k}, {f'about {strict}' if strict else 'no number of'} seeds per configuration "
        f"at Holm's first step (level {level_text(strict_level)})"
    )


def level_text(level: float) -> str:
    """A confidence level with the digits that tell it from 1: 0.9833 (k = 3), 0.99995 (k = 1,000)."""
    gap = 1 - level
    digits = 4 if gap <= 0 else max(4, math.ceil(-math.log10(gap)) + 2)
    return f"{level:.{digits}g}"


def _failure_met(cands: list[Arm], base: Arm | None, fail: Criterion, level: float, need: int) -> bool:
    """Every candidate meets the failure criterion at ``level`` (one-sided t, on whatever metric it names,
    absolute or relative to the baseline), on the same plan seeds the success criterion was judged on."""

    def on(a: Arm) -> Arm:
        sub = Arm(a.config, a.stage, a.params, fail.metric)
        runs = a.runs if a.plan is not None else list(a.firsts.values())[:need]
        sub.firsts = {seed_key(o): o for o in runs}
        fill(sub, list(sub.firsts))
        return sub

    if fail.relative and base is None:
        return False
    ref = on(base) if fail.relative and base is not None else None
    for a in cands:
        est = estimate(on(a), ref)
        if est is None or est.se == 0:
            return False
        p = p_greater(est, fail.value) if fail.higher_is_better else 1 - p_greater(est, fail.value)
        if not p < 1 - level:
            return False
    return True


def _between(v: Verdict, best: Arm, crit: Criterion, fail: Criterion | None) -> str:
    """``; the mean lies between the failure threshold (…) and the success threshold (…)``, when it does."""
    if fail is None or fail.metric != crit.metric or fail.relative != crit.relative or best.estimate is None:
        return ""
    lo, hi = sorted((crit.value, fail.value))
    if not lo <= best.estimate <= hi:
        return ""
    what = "difference to the baseline" if crit.relative else "mean"
    return (
        f"; the {what} ({fmt_number(best.estimate)}) lies between the failure threshold ({fail.value:g}) and the "
        f"success threshold ({crit.value:g}), and neither is met at level {v.level:g}"
    )


def judge_experiment(exp: Any, baseline: dict[str, Any] | None = None) -> Verdict:
    """The verdict of an :class:`~jupyter_mlexp.core.experiment.Experiment`, read from its files."""

    try:
        hyp = exp.hypothesis
    except NoHypothesisError:
        hyp = None
    except MlexpError as err:  # a broken idea.json: nothing to judge against, and every surface says why
        return Verdict(INCONCLUSIVE, f"the hypothesis cannot be read: {err}", None, "quick")
    runs = exp.runs(include_ignored=True)  # read once: observations, runs made and criterion changes
    obs = load_observations(exp, runs, every=True)  # failed and ignored runs too: the verdict accounts for them
    made = sum(1 for r in runs if not r.ignored)
    regs = registrations(exp.events()) if hyp else []
    changes = experiment_changes(exp, runs, regs) if hyp else ()
    return judge_once(obs, hyp, baseline=baseline, runs_made=made, changes=changes, registrations=regs)


_REMEMBER = 4  # verdicts kept: a few experiments judged in turn (the sidebar's, the class view's)
_remembered: list[tuple[tuple[Any, ...], Verdict]] = []
_remembered_lock = threading.Lock()


def judge_once(
    observations: Sequence[Observation],
    hypothesis: Hypothesis | None,
    *,
    baseline: dict[str, Any] | None = None,
    runs_made: int | None = None,
    changes: Sequence[str] = (),
    registrations: Sequence[dict[str, Any]] | None = None,
) -> Verdict:
    """:func:`judge`, or the verdict it gave for the same arguments a moment ago: the same observation
    objects (the one loader gives the same object again for a run whose files did not change,
    :func:`~jupyter_mlexp.core.stats.observations.run_observation`) and equal other arguments. So the
    surfaces that show one experiment one after the other (``mlexp status``, the sidebar, the report)
    share one verdict. What comes back is shared: read-only."""
    obs = tuple(observations)  # kept with the verdict: while kept, no other object can take their ids
    key = (
        tuple(map(id, obs)),
        hypothesis,
        baseline,
        runs_made,
        tuple(changes),
        None if registrations is None else list(registrations),
        obs,
    )
    with _remembered_lock:
        for kept, verdict in _remembered:
            if kept[:-1] == key[:-1]:
                return verdict
    verdict = judge(
        obs, hypothesis, baseline=baseline, runs_made=runs_made, changes=changes, registrations=registrations
    )
    with _remembered_lock:
        _remembered.append((key, verdict))
        del _remembered[:-_REMEMBER]
    return verdict


def forget() -> None:
    """Forget the verdicts :func:`judge_once` keeps (benchmarks that time a cold read)."""
    with _remembered_lock:
        _remembered.clear()
