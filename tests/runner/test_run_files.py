"""Each run keeps its own files; its record names the packages its own process imported; run.log
ends with the run's real status. Real subprocesses, one real kernel."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.execution import provenance
from jupyter_mlexp.core.execution.quickrun import execute_run
from jupyter_mlexp.frontdoors.cli import main

TRAIN = textwrap.dedent("""
    import sys
    import yaml  # a package only this script imports
    import helper  # a module of the project, imported from the working directory
    alpha = float(sys.argv[1])
    with open("data/input.txt") as fh:  # a project file read by a relative path
        base = float(fh.read())
    with open("model.txt", "w") as fh:  # a file the run writes by a relative path
        fh.write(f"model for alpha={alpha}")
    print(f"acc: {helper.score(base, alpha)}")
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
""")


@pytest.fixture
def project(workspace, monkeypatch):
    Experiment("cmd").register("alpha matters.\nsuccess: acc >= 0.5\nmetrics: acc\n")
    (workspace / "train.py").write_text(TRAIN)
    (workspace / "helper.py").write_text("def score(base, alpha):\n    return base + alpha\n")
    (workspace / "data").mkdir()
    (workspace / "data" / "input.txt").write_text("0.5")
    monkeypatch.chdir(workspace)
    return workspace


def _runs():
    return [(json.loads((r.path / "run.json").read_text()), r.path) for r in Experiment("cmd").runs()]


def test_each_script_run_keeps_the_file_it_wrote_by_a_relative_path(project):
    """Before: model.txt stayed in the project, overwritten by the next run; no run listed it."""
    assert (
        main(["run", "--experiment", "cmd", "--grid", "alpha=0.1,0.9", "--", sys.executable, "train.py", "{alpha}"])
        == 0
    )
    (first, first_dir), (second, second_dir) = sorted(_runs(), key=lambda r: r[0]["params"]["alpha"])
    assert (first_dir / "artifacts" / "model.txt").read_text() == "model for alpha=0.1"
    assert (second_dir / "artifacts" / "model.txt").read_text() == "model for alpha=0.9"
    assert first["artifacts"] == [{"path": "artifacts/model.txt", "bytes": len("model for alpha=0.1")}]
    assert (project / "model.txt").read_text() == "model for alpha=0.9"  # the project's copy: the last run's
    assert first["metrics_summary"]["acc"]["last"] == pytest.approx(0.6)  # read data/ and imported helper
    assert first["workdir"] == str(project.resolve())


def test_run_log_ends_with_the_real_status_of_a_script_run(project):
    """Before: 'ended: running' for every script run."""
    main(["run", "--experiment", "cmd", "--", sys.executable, "train.py", "0.1"])
    main(["run", "--experiment", "cmd", "--", sys.executable, "train.py", "0.1", "3"])
    ends = sorted((m["status"], (d / "run.log").read_text().strip().splitlines()[-1]) for m, d in _runs())
    assert [s for s, _ in ends] == ["completed", "failed"]
    assert ends[0][1].endswith("ended: completed") and ends[1][1].endswith("ended: failed")
    assert all("ended: running" not in (d / "run.log").read_text() for _, d in _runs())


def test_a_script_run_records_what_its_own_process_imported(project):
    """Before: a fixed list of names from mlexp's own interpreter (scikit-learn there though the
    script never imported it; pyyaml missing)."""
    script = "import yaml, jupyter_mlexp as mlexp\nmlexp.log_metric('acc', 0.7)\n"
    assert main(["run", "--experiment", "cmd", "--", sys.executable, "-c", script]) == 0
    ((m, _),) = _runs()
    packages = m["environment"]["packages"]
    assert "pyyaml" in packages and "jupyter-mlexp" in packages and "scikit-learn" not in packages
    assert m["environment"]["packages_sha256"] == provenance.installed_hash()[0]


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs an interpreter other than this one")
def test_a_script_run_records_its_interpreter_not_mlexps(project):
    other = os.path.join(sys.base_prefix, "bin", "python3")
    assert main(["run", "--experiment", "cmd", "--", other, "-c", "print('acc: 0.7')"]) == 0
    ((m, _),) = _runs()
    env = m["environment"]
    assert os.path.realpath(env["executable"]) == os.path.realpath(other)
    assert env["packages_sha256"] != provenance.installed_hash()[0] and env["packages"] == {}


def test_a_quick_run_keeps_its_files_and_artifact_path(project):
    import jupyter_mlexp as mlexp

    exp = Experiment("cmd")

    def cell(alpha):
        def execute():
            Path("plot.txt").write_text(f"plot {alpha}")
            mlexp.artifact_path("sub/table.csv").write_text(f"a,{alpha}")
            mlexp.log_metric("acc", alpha)

        return execute

    for alpha in (0.1, 0.9):
        assert execute_run(exp, cell(alpha), overrides={}, budget=None).status == "completed"
    kept = sorted(((m["metrics_summary"]["acc"]["last"], d) for m, d in _runs()), key=lambda k: k[0])
    for alpha, folder in kept:
        assert (folder / "artifacts" / "plot.txt").read_text() == f"plot {alpha}"
        assert (folder / "artifacts" / "sub" / "table.csv").read_text() == f"a,{alpha}"
    m = json.loads((kept[0][1] / "run.json").read_text())
    assert [a["path"] for a in m["artifacts"]] == ["artifacts/plot.txt", "artifacts/sub/table.csv"]


def test_runs_at_the_same_time_in_one_folder_are_flagged(project):
    """Two runs of this process overlapping in one folder: a file both wrote may be either's."""
    from jupyter_mlexp.core.execution import lifecycle

    exp = Experiment("cmd")
    a = lifecycle.start(exp, "quick", source="test", workdir=project)
    b = lifecycle.start(exp, "quick", source="test", workdir=project)
    (project / "model.txt").write_text("b's")
    lifecycle.finish(exp, b, "completed")
    lifecycle.finish(exp, a, "completed")
    for run, other in ((a, b), (b, a)):
        m = json.loads((run.path / "run.json").read_text())
        assert (run.path / "artifacts" / "model.txt").read_text() == "b's"
        assert any(other.run_id in note and "artifact_path" in note for note in m["artifacts_note"])
    c = lifecycle.start(exp, "quick", source="test", workdir=project)
    (project / "model.txt").write_text("c's")
    lifecycle.finish(exp, c, "completed")
    assert "artifacts_note" not in json.loads((c.path / "run.json").read_text())


def test_the_reports_environment_names_the_installed_environment_hash():
    from jupyter_mlexp.core.record.run_record import RunRecord
    from jupyter_mlexp.report.tables import _env

    env = {"python": "3.11.7", "platform": "Linux", "packages": {"numpy": "2.0"}, "packages_sha256": "ab" * 32}
    assert _env(RunRecord.from_manifest({"environment": env})).endswith(
        "numpy 2.0 · installed packages sha256 abababababab"
    )
