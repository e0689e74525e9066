"""The arms of the verdict: one configuration's seeds, and the test of each against the criterion."""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlexp.core.record.hypothesis import Criterion
from jupyter_mlexp.core.stats.inference import (
    MAX_SEEDS,
    Estimate,
    bound,
    bounds_many,
    detectable,
    holm,
    mean_sd,
    one_sample,
    p_greater,
    p_greater_many,
    paired,
    seeds_for_power,
    welch,
)
from jupyter_mlexp.core.stats.observations import Observation, same_value


def fmt_number(x: float | None, digits: int = 4) -> str:
    if x is None or x != x:
        return "—"
    return f"{x:.{digits}g}"


@dataclass(slots=True)
class Arm:
    """One configuration (within a stage and mode) over its seeds, and its test against the criterion."""

    config: str
    stage: str
    params: dict[str, Any]
    metric: str
    runs: list[Observation] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    seeds: list[Any] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    nonfinite: int = 0
    missing: int = 0
    # the test
    estimate: float | None = None  # the mean (absolute criterion) or the difference to the baseline
    bound: float | None = None  # one-sided bound of the estimate at ``bound_level``
    bound_level: float | None = None
    lower: bool = True  # a lower bound (higher is better) or an upper one
    threshold: float | None = None
    p: float | None = None
    p_adjusted: float | None = None
    p_against: float | None = None
    df: float | None = None
    se: float | None = None
    test: str | None = None
    note: str = ""
    # the evidence: each seed once, the plan's seeds, what was left out and why
    firsts: dict[str, Observation] = field(default_factory=dict, repr=False)  # seed key -> earliest completed run
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # later runs of a seed already counted
    duplicate_runs: list[Observation] = field(default_factory=list, repr=False)
    plan: int | None = None  # the seeds the plan judges (``seeds: N``)
    failed_seeds: list[dict[str, Any]] = field(default_factory=list)  # plan seeds with no completed run
    nonfinite_seeds: list[Any] = field(default_factory=list)  # plan seeds whose value is NaN/inf
    extra_seeds: list[Any] = field(default_factory=list)  # completed seeds beyond the plan: reported, not pooled
    reused_seeds: list[Any] = field(default_factory=list)  # seeds run before the treatment was registered
    plan_label: str = "the plan"  # what the plan is called: ``look 2`` of a sequential plan

    @property
    def label(self) -> str:
        return f"{self.config} [{self.stage}]"

    def take(self, runs: Collection[Observation]) -> None:
        """Count each of ``runs``, in order, as one of the arm's seeds: its value, or why it has none
        (missing, NaN/inf)."""
        self.runs.extend(runs)
        metric, values, seeds, sources = self.metric, self.values, self.seeds, self.sources
        for o in runs:
            got = o.finals.get(metric)
            if got is None:
                self.missing += 1
            elif not math.isfinite(got[0]):
                self.nonfinite += 1
                self.nonfinite_seeds.append(o.seed)
            else:
                values.append(got[0])
                seeds.append(o.seed)
                sources.append(got[1])

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return mean_sd(self.values)[0] if self.values else None

    @property
    def sd(self) -> float | None:
        return mean_sd(self.values)[1] if self.values else None

    def interval_text(self) -> str:
        if self.bound is None:
            return "—"
        return f"[{fmt_number(self.bound)}, ∞)" if self.lower else f"(−∞, {fmt_number(self.bound)}]"

    def level_text(self) -> str:
        """The level the shown bound is at: ``95% one-sided``, or Holm's step level when it differs."""
        return f"{(self.bound_level or 0) * 100:.4g}% one-sided bound"

    def describe(self, crit: Criterion, against: float | None = None) -> str:
        """The arm's value and test; ``against``: the level of a refutation, shown by what decided it (the
        opposite bound at that level and the p of "the criterion fails"), not the p of the claim."""
        text = f"`{self.label}`: {crit.metric} = {fmt(self)}"
        if self.bound is None:
            return text + (f" ({self.note})" if self.note else "")
        what = f"Δ = {fmt_number(self.estimate)}; " if crit.relative else ""
        if against is not None and self.estimate is not None:
            est = Estimate(self.estimate, self.se or 0.0, self.df or 1.0, self.test or "")
            other = bound(est, against, not self.lower)
            side = "upper" if self.lower else "lower"
            return (
                f"{text} ({what}{self.test}, {against * 100:.4g}% {side} bound {fmt_number(other)} misses the "
                f"threshold, p = {fmt_number(self.p_against, 3)} that it is met)"
            )
        side = "lower" if self.lower else "upper"
        level = f"{(self.bound_level or 0) * 100:.4g}%"
        p = f"p = {fmt_number(self.p, 3)}"
        if self.p_adjusted is not None and self.p_adjusted != self.p:
            p += f", Holm-adjusted p = {fmt_number(self.p_adjusted, 3)}"
        return f"{text} ({what}{self.test}, {level} {side} bound {fmt_number(self.bound)}, {p})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "configuration": self.label,
            "params": self.params,
            "stage": self.stage,
            "metric": self.metric,
            "n": self.n,
            "seeds": self.seeds,
            "values": self.values,
            "mean": self.mean,
            "sd": self.sd,
            "nonfinite_excluded": self.nonfinite,
            "runs_missing_metric": self.missing,
            "test": self.test,
            "estimate": self.estimate,
            "bound": self.bound,
            "bound_level": self.bound_level,
            "bound_side": "lower" if self.lower else "upper",
            "interval": self.interval_text(),
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            "note": self.note,
            "sources": self.sources,
            "plan": self.plan,
            "duplicates": self.duplicates,
            "failed_seeds": self.failed_seeds,
            "nonfinite_seeds": self.nonfinite_seeds,
            "extra_seeds": self.extra_seeds,
            "reused_seeds": self.reused_seeds,
        }

    def plan_text(self) -> str:
        """``3 of the plan's 3 seeds``, with what is missing and what was left out."""
        if self.plan is None:
            return ""
        parts = [f"{self.n} of {self.plan_label}'s {self.plan} seeds"]
        if self.failed_seeds:
            parts.append(
                "no completed run for seed "
                + ", ".join(f"{f['seed']} ({f['status']})" for f in self.failed_seeds)
                + " (a crash may be re-run on the same seed)"
            )
        if self.nonfinite_seeds:
            parts.append(f"NaN/inf at seed {', '.join(map(str, self.nonfinite_seeds))}")
        if self.extra_seeds:
            parts.append(f"{len(self.extra_seeds)} seed(s) beyond {self.plan_label} reported, not pooled")
        if self.reused_seeds:
            parts.append(
                f"seed {', '.join(map(str, self.reused_seeds))} left out: run before the treatment was registered"
            )
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} re-run(s) of counted seeds not counted again")
        return "; ".join(parts)


def fmt(a: Arm) -> str:
    """``0.912 ± 0.004 (n = 3)`` (sd over seeds); ``0.912 (n = 1)``; never ``± 0`` for one seed."""
    return fmt_spread(a.mean, a.sd, a.n, a.nonfinite, a.missing)


def fmt_spread(
    mean: float | None, sd: float | None, n: int, nonfinite: int = 0, missing: int = 0, digits: int = 4
) -> str:
    """``0.912 ± 0.004 (n = 3)``; ``0.912 (n = 1)``; ``not measured``; what was left out, in brackets.

    The one way every surface (verdict, report tables, status) writes a mean over seeds.
    """
    if n == 0:
        text = "not measured"
    elif n == 1 or sd is None:
        text = f"{fmt_number(mean, digits)} (n = 1)"
    else:
        text = f"{fmt_number(mean, digits)} ± {fmt_number(sd, digits)} (n = {n})"
    notes = []
    if nonfinite:
        notes.append(f"{nonfinite} NaN/inf excluded")
    if missing:
        notes.append(f"missing in {missing} run{'s' if missing > 1 else ''}")
    return text + (f" [{'; '.join(notes)}]" if notes else "")


def seed_key(o: Observation) -> str:
    """The seed a run counts for: its seed value (a run that recorded none is its own seed)."""
    return f"run:{o.run_id}" if o.seed is None else str(o.seed)


def by_start(obs: Sequence[Observation]) -> Sequence[Observation]:
    """``obs`` ordered by start time (then run id): the earliest run of a seed is the one that counts."""
    keys = [(o.started or "", o.run_id) for o in obs]
    if all(map(operator.le, keys, itertools.islice(keys, 1, None))):  # read in that order already (ids are times)
        return obs
    order = sorted(range(len(obs)), key=keys.__getitem__)
    return [obs[i] for i in order]


def group_arms(obs: Sequence[Observation], mode: str, metric: str) -> list[Arm]:
    """One arm per (stage, configuration) of ``mode``, in first-seen order, with ``metric``'s values.

    Each seed counts once: the earliest completed run of a (configuration, seed) by start time; later
    runs of that seed are listed in ``duplicates`` (``differs`` when they gave another value).
    """
    arms: dict[tuple[str, str], Arm] = {}
    for o in by_start(obs):
        if o.mode != mode or o.status != "completed" or o.ignored is not None:  # counted, inline (hot)
            continue
        a = arms.get((o.stage, o.config))
        if a is None:
            a = arms[(o.stage, o.config)] = Arm(o.config, o.stage, o.params, metric)
        key = f"run:{o.run_id}" if o.seed is None else str(o.seed)  # seed_key, inline (hot)
        first = a.firsts.get(key)
        if first is None:
            a.firsts[key] = o
            continue
        a.duplicate_runs.append(o)
        mine, theirs = _value(o, metric), _value(first, metric)
        same = mine == theirs or (mine is not None and theirs is not None and mine != mine and theirs != theirs)
        shown = mine if mine is None or math.isfinite(mine) else None  # JSON has no NaN: the REST answers
        a.duplicates.append(
            {"run_id": o.run_id, "seed": o.seed, "value": shown, "counted_run": first.run_id, "differs": not same}
        )
    for a in arms.values():  # each seed's earliest run, in the order the seeds were first seen
        a.take(a.firsts.values())
    return list(arms.values())


def _value(o: Observation, metric: str) -> float | None:
    got = o.finals.get(metric)
    return None if got is None else got[0]


def fill(a: Arm, keys: Sequence[str]) -> None:
    """Set the arm's runs and values to its counted runs of the seeds ``keys``, in that order."""
    a.runs, a.values, a.seeds, a.sources, a.nonfinite, a.missing = [], [], [], [], 0, 0
    a.nonfinite_seeds = []
    a.take([a.firsts[key] for key in keys if key in a.firsts])


def apply_plan(
    a: Arm,
    need: int,
    uncounted: Sequence[Observation] = (),
    reused: set[str] | frozenset[str] = frozenset(),
    prefer: Sequence[str] = (),
) -> None:
    """Judge the arm on its plan: the first ``need`` seeds attempted (any status, not ignored), in start
    order, leaving out ``reused`` seed keys. The attempts are the arm's counted runs, their later re-runs
    and ``uncounted``: the configuration's runs that did not complete (not ignored). ``prefer``: seed keys
    to take instead when the arm has each of them completed (a baseline on its candidate's seeds, so the
    comparison can be paired)."""
    if not reused and not prefer and not uncounted and not a.duplicate_runs and len(a.firsts) <= need:
        # the common case: every attempt completed once, within the plan; group_arms filled the arm in start order
        a.plan, a.failed_seeds, a.extra_seeds, a.reused_seeds = need, [], [], []
        return
    order: list[str] = []
    status: dict[str, list[str]] = {}
    for o in by_start([*a.firsts.values(), *a.duplicate_runs, *uncounted]):
        key = seed_key(o)
        if key not in status:
            order.append(key)
            status[key] = []
        status[key].append(o.status)
    a.reused_seeds = [_seed_of(a, k) for k in order if k in reused]
    fresh = [k for k in order if k not in reused]
    if prefer and len(prefer) >= min(need, len(fresh)) and all(k in a.firsts for k in prefer):
        plan = list(prefer)[:need]
        rest = [k for k in fresh if k not in plan]
    else:
        plan, rest = fresh[:need], fresh[need:]
    a.plan = need
    a.failed_seeds = [
        {"seed": _seed_of(a, k), "status": "/".join(sorted(set(status.get(k) or ["missing"])))}
        for k in plan
        if k not in a.firsts
    ]
    fill(a, [k for k in plan if k in a.firsts])
    a.extra_seeds = [a.firsts[k].seed for k in rest if k in a.firsts]


def _seed_of(a: Arm, key: str) -> Any:
    o = a.firsts.get(key)
    if o is not None:
        return o.seed
    return key if key.startswith("run:") else _int_or_str(key)


def _int_or_str(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


_same = same_value


def matching(arms: list[Arm], wanted: dict[str, Any]) -> list[Arm]:
    return [a for a in arms if all(k in a.params and _same(a.params[k], v) for k, v in wanted.items())]


def ambiguous(arms: list[Arm]) -> bool:
    return len({a.config for a in arms}) > 1


def pick_baseline(arms: list[Arm], crit: Criterion) -> Arm | None:
    """The best of the baseline-stage arms on the criterion's metric (the hardest to beat)."""
    measured = [a for a in arms if a.n > 0]
    if not measured:
        return arms[0] if arms else None
    sign = 1.0 if crit.higher_is_better else -1.0
    return max(measured, key=lambda a: sign * (a.mean or 0.0))


def seed_flags(arms: list[Arm]) -> list[str]:
    """Unequal seed counts or different seed sets among the arms compared."""
    out = []
    if len({a.n for a in arms}) > 1:
        counts = {a.label: a.n for a in arms}
        out.append("unequal numbers of seeds: " + ", ".join(f"`{k}` n = {n}" for k, n in counts.items()))
    first = arms[0].seeds if arms else []
    if any(a.seeds != first for a in arms):  # the common case, the same seeds in the same order, needs no sort
        sets = {tuple(sorted(map(str, a.seeds))) for a in arms}
        if len(sets) > 1:
            out.append("configurations ran different seed sets")
    return out


def estimate(a: Arm, base: Arm | None) -> Estimate | None:
    """The verdict's estimate of ``a`` (against ``base``): one-sample without a base; paired when both
    ran the same seeds; else Welch. The keep/discard loop decides with it too (:mod:`.loop`)."""
    if base is None:
        return one_sample(a.values)
    same = len(set(map(str, a.seeds))) == a.n and sorted(map(str, a.seeds)) == sorted(map(str, base.seeds))
    if same and a.n >= 2:
        by_seed = dict(zip(map(str, base.seeds), base.values))
        return paired(a.values, [by_seed[str(s)] for s in a.seeds])
    return welch(a.values, base.values)


def test_arms(
    cands: list[Arm], base: Arm | None, crit: Criterion, level: float, need: int, untested: int = 0
) -> str | None:
    """Test each candidate against the criterion (one-sided), Holm-adjust over them; the test's name.

    ``untested``: configurations of the family that have no arm here (run under the hypothesis, in quick
    mode or failed): each counts in Holm's k as p = 1."""
    tests = []
    todo: list[tuple[Arm, Estimate]] = []  # testable: their p-values are computed together (one scipy call)
    threshold, lower = crit.value, crit.higher_is_better
    for a in cands:
        a.threshold, a.lower = threshold, lower
        est = estimate(a, base) if len(a.values) >= need else None
        if est is None:
            a.note = a.note or f"too few seeds (n = {a.n}; needs {need})"
            continue
        a.test, a.estimate, a.df, a.se = est.test, est.value, est.df, est.se
        tests.append(est.test)
        if est.se == 0.0:
            a.note = (
                "zero variance: the difference to the baseline was the same at every seed, so no t bound exists"
                if est.test.startswith("paired")
                else "zero variance: every seed gave the same value, so no t bound exists (check the seeding)"
            )
            continue
        todo.append((a, est))
    for (a, _), greater in zip(todo, p_greater_many([est for _, est in todo], threshold)):
        a.p, a.p_against = (greater, 1 - greater) if lower else (1 - greater, greater)
    ps = [a.p for a in cands]
    adjusted = holm(ps + [None] * untested)
    alpha = 1 - level
    k = len(cands) + untested
    sort_key = [1.0 if p is None else p for p in ps]
    order = sorted(range(len(cands)), key=sort_key.__getitem__)  # the untested sort last (p = 1)
    stopped: float | None = None  # the level of Holm's first step that did not reject
    shown: list[Arm] = []  # arms with a bound: computed together (one scipy call)
    for rank, i in enumerate(order):
        a = cands[i]
        a.p_adjusted = adjusted[i]
        step = 1 - alpha / (k - rank)  # Holm's step: the level this rank is tested at
        if stopped is None and not sort_key[i] < alpha / (k - rank):
            stopped = step
        if a.p is None or a.estimate is None:
            continue
        # From the first step Holm does not reject onward every bound is at that step's level, so a
        # bound clears the threshold exactly when its adjusted p is below alpha.
        a.bound_level = step if stopped is None else stopped
        shown.append(a)
    tested = {id(a): est for a, est in todo}  # the estimates just computed, not built anew (hot)
    ests = [tested.get(id(a)) or Estimate(a.estimate or 0.0, a.se or 0.0, a.df or 1.0, a.test or "") for a in shown]
    for a, got in zip(shown, bounds_many(ests, [a.bound_level or 0.0 for a in shown], [a.lower for a in shown])):
        a.bound = got
    return tests[0] if tests and len(set(tests)) == 1 else (", ".join(sorted(set(tests))) or None)


def _power_inputs(a: Arm, base: Arm | None, crit: Criterion) -> tuple[Estimate, float, float, int] | None:
    """The estimate, its distance from the threshold, the per-seed sd and the number of arms."""
    est = estimate(a, base)
    if est is None or est.se == 0 or a.sd is None:
        return None
    if (est.value < crit.value) if crit.higher_is_better else (est.value > crit.value):
        return None  # on the wrong side of the threshold: no number of seeds is advice worth giving
    if base is None:
        sd, arms = a.sd, 1
    elif est.test.startswith("paired"):
        sd, arms = est.se * math.sqrt(a.n), 1
    else:
        sd, arms = math.sqrt(((a.sd or 0.0) ** 2 + (base.sd or 0.0) ** 2) / 2), 2
    return est, abs(est.value - crit.value), sd, arms


def power_seeds(a: Arm, base: Arm | None, crit: Criterion, level: float) -> int | None:
    """Seeds per configuration for 80 % power at ``level`` if the observed effect and spread are the truth."""
    got = _power_inputs(a, base, crit)
    return None if got is None else seeds_for_power(got[1], got[2], level, got[3])


def would_decide(a: Arm, base: Arm | None, crit: Criterion, level: float) -> str | None:
    """What would decide an inconclusive verdict: seeds for 80 % power, or the detectable effect."""
    got = _power_inputs(a, base, crit)
    if got is None:
        return None
    est, distance, sd, arms = got
    n = seeds_for_power(distance, sd, level, arms)
    smallest = detectable(est, level)
    what = "the difference to the baseline" if base is not None else "the mean"
    head = (
        f"a plan of about {n} seeds per configuration would give 80% power at level {level:g} if {what} stays at "
        f"{fmt_number(est.value)} (sd {fmt_number(sd)}): register it as a new version ('seeds: {n}', called out "
        f"as a change after the runs) and run it on fresh seeds (--seeds fresh:{n}); seeds added to this plan are "
        "reported, not pooled"
        if n is not None
        else f"{what} sits on the threshold: no number of seeds up to {MAX_SEEDS} would decide it"
    )
    return f"{head}; with n = {a.n} the smallest distance from the threshold detectable with 80% power is {fmt_number(smallest)}"


OUTLIER_Z = 3.5  # Iglewicz & Hoaglin's modified z-score above which a value is an outlier
OUTLIER_MIN_N = 4  # fewer seeds than this have no median to stand out from


def favourable_outlier(a: Arm, base: Arm | None, crit: Criterion) -> tuple[Any, float, float | None] | None:
    """The arm's most favourable seed when it is an outlier, its modified z and the test's p without it.

    The values looked at are the arm's (or, paired, its per-seed differences to the baseline); modified
    z = 0.6745 · |x − median| / MAD (MAD: the median absolute deviation); an outlier has z > 3.5.
    None when there is no such seed (or fewer than 4 seeds)."""
    est = estimate(a, base)
    if est is None or a.n < OUTLIER_MIN_N:
        return None
    paired_test = est.test.startswith("paired") and base is not None
    if paired_test and base is not None:
        by_seed = dict(zip(map(str, base.seeds), base.values))
        xs = [x - by_seed[str(s)] for x, s in zip(a.values, a.seeds)]
    else:
        xs = list(a.values)
    i = max(range(len(xs)), key=lambda j: xs[j] if crit.higher_is_better else -xs[j])
    med = sorted(xs)[len(xs) // 2] if len(xs) % 2 else sum(sorted(xs)[len(xs) // 2 - 1 : len(xs) // 2 + 1]) / 2
    devs = sorted(abs(x - med) for x in xs)
    n = len(devs)
    mad = devs[n // 2] if n % 2 else (devs[n // 2 - 1] + devs[n // 2]) / 2
    if xs[i] == med:
        return None
    z = math.inf if mad == 0 else 0.6745 * abs(xs[i] - med) / mad
    if z <= OUTLIER_Z:
        return None
    rest = Arm(a.config, a.stage, a.params, a.metric)
    keep = [j for j in range(len(xs)) if j != i]
    rest.values, rest.seeds = [a.values[j] for j in keep], [a.seeds[j] for j in keep]
    if paired_test and base is not None:
        got = paired(rest.values, [by_seed[str(s)] for s in rest.seeds])
    else:
        got = estimate(rest, base)
    if got is None or got.se == 0:
        return a.seeds[i], z, None
    greater = p_greater(got, crit.value)
    return a.seeds[i], z, (greater if crit.higher_is_better else 1 - greater)


NEAR_BOUND_SD = 4.0  # a mean fewer sd than this from the metric's bound on the favourable side: skewed noise


def near_bound(a: Arm, crit: Criterion) -> tuple[str, str] | None:
    """Why the arm's seed noise is likely skewed and the transform that fits, or None: an absolute criterion whose favourable side is a
    bound the values cannot pass, with the mean fewer than ``NEAR_BOUND_SD`` sd from it. Higher is better and
    every value in [0, 1] (a proportion: an accuracy): the bound is 1; lower is better and every value ≥ 0 (a
    loss, an error rate, a time): the bound is 0. The noise of such a metric piles up against the bound and
    has a long tail away from it, which 3-10 seeds rarely show: the t test says "supported" too often.
    """
    if crit.relative or a.n < 2 or not a.sd:
        return None
    mean, sd = a.mean or 0.0, a.sd
    if crit.higher_is_better and all(0.0 <= x <= 1.0 for x in a.values):
        gap, edge, fix = (1.0 - mean) / sd, 1, "logit"
    elif not crit.higher_is_better and all(x >= 0.0 for x in a.values):
        gap, edge, fix = mean / sd, 0, "logit" if all(x <= 1.0 for x in a.values) else "log"
    else:
        return None
    if gap >= NEAR_BOUND_SD * (1 - 1e-9):  # up to rounding: 0.03, 0.04, 0.05 are 4 sd from 0, not 3.999999999999999
        return None
    return (
        f"`{a.label}`: the mean {fmt_number(mean)} is {gap:.2g} sd from {crit.metric}'s bound {edge} "
        f"(fewer than {NEAR_BOUND_SD:g}): seed noise this close to a bound is skewed and the t test's normal model "
        f"does not hold; register 'transform: {fix}'",
        fix,
    )
