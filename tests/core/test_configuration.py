"""The configuration a %%run_quick run records is what its code used: the notebook's parameters
(from its file, or from papermill's injected cell in the kernel's history) and the overrides; an
override no code uses is a typo, refused; the magics' arguments are parsed one way."""

from __future__ import annotations

import json

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.stats.observations import config_key

HYP = "C = 1.0 is enough.\nsuccess: acc >= 0.5\nmetrics: acc\ntreatment: C=1.0\n"


@pytest.fixture(scope="session")
def _shell():
    from IPython.testing.globalipapp import get_ipython

    return start_ipython() or get_ipython()


@pytest.fixture
def ip(_shell, workspace, monkeypatch):
    from jupyter_mlexp import load_ipython_extension

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    load_ipython_extension(_shell)
    _shell.run_cell_magic("hypothesis", "cfg", HYP)
    yield _shell
    _shell.run_line_magic("reset", "-f")
    _shell.history_manager.reset()  # the next test's history starts empty


def _params():
    return [json.loads((i.path / "run.json").read_text())["params"] for i in Experiment("cfg").runs()]


def test_a_typo_override_is_an_error_naming_the_closest_name(ip):
    ip.run_cell("C = 1.0")
    with pytest.raises(UsageError, match="override Cc .* did you mean C"):
        ip.run_cell_magic("run_quick", "Cc=0.5", "acc = 0.6 if C < 1 else 0.4\nprint(f'acc: {acc}')\n")
    assert Experiment("cfg").runs() == []
    ip.run_cell_magic("run_quick", "C=0.5", "acc = 0.6 if C < 1 else 0.4\nprint(f'acc: {acc}')\n")
    assert _params() == [{"C": 0.5}]


def test_an_override_of_a_parameter_the_cell_does_not_mention_is_allowed(ip, tmp_path, monkeypatch):
    path = _notebook(tmp_path, "C = 1.0\nepochs = 3")
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    ip.run_cell("C = 1.0\nepochs = 3")
    ip.run_cell("def train():\n    return 0.6 if C < 1 else 0.4")
    ip.run_cell_magic("run_quick", "C=0.5", "print(f'acc: {train()}')\n")
    assert _params() == [{"C": 0.5, "epochs": 3}]


def test_without_a_notebook_a_variable_already_set_may_be_overridden(ip):
    """A plain shell has no parameters cell: the function the cell calls reads the global C."""
    ip.run_cell("C = 1.0\ndef train():\n    return 0.6 if C < 1 else 0.4")
    ip.run_cell_magic("run_quick", "C=0.5", "print(f'acc: {train()}')\n")
    assert _params() == [{"C": 0.5}]
    with pytest.raises(UsageError, match="did you mean C"):
        ip.run_cell_magic("run_quick", "Cc=0.5", "print(f'acc: {train()}')\n")


def _notebook(tmp_path, params: str):
    cell = new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_code_cell("%load_ext jupyter_mlexp"), cell, new_code_cell("%%run_quick\n...")])
    path = tmp_path / "cfg.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_an_interactive_run_records_the_parameters_cell_values(ip, tmp_path, monkeypatch):
    """Three runs at the default C = 1.0 are runs of the treatment 'C=1.0', not '(no parameters)'."""
    path = _notebook(tmp_path, "C = 1.0\nepochs = 3")
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    ip.run_cell("C = 1.0\nepochs = 3")
    for seed in range(3):
        ip.run_cell_magic("run_quick", f"--seed {seed}", "print(f'acc: {0.6 if C >= 1 else 0.4}')\n")
    assert _params() == [{"C": 1.0, "epochs": 3}] * 3
    from jupyter_mlexp.core.stats.verdict import judge_experiment

    verdict = judge_experiment(Experiment("cfg"))
    assert "never run" not in verdict.text() and "was never" not in verdict.text()


def test_papermill_batches_at_different_values_are_different_configurations(ip):
    """As papermill runs a notebook: the parameters cell, then its injected cell ('# Parameters'),
    each in the kernel's history; two batches at lr 0.1 and 0.2 are two configurations."""
    for lr in (0.1, 0.2):
        ip.run_cell("lr = 0.05\nepochs = 2", store_history=True)
        ip.run_cell(f"# Parameters\nlr = {lr}\n", store_history=True)
        ip.run_cell("%%run_quick\nprint(f'acc: {lr * 4}')\n", store_history=True)
    params = _params()
    assert sorted(p["lr"] for p in params) == [0.1, 0.2]
    assert len({config_key(p) for p in params}) == 2
    assert all(p["epochs"] == 2 for p in params)


def test_journal_with_a_bad_count_is_a_usage_error(ip):
    with pytest.raises(UsageError, match="invalid int value: 'abc'"):
        ip.run_line_magic("journal", "-n abc")
    with pytest.raises(UsageError, match=r"usage: %mlexp ignore"):
        ip.run_line_magic("mlexp", "ignore RUN")
    with pytest.raises(UsageError, match="No closing quotation"):
        ip.run_line_magic("mlexp", "ignore RUN --reason 'open")


def test_run_quick_values_with_spaces_and_lists(ip):
    ip.run_cell_magic("run_quick", "name='a b' sizes=[64, 64]", "print(name, sizes)\nprint('acc: 0.7')\n")
    assert _params() == [{"name": "a b", "sizes": [64, 64]}]


def test_only_papermills_own_injected_cell_marks_the_parameters_in_the_history():
    from jupyter_mlexp.core.record.parameters import names_from_history

    # the example notebook's parameters cell starts '# Parameters: ...': not papermill's injected cell
    assert names_from_history(["", "import os\nroot = 1", "# Parameters: papermill replaces these\nalpha = 1"]) == []
    assert names_from_history(["", "C = 0.1\nepochs = 2", "# Parameters\nC = 0.5\n", "x = C"]) == ["C", "epochs"]
