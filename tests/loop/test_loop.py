"""The keep/discard loop end to end: a real git repository, a real script run per seed."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import attempt, edit, git, mlexp
from PIL import Image

from jupyter_mlexp import Experiment
from jupyter_mlexp.loop.loop_state import RESULTS_COLUMNS, LoopFiles


def files() -> LoopFiles:
    return LoopFiles(Experiment("tune").path, "t1")


def test_noise_is_discarded_a_clear_win_kept_and_nothing_lost(started, capsys):
    root = started
    assert git(root, "branch", "--show-current") == "autoresearch/t1"
    base = attempt(capsys, "baseline")
    # the baseline runs twice the loop's seeds: the loop's noise is measured from the start
    assert base["status"] == "keep" and base["baseline"] and base["seeds"] == [0, 1, 2, 3, 4, 5], base
    base_commit = git(root, "rev-parse", "HEAD")

    edit(root, SHIFT=0.001)  # a tenth of the seed noise (sd 0.01): its seeds differ by Δ 0.009, p 0.27
    noisy = attempt(capsys, "shift by a hair")
    assert noisy["status"] == "discard", noisy["reason"]
    assert noisy["p"] is not None and noisy["p"] > 0.05
    assert git(root, "rev-parse", "HEAD") == base_commit  # the branch is back on the best kept commit
    assert "SHIFT = 0.0\n" in (root / "train.py").read_text()  # and so is the file
    # ... and the discarded diff is not lost: its ref and its patch
    assert git(root, "rev-parse", "refs/mlexp/attempts/0001") == noisy["commit"]
    patch = files().patch(1).read_text()
    assert "+SHIFT = 0.001" in patch and "-SHIFT = 0.0" in patch

    edit(root, SHIFT=0.05)  # five sd better
    win = attempt(capsys, "shift by a lot")
    assert win["status"] == "keep", win["reason"]
    assert win["p"] < 0.05 and win["delta"] > 0.03
    # kept only after the default confirmation: 6 fresh seeds, the best kept commit re-run beside it
    assert win["confirm_seeds"] == [6, 7, 8, 9, 10, 11] and "confirmed on fresh seeds" in win["reason"]
    assert win["reference_seeds"] == win["confirm_seeds"] and len(win["reference_values"]) == 6
    runs = {r.run_id: r for r in Experiment("tune").runs()}
    assert {runs[i].manifest["git"]["commit"] for i in win["reference_run_ids"]} == {base_commit}
    assert "mlexp-worktrees" not in git(root, "worktree", "list")
    assert git(root, "rev-parse", "HEAD") == win["commit"]
    assert git(root, "log", "-1", "--format=%s") == "attempt 2: shift by a lot"

    rows, warnings = files().read_results()
    assert not warnings
    assert [r["status"] for r in rows] == ["keep", "discard", "keep"]
    header = files().results_tsv.read_text().splitlines()[0].split("\t")
    assert header[:5] == ["commit", "metric", "memory_gb", "status", "description"]
    assert tuple(header) == RESULTS_COLUMNS
    events = [e for e in Experiment("tune").events() if e["event"] == "loop_attempt"]
    assert [e["status"] for e in events] == ["keep", "discard", "keep"]
    assert events[1]["p"] == noisy["p"]
    # results.tsv and the record stay untracked
    assert git(root, "ls-files", "experiments") == ""


def test_try_prints_a_few_lines_never_the_training_log(started, capsys):
    code, out, _ = mlexp(capsys, "loop", "try", "-m", "baseline", "--", sys.executable, "train.py")
    assert code == 0 and len(out.splitlines()) == 2 and "step 0 loss" not in out
    assert out.startswith("attempt 0 keep · val_loss ")
    run_dir = next(r.path for r in Experiment("tune").runs())
    assert "step 0 loss" in (run_dir / "stdout.txt").read_text()  # the log is in the run's files


def test_status_json_counts_best_noise_floor_and_figure(started, capsys):
    attempt(capsys, "baseline")
    edit(started, SHIFT=0.05)
    win = attempt(capsys, "better")
    code, out, _ = mlexp(capsys, "loop", "status", "--json")
    assert code == 0
    st = json.loads(out)
    assert st["counts"] == {"keep": 2, "discard": 0, "crash": 0}
    assert st["best"]["attempt"] == 1 and st["best"]["commit"] == win["commit"]
    assert st["noise_floor"] > 0
    with Image.open(st["figure"]) as img:
        assert img.format == "WEBP"
    code, out, _ = mlexp(capsys, "loop", "status")
    assert "keep 2 · discard 0 · crash 0" in out and len(out.splitlines()) <= 8


def test_a_script_without_the_metric_is_a_crash_with_its_log_tail(started, capsys):
    attempt(capsys, "baseline")
    (started / "train.py").write_text("print('training...')\nprint('oops, forgot the metric')\n")
    crashed = attempt(capsys, "no metric")
    assert crashed["status"] == "crash"
    assert "no val_loss printed or logged" in crashed["reason"]
    assert "oops, forgot the metric" in crashed["log_tail"]
    assert len(crashed["values"]) == 0 and len(crashed["run_ids"]) == 1  # stopped at the first seed
    assert "SHIFT = 0.0" in (started / "train.py").read_text()  # restored


def test_a_timeout_and_a_nan_are_crashes(started, capsys):
    attempt(capsys, "baseline")
    edit(started, SLEEP=30.0)
    slow = attempt(capsys, "too slow", "--budget", "1")
    assert slow["status"] == "crash" and "timeout" in slow["reason"]
    assert slow["duration_s"] < 15
    assert "step 2 loss" in slow["log_tail"]
    (started / "train.py").write_text("print('val_loss: nan')\n")
    nan = attempt(capsys, "nan")
    assert nan["status"] == "crash" and "val_loss is NaN or infinite" in nan["reason"]


def test_bad_input_is_refused_before_anything_is_committed(started, capsys):
    code, _, err = mlexp(capsys, "loop", "try", "-m", "x", "--", sys.executable, "train.py")
    assert code == 0  # the baseline
    head = git(started, "rev-parse", "HEAD")
    for args, message in (
        (["--", sys.executable, "train.py"], "nothing to try"),
        (["--budget", "0", "--", sys.executable, "train.py"], "--budget must be a positive"),
        (["--budget", "-3", "--", sys.executable, "train.py"], "--budget must be a positive"),
    ):
        code, _, err = mlexp(capsys, "loop", "try", "-m", "x", *args)
        assert code == 2 and message in err, err
    edit(started, SHIFT=0.1)
    code, _, err = mlexp(capsys, "loop", "try", "-m", "x", "--", "no-such-command-xyz")
    assert code == 2 and "command not found" in err
    assert git(started, "rev-parse", "HEAD") == head
    st = json.loads(mlexp(capsys, "loop", "status", "--json", "--no-figure")[1])
    assert st["attempts"] == 1 and st["pending"] is None


def test_the_loop_as_plain_data_for_a_view(started, capsys):
    from jupyter_mlexp.loop.loop_view import attempt_patch, loops

    attempt(capsys, "baseline")
    edit(started, SHIFT=0.001)
    attempt(capsys, "noise")
    edit(started, SHIFT=0.05)
    attempt(capsys, "better")
    (view,) = loops(Experiment("tune"))
    rows = view["attempts_list"]
    assert [r["status"] for r in rows] == ["keep", "discard", "keep"]
    assert rows[1]["running_best"] == rows[0]["metric"] and rows[2]["running_best"] == rows[2]["metric"]
    assert [r["has_patch"] for r in rows] == [False, True, True]
    assert "+SHIFT = 0.001" in attempt_patch(Experiment("tune"), "t1", 1)


def test_a_script_that_ignores_its_seed_is_warned_about_and_its_tiny_gain_not_kept(repo, capsys):
    edit(repo, NOISE=0.0)  # every seed prints 0.5: the script ignores MLEXP_SEED, in effect
    git(repo, "commit", "-q", "-am", "no noise")
    assert mlexp(capsys, "loop", "start", "t1", "--experiment", "tune", "--seeds", "0,1,2")[0] == 0
    base = attempt(capsys, "baseline")
    assert base["values"] == [0.5] * 6
    edit(repo, SHIFT=0.00076)
    tiny = attempt(capsys, "a tiny gain")
    assert tiny["status"] == "discard" and tiny["p"] is None, tiny["reason"]
    st = json.loads(mlexp(capsys, "loop", "status", "--json", "--no-figure")[1])
    assert st["noise_floor"] == 0.005  # 1 % of the best's mean, not 0
    assert any("every seed gave the same value" in w and "MLEXP_SEED" in w for w in st["warnings"]), st["warnings"]
    assert any("no seed spread measured" in w for w in st["warnings"])
    code, out, _ = mlexp(capsys, "loop", "status", "--no-figure")
    assert "warning: attempt 0, 1: every seed gave the same value" in out


def test_start_states_the_keep_rule_and_refuses_a_level_below_0_8(repo, capsys):
    code, _, err = mlexp(capsys, "loop", "start", "low", "--experiment", "tune", "--level", "0.5")
    assert code == 2 and "--level must be at least 0.8" in err
    code, out, err = mlexp(capsys, "loop", "start", "t1", "--experiment", "tune", "--seeds", "0,1,2")
    assert code == 0, err
    assert "screen at 0.1, then 6 fresh seeds beside the best re-run at 0.025" in out
    assert "≤ 0.0025 (0.075 per 30 attempts)" in out
    st = json.loads(mlexp(capsys, "loop", "status", "--json", "--no-figure")[1])
    assert st["rule"] == pytest.approx(
        {
            "level": 0.95,
            "screen_alpha": 0.1,
            "confirm_alpha": 0.025,
            "confirm_seeds": 6,
            "false_keep_per_attempt": 0.0025,
        }
    )
