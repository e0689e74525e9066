"""`mlexp run --cluster FILE.yaml`: any Dask cluster class by import path, with its kwargs, started for the
sweep and closed after it; tried with distributed.LocalCluster through that same path."""

from __future__ import annotations

import json

import nbformat
import pytest

from jupyter_mlexp import Experiment
from jupyter_mlexp.frontdoors.cli import main

pytestmark = pytest.mark.slow
pytest.importorskip("distributed")

TRAIN = "import jupyter_mlexp as mlexp\nmlexp.log_metric('acc', 0.9 + 0.01 * seed)"


@pytest.fixture
def notebook(workspace, tmp_path):
    Experiment("exp").register("A claim on acc.\nsuccess: acc >= 0.5\nmetrics: acc\n")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("seed = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(TRAIN)]
    path = tmp_path / "train.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_local_cluster_from_yaml_runs_the_sweep_and_is_closed(notebook, tmp_path, capsys, monkeypatch):
    import distributed

    made = []
    real = distributed.LocalCluster

    class Recorded(real):  # the very class, recorded so the test can see it was made with the kwargs and closed
        def __init__(self, **kw):
            made.append((self, kw))
            super().__init__(**kw)

    monkeypatch.setattr(distributed, "LocalCluster", Recorded)
    spec = tmp_path / "cluster.yaml"
    spec.write_text(
        "class: distributed.LocalCluster\n"
        "kwargs: {n_workers: 1, threads_per_worker: 2, processes: false, dashboard_address: ':0'}\n"
    )
    code = main(["run", str(notebook), "--experiment", "exp", "--full", "--seeds", "0,1", "--cluster", str(spec)])
    assert code == 0, capsys.readouterr().err
    ((cluster, kwargs),) = made
    assert kwargs == {"n_workers": 1, "threads_per_worker": 2, "processes": False, "dashboard_address": ":0"}
    assert cluster.status.name == "closed"
    runs = Experiment("exp").runs()
    assert sorted(r.status for r in runs) == ["completed", "completed"]
    assert sorted(json.loads((r.path / "run.json").read_text())["seed"] for r in runs) == [0, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kwargs: {}\n", "no 'class: MODULE.CLASS' line"),
        ("class: LocalCluster\n", "needs its module"),
        ("class: nosuchpkg.Cluster\n", "cannot import 'nosuchpkg'"),
        ("class: distributed.NoSuchCluster\n", "has no 'NoSuchCluster'"),
        ("class: distributed.LocalCluster\nworkers: 2\n", "unknown key(s) workers"),
        ("class: distributed.LocalCluster\nkwargs: {no_such_kwarg: 1}\n", "no_such_kwarg"),
    ],
)
def test_a_wrong_cluster_file_is_one_line_saying_what_to_write(notebook, tmp_path, capsys, text, message):
    spec = tmp_path / "cluster.yaml"
    spec.write_text(text)
    assert main(["run", str(notebook), "--experiment", "exp", "--cluster", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlexp: error: --cluster") and message in err and "Traceback" not in err
    assert Experiment("exp").runs() == []


def test_cluster_and_scheduler_or_jobs_are_refused_together(notebook, tmp_path, capsys):
    spec = tmp_path / "cluster.yaml"
    spec.write_text("class: distributed.LocalCluster\n")
    assert main(["run", str(notebook), "--cluster", str(spec), "--scheduler", "tcp://x:1"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["run", str(notebook), "--cluster", str(spec), "--jobs", "2"]) == 2
    assert "on a cluster its workers set the parallelism" in capsys.readouterr().err
