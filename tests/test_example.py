"""The example experiment end to end, as `make demo` runs it: quick, full sweep, report."""

import json
from pathlib import Path

import nbformat
import pytest

from jupyter_mlexp import Experiment
from jupyter_mlexp.frontdoors.cli import main

pytest.importorskip("sklearn", reason="the example needs the 'demo' extra (scikit-learn)")
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "digits.ipynb"
pytestmark = pytest.mark.slow


def test_digits_example_quick_full_report(workspace, capsys):
    assert main(["run", str(NOTEBOOK), "--quick"]) == 0
    assert main(["run", str(NOTEBOOK), "--full", "--seeds", "0,1,2", "--jobs", "2"]) == 0
    exp = Experiment("digits-sgd")
    runs = exp.runs()
    quick = [r for r in runs if r.mode == "quick"]
    full = [r for r in runs if r.mode == "full"]
    assert len(quick) == 1 and len(full) == 3
    assert all(r.path.parent.name == r.mode for r in runs)  # quick/ and full/ apart
    q = json.loads((quick[0].path / "run.json").read_text())
    assert q["overrides"] == {"epochs": 3, "train_fraction": 0.3}  # the %%run_quick scaling applied
    for r in full:
        m = json.loads((r.path / "run.json").read_text())
        assert m["status"] == "completed"
        assert not m.get("overrides")  # full runs ignore the quick overrides
        assert m["metrics_summary"]["val_acc"]["n"] == 15  # full epochs, one value per epoch
        assert "fit_seconds" in m["metrics_summary"]  # picked up from a printed `name: value` line
        assert (r.path / "output.ipynb").exists() and (r.path / "experiment_results" / "confusion.npy").exists()
    assert main(["report", "digits-sgd"]) == 0
    report = exp.path / "report.ipynb"
    nb = nbformat.read(report, as_version=4)
    nbformat.validate(nb)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "**Verdict:" in text and "metrics.jsonl:" in text
    assert (exp.path / "research_summary.json").exists()
