"""The decision's rules (numbers in, keep/discard out) and revive, show, --confirm, one-seed attempts."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

from conftest import attempt, edit, git, mlexp, write_notebook

from jupyter_mlexp import Experiment
from jupyter_mlexp.loop import decision as rules
from jupyter_mlexp.loop.loop_state import Attempt, LoopState, Settings


def settings(**kw) -> Settings:
    return Settings(
        **{"tag": "t", "experiment": "e", "metric": "val_loss", "higher_is_better": False, "seeds": [0]} | kw
    )


def made(n, values, seeds=None, added=0, removed=0, status="keep", baseline=False) -> Attempt:
    return Attempt(
        n, f"a{n}", f"c{n}", "", status=status, values=values, seeds=seeds or list(range(len(values))),
        lines_added=added, lines_removed=removed, baseline=baseline,
    )  # fmt: skip


def decide(attempt, best, s, *others):
    """The screen as the runner calls it: on the noise pooled over the loop and the attempt."""
    state = LoopState(s, [best, *others])
    return rules.decide(attempt, best, s, rules.noise(state, attempt.values))


def test_one_seed_attempts_are_tested_on_the_pooled_noise_at_the_loops_level():
    base = made(0, [0.50, 0.52, 0.48, 0.50], baseline=True)  # sd 0.01633, df 3
    state = LoopState(settings(), [base])
    assert abs(rules.noise_floor(state) - 2 * 0.016330) < 1e-5  # 2 sd of the loop's noise
    # 0.035 better on one seed: t = 0.035 / (0.01633 · √(1 + 1/4)) = 1.92 on 3 df, p = 0.075
    one = made(1, [0.465])
    at95 = decide(one, base, settings(confirm=0))
    assert at95.status == "discard" and 0.07 < at95.p < 0.08, at95.reason
    at90 = decide(one, base, settings(confirm=0, level=0.9))
    assert at90.status == "keep" and at90.confirm_alpha is None
    # the default: screened at 2α = 0.1, kept only if confirmed on fresh seeds at α/2
    screened = decide(one, base, settings())
    assert screened.status == "keep" and abs(screened.confirm_alpha - 0.025) < 1e-12
    assert decide(one, base, settings(min_delta=0.04)).status == "discard"  # --min-delta: a floor beside the test


def test_simplicity_a_small_gain_with_many_lines_goes_an_equal_result_with_fewer_lines_stays():
    base = made(0, [0.50, 0.51, 0.49, 0.50], baseline=True)  # sd 0.008165
    s = settings(confirm=0, simplicity_lines=20, simplicity_gain=0.03)
    hacky = decide(made(1, [0.475, 0.47, 0.48], added=40), base, s)
    assert hacky.status == "discard" and "simplicity" in hacky.reason and hacky.promising
    assert decide(made(1, [0.475, 0.47, 0.48], added=3), base, s).status == "keep"
    assert decide(made(1, [0.45, 0.44, 0.46], added=40), base, s).status == "keep"  # worth its lines
    # equal and 15 lines shorter: the harm's 95 % bound, 0 + t(0.95, 5 df) · 0.0079 · √(1/3 + 1/4) = 0.0121, is
    # within a margin of 0.02
    shorter = decide(made(1, [0.50, 0.51, 0.49], removed=15), base, settings(confirm=0, margin=0.02))
    assert shorter.status == "keep" and "simpler" in shorter.reason, shorter.reason
    # ... not within the default margin (half the sd, 0.004): "not significantly worse" is not "equal"
    assert decide(made(1, [0.50, 0.51, 0.49], removed=15), base, settings(confirm=0)).status == "discard"
    # 1 sd worse: not significantly worse (p = 0.11), and not kept as equal either
    worse = decide(made(1, [0.508, 0.518, 0.498], removed=15), base, settings(confirm=0, margin=0.004))
    assert worse.status == "discard" and 1 - worse.p > 0.05, worse.reason


def test_the_screen_is_a_t_test_on_the_loops_pooled_noise():
    base = made(0, [0.50, 0.52, 0.48, 0.50, 0.51, 0.49], baseline=True)
    earlier = made(1, [0.53, 0.50, 0.51], status="discard")
    s = settings(seeds=[0, 1, 2])
    state = LoopState(s, [base, earlier])
    a = made(2, [0.49, 0.51, 0.47])
    loop_noise = rules.noise(state, a.values)
    # s² = Σ SS / Σ (n − 1) over the baseline, the earlier attempt and this one
    ss = 0.001 + 0.00046667 + 0.0008
    assert loop_noise.df == 5 + 2 + 2 and abs(loop_noise.sd - (ss / 9) ** 0.5) < 1e-6
    d = rules.decide(a, base, s, loop_noise)
    se = loop_noise.sd * (1 / 3 + 1 / 6) ** 0.5
    from scipy import stats

    assert abs(d.p - stats.t.sf(0.01 / se, 9)) < 1e-9 and d.test.startswith("t on the loop's pooled")
    higher = settings(higher_is_better=True)
    assert decide(made(1, [0.6, 0.61, 0.62]), made(0, [0.5, 0.52, 0.49], baseline=True), higher).status == "keep"


def test_confirmation_keeps_only_when_the_fresh_difference_alone_passes():
    base = made(0, [0.50, 0.52, 0.48, 0.50], baseline=True)
    s = settings()
    win = made(1, [0.45, 0.46, 0.44])
    win.status, win.reason, win.confirm_seeds = "keep", "better", [4, 5, 6, 7]
    state = LoopState(s, [base])
    fresh, ref = [0.45, 0.47, 0.44, 0.46], [0.50, 0.49, 0.51, 0.50]
    rules.confirm(win, 0, fresh, ref, 0.025, s, rules.noise(state, win.values + fresh, ref))
    assert win.status == "keep" and "confirmed on fresh seeds [4, 5, 6, 7]" in win.reason
    lucky = made(2, [0.45, 0.46, 0.44])
    lucky.status, lucky.reason, lucky.confirm_seeds = "keep", "better", [4, 5, 6, 7]
    rules.confirm(lucky, 0, ref, [0.49, 0.51, 0.50, 0.50], 0.025, s, rules.noise(state, lucky.values + ref))
    assert lucky.status == "discard" and lucky.reason.startswith("not confirmed")


def test_a_discarded_attempt_is_shown_and_revived_as_a_new_attempt(started, capsys):
    root = started
    attempt(capsys, "baseline")
    edit(root, SHIFT=0.001)
    first = attempt(capsys, "tiny shift")
    assert first["status"] == "discard"
    code, out, _ = mlexp(capsys, "loop", "show", "1")
    assert code == 0 and "+SHIFT = 0.001" in out and "attempt 1: tiny shift" in out
    code, out, err = mlexp(capsys, "loop", "revive", "1", "--json", "--seeds", "0,1,2,3,4")
    again = json.loads(out)
    assert again["n"] == 2 and again["revived_from"] == 1 and again["description"] == "revive 1: tiny shift"
    assert again["seeds"] == [0, 1, 2, 3, 4] and again["commit"] != first["commit"]
    assert git(root, "diff", first["commit"], again["commit"]) == ""  # the same change
    code, _, err = mlexp(capsys, "loop", "revive", "0")
    assert code == 2 and "baseline" in err


def test_confirm_reruns_a_win_on_fresh_seeds_before_keeping_it(repo, capsys):
    code, _, err = mlexp(capsys, "loop", "start", "c", "--experiment", "tune", "--seeds", "0,1,2", "--confirm", "2")
    assert code == 0, err
    attempt(capsys, "baseline")
    edit(repo, SHIFT=0.05)
    win = attempt(capsys, "better")
    # the fresh seeds follow the baseline's 0..5; the best kept commit was re-run on them beside it
    assert win["status"] == "keep" and win["confirm_seeds"] == [6, 7]
    assert win["seeds"] == [0, 1, 2, 6, 7] and "confirmed on fresh seeds [6, 7] beside attempt 0" in win["reason"]
    assert len(win["run_ids"]) == 5 and len(win["reference_run_ids"]) == 2 and win["reference_seeds"] == [6, 7]


def test_revive_refuses_a_change_that_conflicts_with_the_branch(started, capsys):
    attempt(capsys, "baseline")
    edit(started, SHIFT=0.001)
    assert attempt(capsys, "tiny")["status"] == "discard"
    edit(started, SHIFT=0.05)
    assert attempt(capsys, "big")["status"] == "keep"
    code, _, err = mlexp(capsys, "loop", "revive", "1")
    assert code == 2 and "does not apply cleanly" in err
    st = json.loads(mlexp(capsys, "loop", "status", "--json", "--no-figure")[1])
    assert st["attempts"] == 3 and st["pending"] is None  # nothing recorded for the refused revive


def test_a_notebook_attempt_runs_through_the_notebook_runner(repo, capsys):
    write = functools.partial(write_notebook, repo)
    write(0.0)
    git(repo, "add", "train.ipynb")
    git(repo, "commit", "-q", "-m", "a notebook")
    # --confirm 0: this test is about the notebook runner (a confirmation runs a batch's arms, tested there)
    assert mlexp(capsys, "loop", "start", "nb", "--experiment", "tune", "--seeds", "0,1", "--confirm", "0")[0] == 0
    code, out, err = mlexp(capsys, "loop", "try", "-m", "baseline", "--json", "train.ipynb")
    base = json.loads(out)
    assert base["status"] == "keep" and base["values"] == [0.5, 0.501, 0.502, 0.503], err  # 4 seeds for the baseline
    write(0.1)
    # the real command, as an agent runs it: stdout is the JSON, and stderr has no warning about the
    # loop's own attempt=N (a parameter the user's notebook is not meant to declare)
    cli = Path(sys.executable).with_name("mlexp")
    proc = subprocess.run([cli, "loop", "try", "-m", "shift", "--json", "train.ipynb"], capture_output=True, text=True)
    assert proc.returncode == 0 and "not declared" not in proc.stderr, proc.stderr
    better = json.loads(proc.stdout)
    assert better["status"] == "keep" and better["values"] == [0.4, 0.401]
    assert better["p"] < 1e-6  # the same 0.1 on both seeds, judged on the spread the baseline showed
    # every attempt's runs carry attempt=N, notebooks' as scripts'
    runs = {r.run_id: r for r in Experiment("tune").runs()}
    for a in (base, better):
        assert [runs[i].manifest["params"].get("attempt") for i in a["run_ids"]] == [a["n"]] * len(a["seeds"])


def test_a_batch_runs_prepared_commits_in_worktrees_beside_the_best_and_keeps_one(started, capsys):
    from jupyter_mlexp import Experiment

    root = started
    attempt(capsys, "baseline")
    base = git(root, "rev-parse", "HEAD")
    for branch, shift in (("idea-a", 0.05), ("idea-b", 0.001), ("idea-c", 0.08)):
        git(root, "switch", "-q", "-c", branch, "autoresearch/t1")
        edit(root, SHIFT=shift)
        git(root, "commit", "-q", "-am", f"shift {shift}")
    git(root, "switch", "-q", "autoresearch/t1")
    code, out, err = mlexp(
        capsys, "loop", "batch", "idea-a", "idea-b", "idea-c", "--jobs", "4", "--json", "--", "python3", "train.py"
    )
    assert code == 0, err
    done = {a["description"]: a for a in json.loads(out)}
    assert [a["n"] for a in done.values()] == [1, 2, 3]
    assert done["shift 0.08"]["status"] == "keep", done["shift 0.08"]["reason"]
    assert (
        done["shift 0.05"]["status"] == "discard"
        and "attempt 3 of the same batch did better" in done["shift 0.05"]["reason"]
    )
    assert done["shift 0.001"]["status"] == "discard"
    assert "re-run alongside" in done["shift 0.001"]["reason"]
    assert git(root, "rev-parse", "HEAD") == done["shift 0.08"]["commit"]
    assert git(root, "merge-base", "--is-ancestor", base, "HEAD") == ""
    # every arm's runs are in the record, with the commit each ran as its provenance
    runs = [r for r in Experiment("tune").runs() if "loop_batch" in (r.manifest.get("params") or {})]
    # the batch's 4 arms × 3 seeds, then the winner and the reference on 6 fresh seeds
    assert len(runs) == 4 * 3 + 2 * 6
    commits = {str(r.manifest["params"]["arm"]): r.manifest["git"]["commit"] for r in runs}
    assert commits == {"reference": base, **{str(a["n"]): a["commit"] for a in done.values()}}
    assert done["shift 0.08"]["confirm_seeds"] == [6, 7, 8, 9, 10, 11]
    assert "mlexp-worktrees" not in git(root, "worktree", "list")


def test_a_batch_of_notebook_attempts(repo, capsys):
    write_notebook(repo, 0.0)
    git(repo, "add", "train.ipynb")
    git(repo, "commit", "-q", "-m", "a notebook")
    assert mlexp(capsys, "loop", "start", "nbb", "--experiment", "tune", "--seeds", "0,1", "--confirm", "0")[0] == 0
    assert json.loads(mlexp(capsys, "loop", "try", "-m", "baseline", "--json", "train.ipynb")[1])["status"] == "keep"
    git(repo, "switch", "-q", "-c", "idea", "autoresearch/nbb")
    write_notebook(repo, 0.1)
    git(repo, "commit", "-q", "-am", "shift 0.1")
    git(repo, "switch", "-q", "autoresearch/nbb")
    code, out, err = mlexp(capsys, "loop", "batch", "idea", "train.ipynb", "--json")
    assert code == 0, err
    (done,) = json.loads(out)
    assert done["status"] == "keep" and done["values"] == [0.4, 0.401], err


def test_an_attempts_mean_and_spread_are_the_verdicts():
    from jupyter_mlexp.core.stats.inference import mean_sd
    from jupyter_mlexp.core.stats.verdict_arms import fmt_spread
    from jupyter_mlexp.loop.loop_state import result_row

    same = made(1, [0.1, 0.1, 0.1])
    assert (same.mean, same.sd) == mean_sd([0.1, 0.1, 0.1]) and same.sd == 0.0  # no rounding spread
    a = made(2, [0.5, 0.52, 0.47])
    assert result_row(a)[7] == fmt_spread(*mean_sd(a.values), 3)


def test_no_spread_is_decided_on_a_floor_and_said():
    s = settings(seeds=[0, 1, 2])
    base = made(0, [0.5] * 6, baseline=True)
    state = LoopState(s, [base])
    assert rules.noise_floor(state) == 0.005 and rules.warnings(state)  # 1 % of 0.5, and a warning
    tiny = rules.decide(made(1, [0.49924] * 3), base, s, rules.noise(state, [0.49924] * 3))
    assert tiny.status == "discard" and tiny.p is None
    clear = rules.decide(made(1, [0.45] * 3), base, s, rules.noise(state, [0.45] * 3))
    assert clear.status == "keep" and "no seed spread measured" in clear.reason
    given = rules.decide(made(1, [0.49924] * 3), base, settings(min_delta=0.0005), rules.noise(state))
    assert given.status == "keep"  # --min-delta says what gain counts
