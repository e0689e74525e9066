"""Runs through real kernels: records, modes, warm kernels, and every way a run can end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nbformat
import pytest
from runner_helpers import manifests

from jupyter_mlexp import Experiment
from jupyter_mlexp.frontdoors.cli import main
from jupyter_mlexp.runner import run_notebook, run_sweep

pytestmark = pytest.mark.slow

TRAIN = "%%run_quick epochs=1\nimport jupyter_mlexp as mlexp\nmlexp.log_metric('acc', lr * epochs)\nprint('loss: 0.5')"


def _results_rows(root: Path) -> list[list[str]]:
    lines = (root / "experiments" / "exp" / "results.tsv").read_text().splitlines()
    return [line.split("\t") for line in lines[1:]]


def test_quick_then_full_land_in_separate_folders(nb, ws):
    path = nb("train.ipynb", "%load_ext jupyter_mlexp", TRAIN, "print('done')")
    quick = run_notebook(path, experiment="exp", progress=False)
    assert quick.status == "completed" and quick.mode == "quick"
    assert quick.primary_value == pytest.approx(0.1)  # the quick override epochs=1 applied
    full = run_sweep(path, experiment="exp", mode="full", seeds=[0, 1, 2], jobs=2, progress=False)
    assert [r.status for r in full.runs] == ["completed"] * 3
    assert all(r.primary_value == pytest.approx(0.2) for r in full.runs)  # overrides ignored in full
    assert [r.seed for r in full.runs] == [0, 1, 2]
    assert any(r.kernel_reused for r in full.runs)  # 3 runs on 2 warm kernels

    exp_dir = ws / "experiments" / "exp"
    assert [p.name for p in (exp_dir / "quick").iterdir()] == [quick.run_id]
    assert sorted(p.name for p in (exp_dir / "full").iterdir()) == sorted(r.run_id for r in full.runs)
    for r in [quick, *full.runs]:
        folder = Path(r.path)
        out = nbformat.read(str(folder / "output.ipynb"), as_version=4)
        assert "done" in "".join(o.get("text", "") for c in out.cells for o in c.get("outputs", []))
        m = json.loads((folder / "run.json").read_text())
        assert m["status"] == "completed" and m["mode"] == r.mode
        assert m["metrics_summary"]["acc"]["n"] == 1
        assert m["criterion_check"] == ("met" if r.mode == "full" else "not met")
        assert m["parameters_cell"] is True and m["peak_memory_gb"] > 0.01
        assert (folder / "metrics.jsonl").exists()
    rows = _results_rows(ws)
    assert len(rows) == 4 and all(row[4] == "completed" and float(row[3]) > 0 for row in rows)
    events = [e["event"] for e in Experiment("exp").events()]
    assert events.count("run_started") == 4 and events.count("run_completed") == 4


def test_warm_kernel_starts_each_run_clean(nb, ws):
    path = nb(
        "leak.ipynb",
        "import os, sys\nassert 'leak' not in globals(), 'namespace leaked from the previous run'\n"
        "assert 'MLEXP_LEAK' not in os.environ\nassert os.getcwd() == os.path.dirname(os.path.abspath('leak.ipynb'))",
        "leak = 1\nos.environ['MLEXP_LEAK'] = '1'\nos.chdir('/')\nsys.path.insert(0, '/nowhere')",
    )
    result = run_sweep(path, experiment="exp", seeds=[0, 1, 2], jobs=1, progress=False)
    assert [r.status for r in result.runs] == ["completed"] * 3, [r.error for r in result.runs]
    assert [r.kernel_reused for r in result.runs] == [False, True, True]
    assert result.stats["kernels_started"] == 1


def test_fresh_kernel_gives_every_run_its_own_kernel(nb, ws):
    path = nb("fresh.ipynb", "import os\npid = os.getpid()")
    result = run_sweep(path, experiment="exp", seeds=[0, 1], fresh_kernel=True, progress=False)
    pids = {json.loads((Path(r.path) / "run.json").read_text())["kernel"]["pid"] for r in result.runs}
    assert len(pids) == 2 and not any(r.kernel_reused for r in result.runs)


def test_failing_cell_records_index_name_and_message_and_the_sweep_continues(nb, ws, capsys):
    path = nb(
        "fail.ipynb",
        "import jupyter_mlexp as mlexp\nmlexp.log_metric('acc', 0.3)",
        "if lr > 0.15:\n    raise ValueError('lr too large: boom')",
        "print('after')",
    )
    code = main(["run", str(path), "--experiment", "exp", "--grid", "lr=0.1,0.2"])
    assert code == 1
    err = capsys.readouterr().err
    assert "1 run(s) did not complete" in err and "ValueError: lr too large: boom" in err
    ok, failed = sorted(manifests(ws), key=lambda m: m["params"]["lr"])
    assert ok["status"] == "completed"
    assert failed["status"] == "failed"
    e = failed["error"]
    assert e["cell_index"] == 3 and e["name"] == "ValueError" and "boom" in e["message"]
    assert failed["metrics_summary"]["acc"]["last"] == 0.3  # logged before the failure: kept
    out = nbformat.read(str(ws / "experiments/exp/quick" / failed["run_id"] / "output.ipynb"), as_version=4)
    assert "papermill-error-cell-tag" in out.cells[0].metadata["tags"]
    assert not any("after" in o.get("text", "") for c in out.cells for o in c.get("outputs", []))


def test_budget_stops_the_notebook_and_other_runs_continue(nb, ws):
    path = nb("slow.ipynb", "import time\nprint('started', flush=True)", "time.sleep(lr)", params="lr = 0.0")
    result = run_sweep(path, experiment="exp", grid={"lr": [60.0, 0.0]}, budget=3, jobs=2, progress=False)
    slow, fast = result.runs
    assert slow.status == "timeout" and fast.status == "completed"
    assert slow.duration_s < 15
    m = json.loads((Path(slow.path) / "run.json").read_text())
    assert m["status"] == "timeout" and "budget of 3 s" in m["error"]["message"] and m["error"]["cell_index"] == 3
    out = nbformat.read(str(Path(slow.path) / "output.ipynb"), as_version=4)  # the partial notebook is kept
    assert any("started" in o.get("text", "") for c in out.cells for o in c.get("outputs", []))
    assert [r[4] for r in _results_rows(ws)].count("timeout") == 1


def test_kernel_death_is_a_failed_run_with_the_reason(nb, ws):
    path = nb("die.ipynb", "import os\nif lr > 0.15:\n    os._exit(1)", "x = 1")
    result = run_sweep(path, experiment="exp", grid={"lr": [0.2, 0.1]}, jobs=1, progress=False)
    died, after = result.runs
    assert died.status == "failed" and died.error["name"] == "DeadKernelError"
    assert "kernel died" in died.error["message"] and died.error["cell_index"] == 2
    assert after.status == "completed" and not after.kernel_reused  # a replacement kernel
    assert (Path(died.path) / "output.ipynb").exists()


def test_sys_exit(nb, ws):
    path = nb("exit.ipynb", "import sys\nif lr > 0.15:\n    sys.exit(3)\nsys.exit()", "print('never')")
    result = run_sweep(path, experiment="exp", grid={"lr": [0.1, 0.2]}, progress=False)
    clean, coded = result.runs
    assert clean.status == "completed"
    m = json.loads((Path(clean.path) / "run.json").read_text())
    assert m["exit"] == {"cell_index": 2, "code": 0}
    assert coded.status == "failed" and coded.error["name"] == "SystemExit"
    assert "sys.exit(3)" in coded.error["message"]


def test_undeclared_parameter_is_warned_and_recorded(nb, ws, caplog):
    path = nb("p.ipynb", "y = lr")
    r = run_notebook(path, experiment="exp", params={"lr": 0.3, "momentum": 0.9}, progress=False)
    m = json.loads((Path(r.path) / "run.json").read_text())
    assert m["undeclared_params"] == ["momentum"] and m["params"] == {"lr": 0.3, "epochs": 2, "momentum": 0.9}
    assert "momentum not declared" in caplog.text


def test_notebook_without_a_parameters_cell_runs_without_values(nb, ws):
    """(With -p/--grid it is refused: tests/runner/test_run_configuration.py.)"""
    path = nb("np.ipynb", "lr = 0.7\nprint(lr)", params=None)
    r = run_notebook(path, experiment="exp", progress=False)
    assert r.status == "completed"
    m = json.loads((Path(r.path) / "run.json").read_text())
    assert m["parameters_cell"] is False and m["parameters_injected"] is False and m["params"] == {}


def test_notebook_hypothesis_cell_registers_the_experiment(workspace, monkeypatch):
    from runner_helpers import make_notebook

    monkeypatch.chdir(workspace)
    path = make_notebook(
        workspace / "own.ipynb",
        TRAIN,
        hypothesis="%%hypothesis own\nA larger lr raises acc.\nsuccess: acc >= 0.15\nmetrics: acc",
    )
    r = run_notebook(path, mode="full", progress=False)
    assert r.status == "completed" and r.primary_value == pytest.approx(0.2)
    assert Experiment("own").hypothesis.version == 1
    assert (workspace / "experiments" / "own" / "full" / r.run_id).is_dir()


def test_a_warm_kernel_replies_without_ipykernels_sleep_and_loses_no_output(nb, ws):
    """Kernels start with ``Kernel._execute_sleep=0`` (0.8 ms of each round trip): every line a
    cell prints, up to its last one without a newline, still reaches each run's output."""
    from jupyter_mlexp.runner.kernels import Kernel, kernel_env

    async def sleep_setting():
        kernel = await Kernel.start("python3", str(ws), kernel_env(), reuse=True)
        try:
            return await kernel.evaluate("get_ipython().kernel._execute_sleep")
        finally:
            await kernel.shutdown()

    assert asyncio.run(sleep_setting()) == 0
    path = nb("burst.ipynb", "for i in range(3000):\n    print(i)", "print('acc: 1', end='')")
    sweep = run_sweep(path, experiment="exp", seeds=list(range(12)), jobs=1, progress=False)
    assert [r.status for r in sweep.runs] == ["completed"] * 12 and sum(r.kernel_reused for r in sweep.runs) == 11
    for r in sweep.runs:
        out = nbformat.read(Path(r.path) / "output.ipynb", as_version=4)
        text = "".join(o.get("text", "") for c in out.cells for o in c.get("outputs", ()) if o.get("name") == "stdout")
        assert text == "".join(f"{i}\n" for i in range(3000)) + "acc: 1"
        assert r.primary_value == 1


def test_numpy_imported_by_the_notebook_is_seeded_with_the_runs_seed(nb, ws):
    """The attach cell does not import numpy to seed it; the notebook's own import is seeded at once
    (first run, fresh kernel) and later runs on the warm kernel are seeded directly."""
    import numpy as np

    path = nb(
        "np_seed.ipynb",
        "import sys\nbefore = 'numpy' in sys.modules",
        "import numpy as np\nimport jupyter_mlexp as mlexp\nmlexp.log_metric('acc', float(np.random.rand()))\n"
        "mlexp.log_metric('imported_before', float(before))",
    )
    sweep = run_sweep(path, experiment="exp", seeds=[0, 1, 2], jobs=1, progress=False)
    assert [r.status for r in sweep.runs] == ["completed"] * 3
    got = [json.loads((Path(r.path) / "run.json").read_text())["metrics_summary"] for r in sweep.runs]
    expected = []
    for seed in (0, 1, 2):
        np.random.seed(seed)
        expected.append(np.random.rand())
    assert [g["acc"]["last"] for g in got] == expected
    assert got[0]["imported_before"]["last"] == 0.0  # the fresh kernel had not imported numpy to seed it
