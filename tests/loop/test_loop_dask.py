"""Parallel attempts on the Dask executor: each arm in its own worktree, its runs on a real LocalCluster."""

from __future__ import annotations

import json

import pytest
from conftest import git, mlexp, write_notebook

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


def _prepared(repo, capsys, tag: str) -> str:
    """A notebook loop with its baseline kept (on this machine) and a commit ``idea`` that lowers val_loss."""
    write_notebook(repo, 0.0)
    git(repo, "add", "train.ipynb")
    git(repo, "commit", "-q", "-m", "a notebook")
    start = ("loop", "start", tag, "--experiment", "tune", "--seeds", "0,1", "--confirm", "2")  # 2: a quick test
    assert mlexp(capsys, *start)[0] == 0
    assert json.loads(mlexp(capsys, "loop", "try", "-m", "baseline", "--json", "train.ipynb")[1])["status"] == "keep"
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "-c", "idea", f"autoresearch/{tag}")
    write_notebook(repo, 0.1)
    git(repo, "commit", "-q", "-am", "shift 0.1")
    git(repo, "switch", "-q", f"autoresearch/{tag}")
    return base


def test_a_batch_on_the_dask_executor_runs_every_arm_on_the_cluster(repo, capsys, cluster):
    from jupyter_mlexp import Experiment

    base = _prepared(repo, capsys, "dask")
    code, out, err = mlexp(
        capsys, "loop", "batch", "idea", "train.ipynb", "--scheduler", cluster.scheduler_address, "--json"
    )
    assert code == 0, err
    (done,) = json.loads(out)
    assert done["status"] == "keep" and done["values"][:2] == [0.4, 0.401], done["reason"]
    assert done["confirm_seeds"] == [4, 5]  # after the baseline's 0..3
    assert git(repo, "rev-parse", "HEAD") == done["commit"]
    runs = [r.manifest for r in Experiment("tune").runs() if "loop_batch" in (r.manifest.get("params") or {})]
    assert len(runs) == 2 * 2 + 2 * 2  # reference and candidate, two seeds each, then two fresh each
    assert {m["executor"] for m in runs} == {"dask"}
    assert {str(m["params"]["arm"]): m["git"]["commit"] for m in runs} == {"reference": base, "1": done["commit"]}
    assert "mlexp-worktrees" not in git(repo, "worktree", "list")


def test_a_batch_refuses_a_script_or_an_unreachable_scheduler_before_committing_anything(
    repo, capsys, cluster, monkeypatch
):
    _prepared(repo, capsys, "refuse")
    head = git(repo, "rev-parse", "HEAD")
    code, _, err = mlexp(capsys, "loop", "batch", "idea", "--scheduler", cluster.scheduler_address, "--", "python3")
    assert code == 2 and "--scheduler runs notebooks" in err
    monkeypatch.setenv("MLEXP_SCHEDULER_TIMEOUT", "1")
    code, _, err = mlexp(capsys, "loop", "batch", "idea", "train.ipynb", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    st = json.loads(mlexp(capsys, "loop", "status", "--json", "--no-figure")[1])
    assert st["attempts"] == 1 and git(repo, "rev-parse", "HEAD") == head  # the baseline only
    assert not git(repo, "for-each-ref", "refs/mlexp/attempts/0001")


def test_a_single_try_runs_its_seeds_at_once_on_the_dask_cluster(repo, capsys, cluster):
    from jupyter_mlexp import Experiment

    _prepared(repo, capsys, "try")
    write_notebook(repo, 0.1)
    code, out, err = mlexp(
        capsys, "loop", "try", "-m", "shift 0.1", "train.ipynb", "--scheduler", cluster.scheduler_address, "--json"
    )
    assert code == 0, err
    done = json.loads(out)
    assert done["status"] == "keep" and done["seeds"] == [0, 1, 4, 5], done["reason"]
    assert done["values"][:2] == [0.4, 0.401]
    runs = {r.run_id: r.manifest for r in Experiment("tune").runs()}
    # the seeds and the confirmation (the attempt and the reference re-run beside it) on the cluster
    assert [runs[i]["executor"] for i in done["run_ids"] + done["reference_run_ids"]] == ["dask"] * 6
    assert all(runs[i]["git"]["commit"] == done["commit"] for i in done["run_ids"])


def test_a_single_try_on_dask_refuses_a_script_before_committing_anything(repo, capsys, cluster):
    _prepared(repo, capsys, "tryref")
    head = git(repo, "rev-parse", "HEAD")
    code, _, err = mlexp(capsys, "loop", "try", "-m", "x", "--scheduler", cluster.scheduler_address, "--", "python3")
    assert code == 2 and "--scheduler runs notebooks (mlexp loop try" in err
    assert git(repo, "rev-parse", "HEAD") == head
