"""run.json read one way: the typed record, and a manifest of before 0.2 migrated in one place for every surface."""

from __future__ import annotations

import ast
import json
from pathlib import Path

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


# -- one reader: no module outside the codec reads run.json with a string key ----------------------------------

PKG = Path(__file__).resolve().parents[2] / "jupyter_mlexp"
#: The codec and the writers: run_record reads the dict into a RunRecord, shapes checks it, run_folder builds it.
CODEC = {"core/record/run_record.py", "core/record/shapes.py", "core/execution/run_folder.py"}


def _is_manifest(node: ast.AST, aliases: set[str]) -> bool:
    """``X.manifest``, a name ``manifest``, or a name bound to ``X.manifest`` in the same module."""
    if isinstance(node, ast.Attribute):
        return node.attr == "manifest"
    return isinstance(node, ast.Name) and (node.id == "manifest" or node.id in aliases)


def manifest_reads(source: str) -> list[int]:
    """The lines where ``source`` reads a run's manifest with a string key: ``.get(...)`` or ``[...]`` read."""
    tree = ast.parse(source)
    aliases = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) and node.value.attr == "manifest"
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            if _is_manifest(node.func.value, aliases):
                out.append(node.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_manifest(node.value, aliases):
            out.append(node.lineno)
    return sorted(out)


def test_no_module_outside_the_codec_reads_run_json_with_a_string_key() -> None:
    found = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith("labextension/") or rel in CODEC:
            continue
        found += [f"{rel}:{line}" for line in manifest_reads(path.read_text(encoding="utf-8"))]
    assert found == [], "read run.json through RunRecord (info.record, run.record), not the dict: " + ", ".join(found)


def test_the_check_sees_each_way_of_reading_the_dict() -> None:
    source = (
        "def f(info, run):\n"
        "    a = info.manifest.get('seed')\n"
        "    b = run.manifest['status']\n"
        "    m = info.manifest\n"
        "    c = m.get('host')\n"
        "    d = m['pid']\n"
        "    run.manifest['error'] = None\n"  # a write: the life cycle writes the dict
        "    e = info.record.seed\n"
    )
    assert manifest_reads(source) == [2, 3, 5, 6]


def test_a_field_of_the_wrong_type_reads_as_missing() -> None:
    odd = {
        "run_id": 5,
        "status": ["done"],
        "hypothesis_version": True,
        "hypothesis_sha256": 3,
        "pid": "12",
        "pid_start": "x",
        "host": 1,
        "peak_memory_gb": "1GB",
        "duration_s": False,
        "params": [1],
        "overrides": "x",
        "metrics_summary": {"acc": 0.5, "loss": {"last": 0.1}},
        "git": {"commit": 5},
        "error": "boom",
        "artifacts": {"a": 1},
        "log_head": [1],
        "params_overwritten": 1,
    }
    r = RunRecord.from_manifest(odd)
    assert (r.run_id, r.status, r.hypothesis_version, r.hypothesis_sha256, r.pid, r.pid_start, r.host) == (None,) * 7
    assert (r.peak_memory_gb, r.duration_s, r.error, r.log_head, r.error_message()) == (None,) * 5
    assert (r.params, r.overrides, r.artifacts, r.params_overwritten) == ({}, {}, [], {})
    assert r.metrics_summary == {"loss": {"last": 0.1}} and r.configuration == {}
    assert r.git is not None and r.git.commit is None and r.git.describe() == "no commit"
    assert RunRecord.from_manifest(["not", "an", "object"]).status is None
