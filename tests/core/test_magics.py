"""Magics in a real IPython shell: the gate, overrides, metric capture, budget, failures."""

import json

import pytest
from IPython.core.error import UsageError
from IPython.testing.globalipapp import start_ipython

from jupyter_mlexp import Experiment
from jupyter_mlexp.core.record.fsio import read_jsonl

HYP = "Dropout 0.2 improves validation accuracy on digits.\nsuccess: val_acc >= 0.9\nmetrics: val_acc, loss\n"


@pytest.fixture(scope="session")
def _shell():
    from IPython.testing.globalipapp import get_ipython

    return start_ipython() or get_ipython()  # None when another test module started it first


@pytest.fixture
def ip(_shell, workspace):
    shell = _shell
    from jupyter_mlexp import load_ipython_extension

    load_ipython_extension(shell)  # fresh magics state and `mlexp` in the namespace, per test
    yield shell
    shell.run_line_magic("reset", "-f")


def runs(name="digits"):
    return Experiment(name).runs()


def manifest(info):
    return json.loads((info.path / "run.json").read_text())


def test_gate_refuses_run_without_hypothesis(ip, workspace):
    with pytest.raises(UsageError, match="register a hypothesis first"):
        ip.run_cell_magic("run_quick", "", "x = 1\n")
    assert "x" not in ip.user_ns
    with pytest.raises(UsageError, match="no registered hypothesis"):
        Experiment("ghost").path.mkdir(parents=True)
        ip.run_cell_magic("run_quick", "--experiment ghost", "x = 1\n")
    assert not (workspace / "experiments" / "ghost" / "quick").exists()


def test_bad_hypothesis_is_a_usage_error_not_a_traceback(ip):
    with pytest.raises(UsageError, match="not listed under 'metrics:'"):
        ip.run_cell_magic("hypothesis", "digits", "A claim.\nsuccess: acc > 1\nmetrics: loss\n")
    with pytest.raises(UsageError, match="invalid experiment name"):
        ip.run_cell_magic("hypothesis", "../../etc", HYP)


def test_quick_run_overrides_apply_once_and_metrics_from_both_paths(ip, capsys):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell("epochs = 10")
    ip.run_cell_magic(
        "run_quick",
        "epochs=2 lr=0.1 --seed 7",
        "import random\n"
        "first = random.random()\n"
        "rate = lr\n"
        "for i in range(epochs):\n"
        "    mlexp.log_metric('loss', 1.0 / (i + 1))\n"
        "print('val_acc: 0.93')\n"
        "print('not a metric line: x')\n",
    )
    assert ip.user_ns["epochs"] == 10 and "lr" not in ip.user_ns and ip.user_ns["rate"] == 0.1
    import random

    random.seed(7)
    assert ip.user_ns["first"] == random.random()  # seeded
    (info,) = runs()
    m = manifest(info)
    assert m["status"] == "completed" and m["mode"] == "quick" and m["params"] == {"epochs": 2, "lr": 0.1}
    assert m["seed"] == 7 and m["criterion_check"] == "met" and m["budget_s"] == 60.0
    assert "mlexp.log_metric" in m["command"]
    records, _ = read_jsonl(info.path / "metrics.jsonl")
    assert [(r["name"], r["value"]) for r in records] == [("loss", 1.0), ("loss", 0.5), ("val_acc", 0.93)]
    assert "val_acc: 0.93" in (info.path / "stdout.txt").read_text()
    assert "started" in (info.path / "run.log").read_text()
    out = capsys.readouterr().out
    assert "completed" in out and "val_acc = 0.93" in out and "met" in out
    assert info.path.parent.name == "quick"
    tsv = (info.path.parent.parent / "results.tsv").read_text().splitlines()
    assert tsv[0].split("\t")[0] == "run_id" and tsv[1].split("\t")[2] == "0.93"


def test_full_flag_ignores_overrides_and_records_under_full(ip):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell("epochs = 10")
    ip.run_cell_magic("run_quick", "epochs=2 --full", "seen = epochs\nprint('val_acc: 0.5')\n")
    assert ip.user_ns["seen"] == 10
    (info,) = runs()
    assert info.mode == "full" and info.path.parent.name == "full" and manifest(info)["criterion_check"] == "not met"


def test_budget_interrupts_a_sleeping_and_a_busy_cell(ip):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell_magic("run_quick", "--budget 0.5", "import time\nmlexp.log_metric('loss', 3)\ntime.sleep(30)\n")
    ip.run_cell_magic("run_quick", "--budget 0.5", "x = 0\nwhile True:\n    x += 1\n")
    a, b = runs()
    assert a.status == b.status == "timeout"
    assert manifest(a)["duration_s"] < 5 and manifest(b)["duration_s"] < 5
    assert manifest(a)["metrics_summary"]["loss"]["last"] == 3  # logged before the budget: kept
    ip.run_cell("after = 41 + 1")  # the kernel stays usable
    assert ip.user_ns["after"] == 42
    import signal

    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_cell_that_raises_is_a_failed_run_with_metrics_kept(ip):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell_magic("run_quick", "", "mlexp.log_metric('loss', 0.7)\nraise ValueError('boom')\n")
    (info,) = runs()
    m = manifest(info)
    assert info.status == "failed"
    assert m["error"]["name"] == "ValueError" and m["error"]["message"] == "boom" and "boom" in m["error"]["traceback"]
    assert read_jsonl(info.path / "metrics.jsonl")[0][0]["value"] == 0.7
    events = [e["event"] for e in Experiment("digits").events()]
    assert "run_failed" in events


def test_bad_metric_value_fails_the_run_with_a_message(ip):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell_magic("run_quick", "", "mlexp.log_metric('loss', 'low')\n")
    (info,) = runs()
    assert info.status == "failed" and "not a number" in manifest(info)["error"]["message"]


def test_journal_magics_and_mlexp_subcommands(ip, capsys):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell_magic("journal", "WEIRD TODO", "loss spikes at epoch 3")
    ip.run_cell_magic("journal", "", "[HUNCH] the scaler leaks")
    ip.run_line_magic("journal", "--tag weird")
    out = capsys.readouterr().out
    assert "loss spikes at epoch 3" in out and "scaler" not in out
    tags = [e.tags for e in Experiment("digits").journal().entries]
    assert tags[-2:] == [["WEIRD", "TODO"], ["HUNCH"]]
    ip.run_cell_magic("run_quick", "", "print('val_acc: 0.95')\n")
    (info,) = runs()
    ip.run_line_magic("mlexp", f"ignore {info.run_id} --reason leaked test set")
    assert runs()[0].ignored_reason == "leaked test set"
    ip.run_line_magic("mlexp", f"unignore {info.run_id}")
    assert not runs()[0].ignored
    ip.run_line_magic("mlexp", "status")
    assert "hypothesis v1" in capsys.readouterr().out
    with pytest.raises(UsageError, match="unknown %mlexp command"):
        ip.run_line_magic("mlexp", "frobnicate")
    with pytest.raises(UsageError, match="usage: %mlexp ignore"):
        ip.run_line_magic("mlexp", f"ignore {info.run_id}")
    with pytest.raises(UsageError, match="no run"):
        ip.run_line_magic("mlexp", "ignore 20990101-000000-abcdef --reason x")


def test_use_switches_experiment_and_applies_the_gate(ip):
    Experiment("other").path.mkdir(parents=True)
    with pytest.raises(UsageError, match="no registered hypothesis"):
        ip.run_line_magic("mlexp", "use other")
    Experiment("other").register(HYP)
    ip.run_line_magic("mlexp", "use other")
    ip.run_cell_magic("run_quick", "", "pass\n")
    assert len(runs("other")) == 1


def test_report_and_conclude_from_the_real_shell(ip, capsys):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    for value in (0.91, 0.93):
        ip.run_cell_magic("run_quick", "", f"mlexp.log_metric('loss', 0.3)\nprint('val_acc: {value}')\n")
    ip.run_line_magic("mlexp", "report")
    exp = Experiment("digits")
    assert (exp.path / "report.ipynb").exists()
    assert "report written to" in capsys.readouterr().out
    with pytest.raises(UsageError, match="learning"):
        ip.run_line_magic("mlexp", "conclude")
    ip.run_line_magic("mlexp", "conclude --learning quick runs clear the bar --next run full seeds")
    completed = [e for e in exp.journal().entries if "COMPLETED" in e.tags]
    assert len(completed) == 1 and "quick runs clear the bar" in completed[0].text


def test_data_flag_hashes_declared_files(ip, workspace):
    data = workspace / "train.csv"
    data.write_text("x,y\n1,2\n")
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell_magic("run_quick", f"--data {data} --data {workspace / 'nope.csv'}", "pass\n")
    m = manifest(runs()[0])
    import hashlib

    assert m["data"][str(data)]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert m["data"][str(workspace / "nope.csv")] == {"error": "file not found"}


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_panel_subcommand_displays_the_widget(ip, monkeypatch):
    from jupyter_mlexp.frontdoors.magics import experiment_magics as magics_module

    shown = []
    monkeypatch.setattr(magics_module, "display", shown.append)
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell_magic("journal", "WEIRD", "odd spike")
    ip.run_line_magic("mlexp", "panel")
    (w,) = shown  # the panel the magic built and displayed, not one this test builds
    assert any("odd spike" in str(getattr(c, "value", "")) for c in _walk(w))


def test_unnamed_hypothesis_takes_the_notebook_name(ip, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/work/Digits (draft 2).ipynb")
    ip.run_cell_magic("hypothesis", "", HYP)
    assert Experiment("Digits-draft-2").hypothesis.version == 1


def test_run_quick_seed_is_the_seed_the_cell_sees(ip):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell("seed = 0")
    ip.run_cell_magic("run_quick", "--seed 7", "seen = seed\nprint('val_acc: 0.9')\n")
    assert ip.user_ns["seen"] == 7
    assert ip.user_ns["seed"] == 0  # an override for the run only, like NAME=VALUE
    assert manifest(runs()[-1])["seed"] == 7
    ip.run_cell("seed = 3")
    ip.run_cell_magic("run_quick", "", "seen = seed\n")
    assert ip.user_ns["seen"] == 3 and manifest(runs()[-1])["seed"] == 3  # the seed the code saw


@pytest.mark.parametrize(
    "body",
    [
        # swallows the budget's exception in a loop
        "import time\nt0 = time.monotonic()\nwhile time.monotonic() - t0 < 2.5:\n"
        "    try:\n        time.sleep(0.05)\n    except BaseException:\n        pass\n",
        # turns the budget's timer off
        "import signal, time\nsignal.setitimer(signal.ITIMER_REAL, 0)\nt0 = time.monotonic()\n"
        "while time.monotonic() - t0 < 2.5:\n    try:\n        time.sleep(0.05)\n    except BaseException:\n        pass\n",
    ],
    ids=["swallows-BaseException", "resets-ITIMER_REAL"],
)
def test_run_past_the_budget_is_a_timeout_whatever_the_cell_does(ip, body):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell_magic("run_quick", "--budget 0.5", body)
    m = manifest(runs()[-1])
    assert m["status"] == "timeout", m.get("error")
    assert "did not stop" in m["error"]["message"] or "budget" in m["error"]["message"]


@pytest.mark.slow
def test_seed_under_the_batch_runner_is_the_runners(workspace, monkeypatch, tmp_path):
    """`%%run_quick --seed 7` in a notebook `mlexp run` seeds 3: the record, the cell's `seed` and the RNG say 3."""
    import random

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from jupyter_mlexp.runner import run_sweep

    monkeypatch.chdir(workspace)
    Experiment("seeded").register("Seeds are honoured.\nsuccess: rng >= 0\nmetrics: rng, seen\n")
    params = new_code_cell("lr = 0.1")
    params.metadata["tags"] = ["parameters"]
    cell = (
        "%%run_quick --seed 7\nimport random\nimport jupyter_mlexp as mlexp\n"
        "mlexp.log_metric('rng', random.random())\nmlexp.log_metric('seen', seed)"
    )
    nb = new_notebook(cells=[new_code_cell("%load_ext jupyter_mlexp"), params, new_code_cell(cell)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = workspace / "seeded.ipynb"
    nbformat.write(nb, str(path))
    sweep = run_sweep(path, experiment="seeded", mode="full", seeds=[3], jobs=1, progress=False)
    (run,) = sweep.runs
    assert run.status == "completed", run
    manifest = json.loads((workspace / "experiments" / "seeded" / "full" / run.run_id / "run.json").read_text())
    assert manifest["seed"] == 3 and any("--seed 7 ignored" in w for w in manifest.get("warnings", []))
    assert manifest["metrics_summary"]["seen"]["last"] == 3
    assert manifest["metrics_summary"]["rng"]["last"] == random.Random(3).random()
    out = nbformat.read(str(workspace / "experiments" / "seeded" / "full" / run.run_id / "output.ipynb"), 4)
    printed = "".join(o.get("text", "") for c in out.cells for o in c.get("outputs", []))
    assert "--seed 7 ignored" in printed and printed.count("--seed 7 ignored") == 1


def test_magics_refuse_unknown_journal_tags_and_a_silent_second_ignore(ip, capsys):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    before = len(Experiment("digits").journal().entries)
    with pytest.raises(UsageError, match="unknown journal tag FOOBAR: use one of WEIRD, HUNCH, TODO, RESOLVED, LESSON"):
        ip.run_cell_magic("journal", "FOOBAR", "loss spikes")
    with pytest.raises(UsageError, match="use one of WEIRD"):
        ip.run_line_magic("journal", "--tag FOOBAR")
    assert len(Experiment("digits").journal().entries) == before
    ip.run_cell_magic("run_quick", "", "print('val_acc: 0.95')\n")
    (info,) = runs()
    ip.run_line_magic("mlexp", f"ignore {info.run_id} --reason leaked test set")
    with pytest.raises(UsageError, match="already ignored: 'leaked test set'.*--replace"):
        ip.run_line_magic("mlexp", f"ignore {info.run_id} --reason another")
    ip.run_line_magic("mlexp", f"ignore {info.run_id} --replace --reason wrong labels")
    assert runs()[0].ignored_reason == "wrong labels"


def test_a_quick_run_that_never_logs_the_criterion_metric_says_so_at_its_end(ip, capsys):
    ip.run_cell_magic("hypothesis", "digits", HYP)
    ip.run_cell_magic("run_quick", "", "print('loss: 0.5')\n")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == (
        "warning: the run: the success criterion's metric 'val_acc' was never logged (no finite value): "
        "call mlexp.log_metric('val_acc', value) or print a line 'val_acc: VALUE'"
    )
    (info,) = runs()
    assert manifest(info)["criterion_check"] == "not measured" and "never logged" in manifest(info)["warnings"][0]
    ip.run_cell_magic("run_quick", "", "print('val_acc: 0.95')\n")
    assert "never logged" not in capsys.readouterr().out
