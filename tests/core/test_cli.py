import subprocess
import sys
from pathlib import Path

from jupyter_mlexp import Experiment
from jupyter_mlexp.frontdoors.cli import main


def test_hypothesis_gate_and_errors_are_one_line(workspace, capsys, tmp_path):
    assert main(["journal", "--experiment", "x", "hello"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlexp: error:") and "no registered hypothesis" in err and "Traceback" not in err
    assert (
        main(
            [
                "hypothesis",
                "x",
                "--statement",
                "Width helps and depth hurts",
                "--success",
                "acc > 1",
                "--metrics",
                "acc",
            ]
        )
        == 2
    )
    assert "bundles several claims" in capsys.readouterr().err
    body = tmp_path / "h.md"
    body.write_text("Width 256 improves val_acc.\nsuccess: val_acc >= 0.9\nmetrics: val_acc\n")
    assert main(["hypothesis", "x", "-f", str(body)]) == 0
    assert "registered v1" in capsys.readouterr().out
    assert (
        main(
            [
                "hypothesis",
                "x",
                "--statement",
                "Width 256 improves val_acc.",
                "--success",
                "val_acc >= 0.95",
                "--metrics",
                "val_acc",
                "--reason",
                "stricter",
            ]
        )
        == 0
    )
    assert "updated to v2" in capsys.readouterr().out
    assert Experiment("x").hypothesis.update_reason == "stricter"


def test_runs_ignore_unignore_journal(experiment, capsys):
    run = experiment.start_run("quick", params={"lr": 0.1})
    run.log_metric("val_acc", 0.91)
    experiment.finish_run(run, "completed")
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert run.run_id in out and "val_acc=0.91" in out and "lr=0.1" in out
    assert main(["ignore", run.run_id, "--reason", "bad shard"]) == 0
    main(["runs", "digits"])
    assert "yes: bad shard" in capsys.readouterr().out
    assert main(["unignore", run.run_id]) == 0
    assert main(["unignore", run.run_id]) == 2
    assert "not ignored" in capsys.readouterr().err
    assert main(["journal", "--tag", "weird", "loss", "spikes"]) == 0
    assert main(["journal", "--tag", "WEIRD"]) == 0
    assert "loss spikes" in capsys.readouterr().out
    assert main(["runs", "../etc"]) == 2
    assert "invalid experiment name" in capsys.readouterr().err


def test_entry_point_runs_as_a_process(experiment, workspace):
    out = subprocess.run(
        [sys.executable, "-m", "jupyter_mlexp.frontdoors.cli", "status", "digits"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "hypothesis v1" in out.stdout


def test_status_runs_and_run_offer_json_for_agents(experiment, capsys):
    """`--json`: one JSON object on stdout, the same dicts the REST API sends, the one verdict; a script's
    own output stays in its run's stdout.txt."""
    import json

    from jupyter_mlexp.core.stats.verdict import judge_experiment

    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["name"] == "digits" and status["hypothesis"]["version"] == 1 and status["counts"]["runs"] == 0
    code = main(
        ["run", "--json", "--seeds", "0,1", "--", sys.executable, "-c", "print('epoch 1'); print('val_acc: 0.93')"]
    )
    captured = capsys.readouterr()
    ran = json.loads(captured.out)  # the JSON alone: no echo of the command, no progress lines
    assert code == 0 and len(captured.out.splitlines()) == 1  # the command's "epoch 1" line is not echoed
    assert [r["status"] for r in ran["runs"]] == ["completed"] * 2 and ran["failed"] == []
    assert [r["primary_value"] for r in ran["runs"]] == [0.93, 0.93] and ran["experiment"] == "digits"
    assert "epoch 1" in (Path(ran["runs"][0]["path"]) / "stdout.txt").read_text()
    assert main(["runs", "digits", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert sorted(r["run_id"] for r in runs["runs"]) == sorted(r["run_id"] for r in ran["runs"])
    assert runs["verdict"] == judge_experiment(experiment).to_dict()
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["verdict"] == runs["verdict"] and status["counts"]["quick"] == 2
    bad = main(["run", "--json", "--", sys.executable, "-c", "raise SystemExit(3)"])
    assert bad == 1 and json.loads(capsys.readouterr().out)["runs"][0]["status"] == "failed"
