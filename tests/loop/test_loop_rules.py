"""The decision's rules (numbers in, keep/discard out) and revive, show, --confirm, one-seed attempts."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

from conftest import attempt, edit, git, mlexp, write_notebook

from jupyter_mlexp import Experiment
from jupyter_mlexp.core import loop as rules
from jupyter_mlexp.core.loop_state import Attempt, LoopState, Settings


def settings(**kw) -> Settings:
    return Settings(
        **{"tag": "t", "experiment": "e", "metric": "val_loss", "higher_is_better": False, "seeds": [0]} | kw
    )


def made(n, values, seeds=None, added=0, removed=0, status="keep", baseline=False) -> Attempt:
    return Attempt(
        n, f"a{n}", f"c{n}", "", status=status, values=values, seeds=seeds or list(range(len(values))),
        lines_added=added, lines_removed=removed, baseline=baseline,
    )  # fmt: skip


def test_one_seed_needs_the_noise_floor_of_the_repeated_baseline():
    base = made(0, [0.50, 0.52, 0.48], baseline=True)
    state = LoopState(settings(), [base])
    floor = rules.noise_floor(state)
    assert abs(floor - 0.04) < 1e-9  # 2 sd
    small = rules.decide(made(1, [0.47]), base, state.settings, floor)  # 0.03 better: inside the floor
    assert small.status == "discard"
    big = rules.decide(made(1, [0.45]), base, state.settings, floor)
    assert big.status == "keep" and big.p is None
    configured = rules.decide(made(1, [0.47]), base, settings(min_delta=0.01), floor)
    assert configured.status == "keep"


def test_simplicity_a_small_gain_with_many_lines_goes_an_equal_result_with_fewer_lines_stays():
    base = made(0, [0.50], baseline=True)
    s = settings(min_delta=0.001, simplicity_lines=20, simplicity_gain=0.01)
    hacky = rules.decide(made(1, [0.495], added=40), base, s, None)
    assert hacky.status == "discard" and "simplicity" in hacky.reason and hacky.promising
    clean = rules.decide(made(1, [0.495], added=3), base, s, None)
    assert clean.status == "keep"
    worth_it = rules.decide(made(1, [0.45], added=40), base, s, None)
    assert worth_it.status == "keep"
    shorter = rules.decide(made(1, [0.5], added=2, removed=12), base, s, None)
    assert shorter.status == "keep" and "simpler" in shorter.reason
    shorter_but_worse = rules.decide(made(1, [0.6], added=2, removed=12), base, s, None)
    assert shorter_but_worse.status == "discard"


def test_several_seeds_use_the_one_sided_test_paired_on_shared_seeds_else_welch():
    base = made(0, [0.50, 0.52, 0.48], baseline=True)
    s = settings(seeds=[0, 1, 2])
    paired = rules.compare([0, 1, 2], [0.49, 0.51, 0.47], base.seeds, base.values, s, None)
    assert (
        paired.test.startswith("paired") and paired.p is None and paired.better
    )  # the same 0.01 on every seed: no t test
    welch = rules.compare([3, 4, 5], [0.49, 0.51, 0.47], base.seeds, base.values, s, None)
    assert welch.test.startswith("Welch") and 0.2 < welch.p < 0.5 and not welch.better
    confirmed_best = rules.compare([0, 1, 2], [0.49, 0.51, 0.47], [0, 1, 2, 3, 4], [*base.values, 0.5, 0.6], s, None)
    assert confirmed_best.test.startswith("paired") and confirmed_best.better  # paired over the shared seeds
    higher = settings(higher_is_better=True)
    assert rules.compare([0, 1, 2], [0.6, 0.61, 0.62], [0, 1, 2], [0.5, 0.52, 0.49], higher, None).better


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
    assert win["status"] == "keep" and win["confirm_seeds"] == [3, 4]
    assert win["seeds"] == [0, 1, 2, 3, 4] and "confirmed on fresh seeds" in win["reason"]
    assert len(win["run_ids"]) == 5


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
    assert mlexp(capsys, "loop", "start", "nb", "--experiment", "tune", "--seeds", "0,1")[0] == 0
    code, out, err = mlexp(capsys, "loop", "try", "-m", "baseline", "--json", "train.ipynb")
    base = json.loads(out)
    assert base["status"] == "keep" and base["values"] == [0.5, 0.501], err
    write(0.1)
    # the real command, as an agent runs it: stdout is the JSON, and stderr has no warning about the
    # loop's own attempt=N (a parameter the user's notebook is not meant to declare)
    cli = Path(sys.executable).with_name("mlexp")
    proc = subprocess.run([cli, "loop", "try", "-m", "shift", "--json", "train.ipynb"], capture_output=True, text=True)
    assert proc.returncode == 0 and "not declared" not in proc.stderr, proc.stderr
    better = json.loads(proc.stdout)
    assert better["status"] == "keep" and better["values"] == [0.4, 0.401]
    assert better["p"] is None  # the same 0.1 on both seeds: no spread, no t test
    # every attempt's runs carry attempt=N, notebooks' as scripts'
    runs = {r.run_id: r for r in Experiment("tune").runs()}
    for a in (base, better):
        assert [runs[i].manifest["params"].get("attempt") for i in a["run_ids"]] == [a["n"]] * 2


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
    assert len(runs) == 4 * 3
    commits = {str(r.manifest["params"]["arm"]): r.manifest["git"]["commit"] for r in runs}
    assert commits == {"reference": base, **{str(a["n"]): a["commit"] for a in done.values()}}
    assert "mlexp-worktrees" not in git(root, "worktree", "list")


def test_a_batch_of_notebook_attempts(repo, capsys):
    write_notebook(repo, 0.0)
    git(repo, "add", "train.ipynb")
    git(repo, "commit", "-q", "-m", "a notebook")
    assert mlexp(capsys, "loop", "start", "nbb", "--experiment", "tune", "--seeds", "0,1")[0] == 0
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
    from jupyter_mlexp.core.inference import mean_sd
    from jupyter_mlexp.core.loop_state import result_row
    from jupyter_mlexp.core.verdict_arms import fmt_spread

    same = made(1, [0.1, 0.1, 0.1])
    assert (same.mean, same.sd) == mean_sd([0.1, 0.1, 0.1]) and same.sd == 0.0  # no rounding spread
    a = made(2, [0.5, 0.52, 0.47])
    assert result_row(a)[7] == fmt_spread(*mean_sd(a.values), 3)


def test_the_loop_pairs_as_the_verdict_does_and_zero_spread_has_no_p():
    s = settings(seeds=[0, 1, 2])
    best = made(0, [0.5, 0.6, 0.7, 0.55], seeds=[0, 1, 2, 3])
    # a shift every seed agrees on exactly: decided by its sign, no t test (the verdict's zero variance)
    c = rules.compare([0, 1, 2], [0.4, 0.5, 0.6], best.seeds, best.values, s, None)
    assert c.test.startswith("paired") and c.p is None and c.better
    c = rules.compare([0, 1, 2], [0.6, 0.7, 0.8], best.seeds, best.values, s, None)
    assert c.p is None and not c.better and not c.not_worse
