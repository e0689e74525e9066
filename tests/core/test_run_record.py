"""run.json read one way: the typed record, and a manifest of before 0.2 migrated in one place for every surface."""

from __future__ import annotations

import json

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.run_record import GitState, RunRecord, migrate

HYP = "Dropout improves accuracy on the toy set\nsuccess: acc >= 0.9\nmetrics: acc\n"


def _old_run(tmp_path) -> Experiment:
    """A run recorded before 0.2: its per-run check is called ``verdict``."""
    exp = Experiment("demo", tmp_path)
    exp.register(HYP)
    run = exp.start_run("quick", run_id="q-old", params={"lr": 0.1}, seed=1)
    run.log_metric("acc", 0.95)
    exp.finish_run(run, "completed")
    path = run.path / "run.json"
    m = json.loads(path.read_text())
    m.pop("criterion_check", None)
    m["verdict"] = "met"
    path.write_text(json.dumps(m))
    return exp


def test_a_run_of_before_0_2_shows_its_check_on_every_surface(tmp_path, capsys, monkeypatch):
    exp = _old_run(tmp_path)
    (info,) = exp.runs()
    assert info.record.criterion_check == "met" and "verdict" not in info.manifest
    assert info.to_dict("acc")["criterion_check"] == "met"

    from jupyter_mlexp.frontdoors.server import run_views

    (row,) = run_views.runs_table(tmp_path, "demo")["runs"]
    assert row["criterion_check"] == "met"
    assert run_views.run_detail(tmp_path, "demo", "q-old")["run"]["criterion_check"] == "met"
    on_disk = json.loads((info.path / "run.json").read_text())
    assert on_disk["verdict"] == "met" and "criterion_check" not in on_disk  # read, never rewritten


def test_migrate_leaves_a_current_manifest_as_it_is_and_never_changes_its_argument():
    current = {"run_id": "r", "criterion_check": "not met", "verdict": "met"}
    assert migrate(current) is current
    old = {"run_id": "r", "verdict": "met"}
    new = migrate(old)
    assert new == {"run_id": "r", "criterion_check": "met"} and old == {"run_id": "r", "verdict": "met"}


def test_the_record_types_what_the_surfaces_read():
    r = RunRecord.from_manifest(
        {
            "run_id": "f-1",
            "mode": "full",
            "status": "completed",
            "params": None,
            "metrics_summary": {"acc": {"last": 0.9}, "odd": "x"},
            "git": {"commit": "0123456789abcdef", "branch": "main", "dirty": False, "repo": "/r"},
            "command": ["python", "train.py"],  # not text: not shown as a command
        }
    )
    assert r.params == {} and r.lasts() == {"acc": 0.9} and r.last("acc") == 0.9 and r.last("loss") is None
    assert r.git == GitState(repo="/r", commit="0123456789abcdef", branch="main", dirty=False)
    assert r.git.describe() == "0123456789ab (main, clean)"
    assert r.command is None
    assert GitState(note="not a git repository").describe() == "not a git repository"


def test_a_run_json_nested_too_deep_is_one_line_for_the_process_that_attaches(tmp_path):
    import pytest

    from jupyter_mlexp.core.errors import RecordError
    from jupyter_mlexp.core.execution.run_folder import Run

    exp = Experiment("demo", tmp_path)
    exp.register(HYP)
    run = exp.start_run("full", run_id="f-1", params={}, seed=0)
    (run.path / "run.json").write_text('{"params": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(RecordError, match="nested too deep") as info:
        Run.attach(run.path)
    assert "\n" not in str(info.value)
    run.reload(rebuild_summary=True)  # the runner reading back a dead process's run: keeps what it had
    assert run.manifest["run_id"] == "f-1"
    run.stop_log()
