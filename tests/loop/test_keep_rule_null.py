"""The keep rule's error rates, measured by simulation through the real decision functions.

Each simulated attempt goes through what ``mlexp loop try`` does with its numbers: the screen
(:func:`rules.decide` on the loop's pooled noise), and for a screened win the confirmation on fresh
seeds beside the best kept commit re-run (:func:`rules.confirm`); a batch through
:func:`loop_batch.decide_batch`. Seed noise is normal with sd 1 and independent between runs (a
change to the code redraws every seed's noise, as a change to real training code changes its random
stream), the metric is a loss (lower is better). Seeded, so every figure is the same on every run;
each rate is asserted against its bound plus three Monte-Carlo standard errors.
"""

from __future__ import annotations

import math
import random

from jupyter_mlexp.loop import decision as rules
from jupyter_mlexp.loop.attempt_run import Measured
from jupyter_mlexp.loop.batch import decide_batch
from jupyter_mlexp.loop.loop_state import KEEP, Attempt, LoopState, Settings

LEVEL = 0.95
ALPHA = 1 - LEVEL


def settings(**kw) -> Settings:
    """The defaults ``mlexp loop start`` gives a hypothesis with three seeds."""
    base = {"tag": "t", "experiment": "e", "metric": "val_loss", "higher_is_better": False, "seeds": [0, 1, 2]}
    return Settings(**(base | kw))


class Sim:
    """One simulated loop: true means per commit, draws per run, the loop's state."""

    def __init__(self, rng: random.Random, s: Settings, sd: float = 1.0, deterministic: bool = False):
        self.rng, self.sd, self.deterministic = rng, sd, deterministic
        self.state = LoopState(s)
        self.truth: dict[int, float] = {}
        base = Attempt(0, "baseline", "c0", "", baseline=True)
        base.seeds = rules.baseline_seeds(self.state, s.seeds)
        self.truth[0] = 0.5
        base.values = self.draw(0.5, len(base.seeds))
        base.status = KEEP
        self.state.attempts.append(base)

    def draw(self, mean: float, n: int, scale: float = 1.0) -> list[float]:
        if self.deterministic:
            return [mean] * n
        return [self.rng.gauss(mean, self.sd * scale) for _ in range(n)]

    def attempt(self, gain: float = 0.0, added: int = 1, removed: int = 1, noisier: float = 1.0) -> Attempt:
        """One attempt whose true loss is the best kept one's minus ``gain`` (its seed noise ``noisier``
        times the loop's): the screen, then the confirmation."""
        state, s = self.state, self.state.settings
        best = state.best()
        assert best is not None
        n = state.next_number()
        self.truth[n] = self.truth[best.n] - gain
        a = Attempt(n, "", f"c{n}", best.commit, lines_added=added, lines_removed=removed)
        a.seeds = list(s.seeds)
        a.values = self.draw(self.truth[n], len(a.seeds), noisier)
        d = rules.decide(a, best, s, rules.noise(state, a.values))
        a.status, a.reason, a.delta, a.p = d.status, d.reason, d.delta, d.p
        if d.confirm_alpha is not None:
            fresh = rules.fresh_seeds(state, s.confirm_n)
            c, ref = self.draw(self.truth[n], len(fresh), noisier), self.draw(self.truth[best.n], len(fresh))
            a.confirm_seeds, a.seeds, a.values = fresh, a.seeds + fresh, a.values + c
            a.reference_seeds, a.reference_values = fresh, ref
            rules.confirm(a, best.n, c, ref, d.confirm_alpha, s, rules.noise(state, a.values, ref))
        state.attempts.append(a)
        return a


def mc_se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-4) / n)


def null_loops(s: Settings, loops: int, attempts: int = 30, seed: int = 1) -> tuple[float, float, float]:
    """Mean false keeps, its MC standard error, P(at least one) over ``loops`` null loops."""
    rng = random.Random(seed)
    counts = []
    for _ in range(loops):
        sim = Sim(rng, s)
        counts.append(sum(sim.attempt().status == KEEP for _ in range(attempts - 1)))
    mean = sum(counts) / loops
    var = sum((c - mean) ** 2 for c in counts) / (loops - 1)
    return mean, math.sqrt(var / loops), sum(c > 0 for c in counts) / loops


def test_a_30_attempt_loop_of_null_changes_keeps_at_most_0_1_on_average():
    mean, se, any_keep = null_loops(settings(), loops=1500)
    # measured: 0.059 kept per 30-attempt loop (MC se 0.006), P(>= 1 false keep) 0.059; the bound is 29 · α² = 0.073
    assert mean <= 0.1 + 3 * se, (mean, se, any_keep)
    # the harness can see the old fault: one test per attempt at the level keeps several times more
    one_test, se1, _ = null_loops(settings(confirm=0), loops=400, seed=2)
    assert one_test > 0.25, one_test


def power(gain: float, after: int, tries: int, seed: int, **kw) -> float:
    """P(keep) of an attempt ``gain`` sd better, tried after ``after`` null attempts."""
    rng = random.Random(seed)
    kept = 0
    for _ in range(tries):
        sim = Sim(rng, settings(**kw))
        for _ in range(after):
            sim.attempt()
        kept += sim.attempt(gain=gain).status == KEEP
    return kept / tries


def test_a_real_2_sd_gain_is_kept_with_probability_at_least_0_8():
    first = power(2.0, after=0, tries=1500, seed=3)  # right after the baseline: the least pooled df
    later = power(2.0, after=9, tries=600, seed=4)
    one_sd = power(1.0, after=0, tries=1500, seed=5)
    # measured: 2 sd kept 0.82 as attempt 1 and 0.85 as attempt 10; 1 sd kept 0.21 as attempt 1
    assert first >= 0.8 and later >= 0.8, (first, later)
    assert 0.15 < one_sd < 0.4, one_sd


def test_simpler_but_1_sd_worse_is_not_kept_as_equal():
    rng = random.Random(6)
    tries = 2000
    worse = equal = 0
    for _ in range(tries):
        sim = Sim(rng, settings())
        worse += sim.attempt(gain=-1.0, added=0, removed=15).status == KEEP
        sim.state.attempts.pop()
        equal += sim.attempt(gain=0.0, added=0, removed=15).status == KEEP
    # a false keep of the non-inferiority test: at most its α at the margin (0.5 sd); 1 sd is past it
    # measured: 1 sd worse kept 0.0005 (was 0.58); truly equal kept 0.04 (three seeds cannot bound a harm at sd/2)
    assert worse / tries <= ALPHA + 3 * mc_se(ALPHA, tries), worse / tries
    assert equal / tries > worse / tries


def batch_any_keep(k: int, tries: int, seed: int, **kw) -> float:
    """P(a batch of ``k`` null candidates keeps one), through the batch's real decision."""
    rng = random.Random(seed)
    kept = 0
    for _ in range(tries):
        sim = Sim(rng, settings(**kw))
        state, s = sim.state, sim.state.settings
        best = state.best()
        assert best is not None
        ref = Measured(seeds=list(s.seeds), values=sim.draw(sim.truth[0], len(s.seeds)))
        cands = [
            Attempt(i, "", f"c{i}", best.commit, seeds=list(s.seeds), values=sim.draw(sim.truth[0], len(s.seeds)))
            for i in range(1, k + 1)
        ]
        alpha = decide_batch(state, cands, ref, best)
        winner = next((a for a in cands if a.status == KEEP), None)
        if winner is not None and alpha is not None:
            c, r = sim.draw(sim.truth[0], s.confirm_n), sim.draw(sim.truth[0], s.confirm_n)
            winner.confirm_seeds = rules.fresh_seeds(state, s.confirm_n)
            rules.confirm(winner, best.n, c, r, alpha, s, rules.noise(state, winner.values + c, r))
        kept += any(a.status == KEEP for a in cands)
    return kept / tries


def test_a_batch_corrects_for_its_number_of_candidates():
    tries = 1500
    for k in (3, 5):
        # the screen alone (no confirmation): at most α over the batch, not k·α
        alone = batch_any_keep(k, tries, seed=10 + k, confirm=0)
        assert alone <= ALPHA + 3 * mc_se(ALPHA, tries), (k, alone)
        # the default: a batch spends as one attempt, ≤ α² = 0.0025
        default = batch_any_keep(k, tries, seed=20 + k)
        assert default <= ALPHA**2 + 3 * mc_se(ALPHA**2, tries), (k, default)


def one_seed_false_keeps(level: float, tries: int, seed: int) -> float:
    rng = random.Random(seed)
    kept = 0
    for _ in range(tries):
        sim = Sim(rng, settings(seeds=[0], level=level, confirm=0))
        kept += sim.attempt().status == KEEP
    return kept / tries


def test_the_one_seed_rule_honours_the_level_and_its_baseline_measures_the_noise():
    s = settings(seeds=[0])
    sim = Sim(random.Random(7), s)
    assert len(sim.state.attempts[0].seeds) == 4  # the baseline runs 4 seeds: the noise is measured
    assert rules.noise_floor(sim.state) > 0
    tries = 3000
    at95 = one_seed_false_keeps(0.95, tries, seed=8)
    at99 = one_seed_false_keeps(0.99, tries, seed=9)
    # one test per attempt (--confirm 0) at the level: 0.05 and 0.01, not 0.11 at both
    assert at95 <= 0.05 + 3 * mc_se(0.05, tries), at95
    assert at99 <= 0.01 + 3 * mc_se(0.01, tries), at99
    assert at99 < at95 / 2, (at95, at99)


def test_a_script_that_ignores_its_seed_is_warned_about_and_a_tiny_gain_is_not_kept():
    sim = Sim(random.Random(11), settings(), deterministic=True)
    assert rules.noise_floor(sim.state) == 0.005  # 1 % of the baseline's 0.5, not 0
    assert any("same value" in w for w in rules.warnings(sim.state))
    assert any("no seed spread" in w for w in rules.warnings(sim.state))
    tiny = sim.attempt(gain=0.00076)
    assert tiny.status == "discard" and tiny.p is None, tiny.reason
    clear = sim.attempt(gain=0.05)
    assert clear.status == KEEP and "no seed spread measured" in clear.reason, clear.reason


def test_a_null_change_that_doubles_the_noise_is_judged_on_its_own_spread():
    rng = random.Random(12)
    tries = 4000
    kept = 0
    for _ in range(tries):
        sim = Sim(rng, settings())
        for _ in range(4):
            sim.attempt()
        kept += sim.attempt(noisier=2.0).status == KEEP
    # the pooled sd is the quieter loop's; the confirmation uses the attempt's own spread when it is
    # larger beyond chance. Measured: 0.0048 (on the pooled sd alone: 0.0093); α² = 0.0025 holds for
    # changes that keep the noise
    assert kept / tries <= 0.005 + 3 * mc_se(0.005, tries), kept / tries
