"""The magics in a real ipykernel, executed headless by nbclient (as papermill does)."""

import json

import nbformat
import pytest
from nbclient import NotebookClient

from jupyter_mlexp import Experiment

pytestmark = pytest.mark.slow


def test_quick_run_in_a_real_kernel_budget_and_recovery(workspace):
    # The kernel inherits MLEXP_ROOT from this process (set by the workspace fixture).
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(src)
        for src in (
            "%load_ext jupyter_mlexp",
            "%%hypothesis kern\nSleeping longer than the budget is interrupted.\nsuccess: done >= 1\nmetrics: done\n",
            "%%run_quick --budget 1\nimport time\nmlexp.log_metric('done', 0)\ntime.sleep(20)",
            "%%run_quick\nprint('done: 1')",
            "%%journal WEIRD\nthe first run timed out, as planned",
            "print('kernel alive', 6 * 7)",
        )
    ]
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=False, resources={"metadata": {"path": str(workspace)}}
    )
    client.execute()
    outputs = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]
    assert "timeout" in outputs[2] and "kernel is still usable" in outputs[2]
    assert "completed" in outputs[3] and "met" in outputs[3]
    assert "kernel alive 42" in outputs[5]
    timeout_run, ok_run = Experiment("kern").runs()
    assert timeout_run.status == "timeout" and ok_run.status == "completed"
    m = json.loads((timeout_run.path / "run.json").read_text())
    assert m["metrics_summary"]["done"]["last"] == 0 and m["duration_s"] < 10
    assert [e.tags for e in Experiment("kern").journal().entries][-1] == ["WEIRD"]
