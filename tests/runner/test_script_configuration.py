"""A script's configuration: its arguments are part of it, and --grid fills {placeholders}."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.stats.observations import config_key, run_params
from jupyter_mlexp.frontdoors.cli import main

TRAIN = textwrap.dedent("""
    import json, os, sys
    import jupyter_mlexp as mlexp
    args = sys.argv[1:]
    alpha = float(args[args.index("--alpha") + 1]) if "--alpha" in args else float(args[0])
    mlexp.log_metric("acc", alpha)
    print("env", json.loads(os.environ["MLEXP_PARAMS"]))
""")


@pytest.fixture
def train(workspace, tmp_path, monkeypatch):
    Experiment("cmd").register("alpha matters.\nsuccess: acc >= 0.5\nmetrics: acc\n")
    (tmp_path / "train.py").write_text(TRAIN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _manifests():
    return [json.loads((r.path / "run.json").read_text()) for r in Experiment("cmd").runs()]


def test_two_argument_lists_are_two_configurations(train):
    """Before: both were pooled as '(no parameters)'."""
    for alpha in ("0.1", "0.9"):
        assert main(["run", "--experiment", "cmd", "--", sys.executable, "train.py", alpha, "0.5"]) == 0
    keys = sorted(config_key(run_params(m)) for m in _manifests())
    assert keys == ["args=train.py 0.1 0.5", "args=train.py 0.9 0.5"]


def test_grid_fills_the_placeholders_of_the_command(train, capsys):
    argv = ["run", "--experiment", "cmd", "--grid", "alpha=0.1,0.9", "--", sys.executable, "train.py"]
    assert main([*argv, "--alpha", "{alpha}", "--note", "{{x}}"]) == 0
    runs = sorted(_manifests(), key=lambda m: m["params"]["alpha"])
    assert [m["metrics_summary"]["acc"]["last"] for m in runs] == [0.1, 0.9]
    assert [m["params"] for m in runs] == [
        {"alpha": a, "args": "train.py --alpha '{alpha}' --note '{{x}}'"} for a in (0.1, 0.9)
    ]
    assert "--note '{x}'" in runs[0]["command"] and "--alpha 0.1" in runs[0]["command"]
    assert "alpha=0.1 seed=0" in capsys.readouterr().out


def test_a_command_without_placeholders_gets_the_values_in_its_environment(train):
    assert main(["run", "--experiment", "cmd", "--grid", "alpha=0.3", "--", sys.executable, "train.py", "0.7"]) == 0
    (m,) = _manifests()
    assert m["params"] == {"alpha": 0.3, "args": "train.py 0.7"}
    assert "env {'alpha': 0.3}" in (Experiment("cmd").runs()[0].path / "stdout.txt").read_text()


def test_a_placeholder_no_value_fills_is_an_error():
    from jupyter_mlexp.runner.script import fill_placeholders

    with pytest.raises(MlexpError, match=r"names \{beta\}, which no -p or --grid gives"):
        fill_placeholders(["--b", "{beta}"], {"alpha": 1})
    assert fill_placeholders(["{{", "{a:.2f}"], {"a": 0.5}) == ["{", "0.50"]
