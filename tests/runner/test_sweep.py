"""Sweep expansion and the bad inputs caught before any kernel starts."""

from __future__ import annotations

import pytest
from runner_helpers import manifests

from jupyter_mlexp.frontdoors.cli import main
from jupyter_mlexp.runner.sweep import SweepError, expand, parse_grid, parse_seeds, read_params_file


def test_seeds_times_grid_is_the_cross_product():
    grid = parse_grid(["lr=0.1,0.01", "layers=[64],[64,64]"])
    assert grid == {"lr": [0.1, 0.01], "layers": [[64], [64, 64]]}
    specs = expand(
        "full", {"epochs": 3}, grid, parse_seeds("0,1,2"), {"lr": "float", "layers": "list", "epochs": "int"}
    )
    assert len(specs) == 2 * 2 * 3
    points = {(s.params["lr"], tuple(s.params["layers"]), s.seed) for s in specs}
    assert len(points) == 12
    assert all(s.params["epochs"] == 3 and s.mode == "full" for s in specs)
    assert [s.index for s in specs] == list(range(12))
    assert all("seed" not in s.params for s in specs)  # the notebook does not declare it


def test_seed_is_a_parameter_when_the_notebook_declares_it():
    specs = expand("quick", {}, {}, [3, 4], {"seed": "int"})
    assert [s.params["seed"] for s in specs] == [3, 4]


def test_undeclared_parameters_are_listed():
    (spec,) = expand("quick", {"lr": 0.1, "bogus": 1}, {}, None, {"lr": "float"})
    assert spec.undeclared == ["bogus"]


@pytest.mark.parametrize(
    "item, message",
    [
        ("lr", "not NAME=V1,V2"),
        ("lr=0.1,,0.2", "empty value"),
        ("lr=[0.1,0.2", "unclosed bracket"),
        ("lr=[0.1)", "does not parse"),
        ("1lr=0.1", "not NAME=VALUE with NAME a Python variable name"),
    ],
)
def test_grid_value_that_does_not_parse(item, message):
    with pytest.raises(SweepError, match=message.replace("[", r"\[")):
        parse_grid([item])


def test_grid_value_of_the_wrong_type_for_the_declared_parameter():
    with pytest.raises(SweepError, match="'fast' is not a float"):
        expand("quick", {}, parse_grid(["lr=0.1,fast"]), None, {"lr": "float"})


@pytest.mark.parametrize("text", ["0,x", "", "1,1"])
def test_bad_seeds(text):
    with pytest.raises(SweepError):
        parse_seeds(text)


def test_seed_ranges():
    assert parse_seeds("0-3") == [0, 1, 2, 3]


def test_params_file(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("lr: 0.5\nname: run-a\n")
    assert read_params_file(f) == {"lr": 0.5, "name": "run-a"}
    f.write_text("- 1\n- 2\n")
    with pytest.raises(SweepError, match="mapping"):
        read_params_file(f)


def test_cli_bad_inputs_are_one_line_errors(nb, ws, capsys):
    path = nb("n.ipynb", "x = lr")
    assert main(["run", str(ws / "missing.ipynb"), "--experiment", "exp"]) == 2
    assert "missing.ipynb not found" in capsys.readouterr().err
    assert main(["run", str(path), "--experiment", "exp", "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert main(["run", str(path), "--experiment", "exp", "--grid", "lr=0.1,[1,"]) == 2
    err = capsys.readouterr().err
    assert "--grid lr" in err and "Traceback" not in err
    assert main(["run", str(path), "--experiment", "exp", "--grid", "lr=0.1,fast"]) == 2
    assert "not a float" in capsys.readouterr().err
    assert main(["run", str(path), "--experiment", "exp", "--seeds", "a"]) == 2
    assert main(["run", str(path), "--experiment", "exp", "--stage", "nonsense"]) == 2
    assert manifests(ws) == []  # nothing ran, nothing half-created


def test_gate_refuses_without_a_hypothesis(nb, ws, capsys):
    path = nb("n.ipynb", "x = lr")
    assert main(["run", str(path), "--experiment", "unregistered"]) == 2
    err = capsys.readouterr().err
    assert "no registered hypothesis" in err and "mlexp hypothesis unregistered" in err
    assert not (ws / "experiments" / "unregistered" / "quick").exists()
    assert main(["run", str(path)]) == 2  # no --experiment and no %%hypothesis cell
    assert "names no experiment" in capsys.readouterr().err


def test_fresh_seeds_and_the_rerun_note_are_planned_before_any_kernel(nb, ws):
    """`--seeds fresh:N` picks seeds no point of the sweep ever ran; seeds that already ran are named in a
    warning of the sweep (each seed counts once in the verdict)."""
    from jupyter_mlexp import Experiment
    from jupyter_mlexp.core.execution import lifecycle
    from jupyter_mlexp.runner.run_api import plan

    exp = Experiment("exp")
    for seed in (0, 2):
        run = lifecycle.start(exp, "full", source="test", seed=seed, params={"lr": 0.1}, git={})
        lifecycle.finish(exp, run, "completed")
    path = nb("n.ipynb", "x = lr")
    _, _, specs, warnings = plan(path, mode="full", experiment="exp", params=[("lr", "0.1")], seeds="fresh:3")
    assert [s.seed for s in specs] == [1, 3, 4] and warnings == []
    _, _, specs, warnings = plan(path, mode="full", experiment="exp", params=[("lr", "0.1")], seeds="0,1")
    assert [s.seed for s in specs] == [0, 1]
    assert any("seed 0 already ran for this configuration" in w and "fresh:2" in w for w in warnings)
    _, _, _, warnings = plan(path, mode="full", experiment="exp", params=[("lr", "0.2")], seeds="0,1")
    assert warnings == []  # another configuration: its seeds are its own
