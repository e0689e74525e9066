"""A notebook executed by the batch runner: %%run_quick cells log into the runner's run."""

import json

from jupyter_mlexp.core.execution import tracking
from jupyter_mlexp.core.execution.quickrun import execute_run


def test_cells_add_to_the_runner_run_and_never_revert_its_status(experiment):
    run = experiment.start_run("full", params={"epochs": 10}, seed=2)
    tracking.attach_batch_run(run.path, "full", experiment="digits")
    ns = {"epochs": 10}

    def cell(value):
        def execute():
            tracking.log_metric("loss", value)
            print(f"val_acc: {value}")
            ns["seen"] = ns["epochs"]

        return execute

    a = execute_run(experiment, cell(0.5), overrides={"epochs": 1}, namespace=ns)
    b = execute_run(experiment, cell(0.95), overrides={"epochs": 1}, namespace=ns)
    assert a.batch and b.batch and a.run_id == b.run_id == run.run_id and a.mode == "full"
    assert ns["seen"] == 10  # full mode ignores quick overrides
    assert b.criterion_check == "met"
    assert [r.run_id for r in experiment.runs()] == [run.run_id]  # no runs of their own
    assert not (experiment.path / "quick").exists()
    on_disk = json.loads((run.path / "run.json").read_text())
    assert on_disk["status"] == "running" and len(on_disk["cells"]) == 2
    assert on_disk["metrics_summary"]["loss"] == {"last": 0.95, "min": 0.5, "max": 0.95, "n": 2, "step": 1}

    # The runner ends the run; a late flush from the kernel (e.g. at exit) must not undo that.
    from jupyter_mlexp.core.execution.run_folder import Run

    parent = Run.attach(run.path)
    experiment.finish_run(parent, "completed")
    tracking.flush_batch_run()
    final = json.loads((run.path / "run.json").read_text())
    assert final["status"] == "completed" and final["metrics_summary"]["loss"]["n"] == 2
    assert len((run.path / "metrics.jsonl").read_text().splitlines()) == 4


def test_environment_variables_attach_a_script(experiment, monkeypatch):
    run = experiment.start_run("quick")
    monkeypatch.setenv("MLEXP_RUN_DIR", str(run.path))
    monkeypatch.setenv("MLEXP_MODE", "quick")
    tracking.log_metric("loss", 1.25)
    tracking.flush_batch_run()
    assert json.loads((run.path / "run.json").read_text())["metrics_summary"]["loss"]["last"] == 1.25
