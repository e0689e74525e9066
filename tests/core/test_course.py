"""course.yaml: written by ``mlexp course init``, found up to the workspace root, enforced at registration."""

from __future__ import annotations

import json

import pytest

from jupyter_mlexp.core.errors import HypothesisError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record import course as course_file
from jupyter_mlexp.frontdoors.cli import main

GOOD = "Warm-up raises validation accuracy.\nsuccess: val_acc >= 0.9\nmetrics: val_acc\nseeds: 3\n"
OTHER_METRIC = "Warm-up lowers the loss.\nsuccess: loss <= 0.1\nmetrics: loss\n"


@pytest.fixture
def course(workspace, monkeypatch):
    monkeypatch.delenv("MLEXP_COURSE", raising=False)
    data = workspace / "digits.csv"
    data.write_text("1,2\n")
    monkeypatch.chdir(workspace)
    assert (
        main(
            [
                "course",
                "init",
                "--metric",
                "val_acc",
                "--seeds",
                "3",
                "--baseline",
                "lr=0.1",
                "--budget",
                "60",
                "--data",
                "digits.csv",
                "--name",
                "ml101",
            ]
        )
        == 0
    )
    return workspace / "course.yaml"


def test_course_init_writes_a_file_that_reads_back(course, capsys):
    c = course_file.load(course)
    assert (c.name, c.metric, c.seeds, c.baseline, c.budget) == ("ml101", "val_acc", 3, "lr=0.1", 60.0)
    assert len(c.data["digits.csv"]) == 64
    assert main(["course", "init", "--metric", "acc"]) == 2
    assert "exists; pass --force" in capsys.readouterr().err


def test_every_front_door_refuses_a_contradicting_hypothesis_with_the_course_value(course, tmp_path, capsys):
    with pytest.raises(
        HypothesisError, match="the metric is locked to val_acc .this hypothesis's primary metric is loss"
    ):
        Experiment("e1").register(OTHER_METRIC)
    assert not Experiment("e1").exists()
    body = tmp_path / "h.md"
    body.write_text(GOOD.replace("seeds: 3", "seeds: 2"))
    assert main(["hypothesis", "e2", "-f", str(body)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "course 'ml101'" in err and "seeds per configuration are locked to 3" in err
    Experiment("e3").register(GOOD)
    ev = Experiment("e3").events()[0]
    assert ev["course"] == {"file": "course.yaml", "sha256": course_file.load(course).sha256}


def test_the_course_is_found_next_to_the_notebook_or_up_to_the_workspace_root(course, workspace, monkeypatch):
    nb_dir = workspace / "week1" / "lab"
    nb_dir.mkdir(parents=True)
    monkeypatch.chdir(nb_dir)
    assert course_file.find(root=workspace).path == course
    local = nb_dir / "course.yaml"
    local.write_text("metric: loss\n")
    assert course_file.find(root=workspace).path == local  # the nearest one
    Experiment("lossy").register(OTHER_METRIC)
    local.unlink()
    monkeypatch.setenv("MLEXP_COURSE", str(course))
    assert course_file.find(root=workspace / "elsewhere").path == course


def test_no_course_above_the_workspace_root(tmp_path, monkeypatch):
    monkeypatch.delenv("MLEXP_COURSE", raising=False)
    root = tmp_path / "ws"
    root.mkdir()
    monkeypatch.setenv("MLEXP_ROOT", str(root))
    (tmp_path / "course.yaml").write_text("metric: nothing\n")
    monkeypatch.chdir(root)
    assert course_file.find(root=root) is None
    Experiment("free").register(OTHER_METRIC)


def test_a_broken_course_file_is_one_line(course, capsys):
    course.write_text("metric: [\n")
    assert (
        main(["hypothesis", "x", "--statement", "A helps.", "--success", "val_acc >= 0.9", "--metrics", "val_acc"]) == 2
    )
    assert "course.yaml is not valid YAML" in capsys.readouterr().err
    course.write_text(json.dumps({"metric": "val_acc", "colour": "red"}))
    with pytest.raises(course_file.CourseError, match="unknown field"):
        course_file.load(course)


def test_the_hypothesis_magic_refuses_it_too(course):
    from IPython.core.error import UsageError
    from IPython.testing.globalipapp import get_ipython, start_ipython

    from jupyter_mlexp import load_ipython_extension

    shell = start_ipython() or get_ipython()
    load_ipython_extension(shell)
    try:
        with pytest.raises(UsageError, match="course 'ml101'.*the metric is locked to val_acc"):
            shell.run_cell_magic("hypothesis", "m1", OTHER_METRIC)
        assert not Experiment("m1").exists()
        shell.run_cell_magic("hypothesis", "m2", GOOD)
        assert Experiment("m2").exists()
    finally:
        shell.run_line_magic("reset", "-f")
