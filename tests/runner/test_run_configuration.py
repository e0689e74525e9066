"""The configuration a notebook run records is the one its code used (real kernels, kept few)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runner_helpers import manifests

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.stats.observations import config_key, run_params
from jupyter_mlexp.frontdoors.cli import main
from jupyter_mlexp.runner.run_api import plan

pytestmark = pytest.mark.slow

LOG = "import jupyter_mlexp as mlexp\nmlexp.log_metric('acc', C)"


@pytest.mark.parametrize("how", [{"params": {"C": 0.5}}, {"grid": ["C=0.1,0.5"]}])
def test_a_notebook_without_a_parameters_cell_is_refused_for_values(nb, how):
    """Before: papermill injected C at the top, the notebook's own C = 1.0 overwrote it and every
    run was recorded under a value it never used."""
    path = nb("untagged.ipynb", "C = 1.0", LOG, params=None)
    with pytest.raises(MlexpError, match="no cell tagged 'parameters'.*tag the cell that sets the parameters"):
        plan(path, experiment="exp", **how)
    plan(path, experiment="exp")  # without values it runs as it is


def test_an_overwritten_parameter_is_flagged_and_counts_under_the_value_used(nb, ws, capsys):
    path = nb("over.ipynb", "C = 1.0  # overwrites the grid value", LOG, params="C = 0.1\nepochs = 2")
    assert main(["run", str(path), "--experiment", "exp", "--grid", "C=0.1,0.5"]) == 0
    runs = sorted(manifests(ws), key=lambda m: m["params_injected"]["C"])
    assert [m["params"] for m in runs] == [{"C": 1.0, "epochs": 2}] * 2
    assert [m["params_overwritten"] for m in runs] == [
        {"C": {"injected": 0.1, "used": 1.0}},
        {"C": {"injected": 0.5, "used": 1.0}},
    ]
    assert {config_key(run_params(m)) for m in runs} == {"C=1.0, epochs=2"}
    err = capsys.readouterr().err.splitlines()
    flagged = [line for line in err if "overwrote C" in line]
    assert len(flagged) == 2 and any("injected 0.5, used 1.0" in line for line in flagged)


def test_a_run_without_values_records_the_parameters_cell(nb, ws):
    path = nb("plain.ipynb", LOG, params="C = 1.0\nepochs = 2\nname = 'svm'")
    assert main(["run", str(path), "--experiment", "exp", "--full", "--seeds", "0,1"]) == 0
    assert [m["params"] for m in manifests(ws)] == [{"C": 1.0, "epochs": 2, "name": "svm"}] * 2


def test_a_notebook_papermill_runs_records_its_values(ws, tmp_path):
    """`papermill nb.ipynb out.ipynb -p lr 0.2`: its %%run_quick run records lr = 0.2 (before: no parameters)."""
    from runner_helpers import make_notebook

    path = make_notebook(
        ws / "pm.ipynb",
        "%load_ext jupyter_mlexp",
        "%mlexp use exp",
        "%%run_quick\nprint(f'acc: {lr}')",
        params="lr = 0.1\nepochs = 2",
    )
    import papermill

    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(path), str(out), parameters={"lr": 0.2}, kernel_name="python3", progress_bar=False)
    (m,) = manifests(ws)
    assert m["params"] == {"lr": 0.2, "epochs": 2}
    assert json.loads(Path(out).read_text())["metadata"]["papermill"]["parameters"] == {"lr": 0.2}
