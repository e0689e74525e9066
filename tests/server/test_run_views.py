"""The runs table, one run, its curves from an offset and the report button, over real HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlexp.core.experiment import Experiment

from .conftest import add_run

API = ("mlexp", "api")


async def get(jp_fetch, *parts, **params):
    r = await jp_fetch(*API, *parts, params=params or None)
    return r.code, json.loads(r.body)


async def error(coro) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        await coro
    raw = info.value.response.body if info.value.response is not None else b"{}"
    return info.value.code, json.loads(raw or b"{}")


async def test_table_has_every_metric_parameter_and_configuration(jp_fetch, record):
    exp, _ = record
    run = exp.start_run("full", run_id="f-2", params={"lr": 0.01, "width": 64}, seed=2)
    run.log_metric("acc", 0.95)
    run.log_metric("grad_norm", 3.0)
    exp.finish_run(run, "completed")
    exp.ignore("q-1", "loader bug")
    code, data = await get(jp_fetch, "experiments", "demo", "table")
    assert code == 200
    assert data["primary_metric"] == "acc"
    assert data["metrics"] == ["acc", "loss", "grad_norm"]  # the hypothesis' first, then the others logged
    assert data["params"] == ["lr", "width"]
    rows = {r["run_id"]: r for r in data["runs"]}
    assert rows["f-2"]["metrics"] == {"acc": 0.95, "grad_norm": 3.0}
    assert rows["f-2"]["config"] == "lr=0.01, width=64"
    assert rows["f-1"]["config"] == "lr=0.1"
    assert rows["q-1"]["ignored"] and rows["q-1"]["ignored_reason"] == "loader bug"
    assert rows["f-2"]["params"] == {"lr": 0.01, "width": 64} and rows["f-2"]["seed"] == 2


async def test_table_rows_state_each_fact_once(jp_fetch, record):
    """10,000 runs are megabytes: a row carries no copy of what another field or the table already says."""
    exp, _ = record
    run = exp.start_run("quick", run_id="q-o", params={"lr": 0.1}, overrides={"epochs": 3}, seed=4)
    run.log_metric("acc", 0.5)
    exp.finish_run(run, "completed")
    _, data = await get(jp_fetch, "experiments", "demo", "table")
    rows = {r["run_id"]: r for r in data["runs"]}
    row = rows["q-o"]
    for duplicate in ("primary_metric", "primary_value", "overrides", "config_params", "path"):
        assert duplicate not in row, duplicate
    assert row["params"] == {"lr": 0.1, "epochs": 3}  # the configuration: parameters and the overrides applied
    assert row["config"] == "epochs=3, lr=0.1" and row["metrics"] == {"acc": 0.5}
    assert "ignored" not in row and "problem" not in row and "ignored_reason" not in row  # empty: left out
    assert len(json.dumps(row)) < 330


async def test_table_lists_a_runs_kept_files_and_overwritten_parameters(jp_fetch, record):
    exp, _ = record
    run = exp.start_run("full", run_id="f-a", params={"C": 1.0}, seed=0)
    (run.path / "artifacts").mkdir()
    (run.path / "artifacts" / "model.pt").write_bytes(b"weights")
    exp.finish_run(
        run,
        "completed",
        artifacts=[{"path": "artifacts/model.pt", "bytes": 7}],
        params_overwritten={"C": {"injected": 0.1, "used": 1.0}},
    )
    _, data = await get(jp_fetch, "experiments", "demo", "table")
    row = {r["run_id"]: r for r in data["runs"]}["f-a"]
    assert row["artifacts"] == ["artifacts/model.pt"] and row["config"] == "C=1.0"
    assert row["params_overwritten"] == {"C": {"injected": 0.1, "used": 1.0}}


async def test_an_unchanged_poll_gets_a_few_bytes_not_the_whole_answer(jp_fetch, record):
    exp, _ = record
    for parts in (("table",), ("runs",), ()):
        first = await jp_fetch(*API, "experiments", "demo", *parts)
        data = json.loads(first.body)
        stamp = data["stamp"]
        assert first.headers["Etag"] == f'"{stamp}"'
        again = await jp_fetch(*API, "experiments", "demo", *parts, params={"since": stamp})
        assert json.loads(again.body) == {"unchanged": True, "stamp": stamp}, parts
        other = await get(jp_fetch, "experiments", "demo", *parts, since="0123456789abcdef")
        assert other[1] == data  # a stamp from another answer: the whole answer
    add_run(exp, "full", 0.99, run_id="f-new")
    for parts in (("table",), ("runs",)):
        _, after = await get(jp_fetch, "experiments", "demo", *parts, since=stamp)
        assert "unchanged" not in after and "f-new" in {r["run_id"] for r in after["runs"]}, parts


async def test_run_detail_lists_files_logs_error_and_paths_to_open(jp_fetch, record, jp_root_dir):
    exp, _ = record
    run = exp.start_run("full", run_id="f-bad", params={"lr": 0.1}, seed=3)
    (run.path / "output.ipynb").write_text("{}")
    (run.path / "stdout.txt").write_text("epoch 1\n<b>not html</b>\n")
    exp.finish_run(run, "failed", error=ValueError("shapes do not match"))
    code, data = await get(jp_fetch, "experiments", "demo", "runs", "f-bad")
    assert code == 200
    assert data["run"]["status"] == "failed"
    assert data["error"]["name"] == "ValueError"
    assert data["error"]["message"] == "shapes do not match"
    names = {f["name"] for f in data["files"]}
    assert {"run.json", "output.ipynb", "stdout.txt"} <= names
    assert data["logs"]["stdout.txt"] == "epoch 1\n<b>not html</b>\n"
    assert data["open_paths"]["output.ipynb"] == "experiments/demo/full/f-bad/output.ipynb"
    assert data["manifest"]["run_id"] == "f-bad"


async def test_unknown_run_is_404(jp_fetch, record):
    code, data = await error(get(jp_fetch, "experiments", "demo", "runs", "nope"))
    assert code == 404 and "nope" in data["message"]


async def test_metrics_from_an_offset_serve_only_new_points(jp_fetch, record):
    exp, _ = record
    run = exp.start_run("full", run_id="f-live", params={"lr": 0.1}, seed=4)
    for step in range(3):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.close_metrics()
    code, first = await get(jp_fetch, "experiments", "demo", "runs", "f-live", "metrics")
    assert code == 200 and first["status"] == "running"
    assert [p[0] for p in first["series"]["loss"]] == [0, 1, 2]
    run.log_metric("loss", 0.2, step=3)
    run.close_metrics()
    code, second = await get(jp_fetch, "experiments", "demo", "runs", "f-live", "metrics", offset=first["next_offset"])
    assert second["series"] == {"loss": [[3, 0.2]]}
    assert second["offset"] == first["next_offset"]
    exp.finish_run(run, "completed")
    code, data = await error(get(jp_fetch, "experiments", "demo", "runs", "f-live", "metrics", offset="-1"))
    assert code == 400


async def test_a_long_curve_is_served_sampled_on_the_server_and_says_so(jp_fetch, record):
    """A run of 5,000 points asked for in 200: each metric comes back in at most 200 real points, its
    lowest and highest kept, with ``sampled`` and how many points it has in all; the tail goes on from there."""
    exp, _ = record
    run = exp.start_run("full", run_id="f-long", params={"lr": 0.1}, seed=5)
    values = [((step * 7919) % 1000) / 1000 for step in range(5000)]
    for step, v in enumerate(values):
        run.log_metric("loss", v, step=step)
    run.log_metric("loss", float("nan"), step=5000)
    run.close_metrics()
    code, data = await get(jp_fetch, "experiments", "demo", "runs", "f-long", "metrics", points="200")
    assert code == 200 and data["sampled"] and data["points"] == {"loss": 5000} and data["nonfinite"] == 1
    pts = data["series"]["loss"]
    assert 50 <= len(pts) <= 200 and all(values[s] == v for s, v in pts)
    assert min(v for _, v in pts) == min(values) and max(v for _, v in pts) == max(values)
    assert data["next_offset"] == data["size"]
    run.log_metric("loss", 0.5, step=5001)
    run.close_metrics()
    _, tail = await get(jp_fetch, "experiments", "demo", "runs", "f-long", "metrics", offset=data["next_offset"])
    assert tail["series"] == {"loss": [[5001, 0.5]]} and not tail["sampled"]
    exp.finish_run(run, "completed")
    for bad in ("1", "abc", str(10**6)):
        code, err = await error(get(jp_fetch, "experiments", "demo", "runs", "f-long", "metrics", points=bad))
        assert code == 400 and "points" in err["message"]


async def test_the_first_read_of_a_very_long_curve_is_an_approximate_sample_then_exact(jp_fetch, record, monkeypatch):
    """The first sampled read of a long file answers at once from evenly spaced parts of it, marked
    ``approximate`` (counts estimated); an answer after the server's exact read is exact."""
    from jupyter_mlexp.core.record import metric_curves

    monkeypatch.setattr(metric_curves, "EXACT_BYTES", 64 << 10)
    monkeypatch.setattr(metric_curves, "WINDOWS", 16)
    monkeypatch.setattr(metric_curves, "WINDOW", 2 << 10)
    exp, _ = record
    run = exp.start_run("full", run_id="f-huge", params={"lr": 0.1}, seed=6)
    for step in range(20_000):
        run.log_metric("loss", 1 / (step + 1), step=step)
    exp.finish_run(run, "completed")
    metric_curves._kept.clear()
    _, first = await get(jp_fetch, "experiments", "demo", "runs", "f-huge", "metrics", points="100")
    assert first["approximate"] and first["sampled"] and abs(first["points"]["loss"] - 20_000) < 2_000
    steps = [s for s, _ in first["series"]["loss"]]
    assert steps[0] == 0 and steps[-1] == 19_999 and all(v == 1 / (s + 1) for s, v in first["series"]["loss"])
    assert metric_curves.settle(timeout=60)
    _, exact = await get(jp_fetch, "experiments", "demo", "runs", "f-huge", "metrics", points="100")
    assert not exact["approximate"] and exact["points"] == {"loss": 20_000}


async def test_report_button_builds_report_ipynb(jp_fetch, record, jp_root_dir):
    r = await jp_fetch(*API, "experiments", "demo", "report", method="POST", body="{}")
    data = json.loads(r.body)
    assert r.code == 201
    assert data == {"report": "report.ipynb", "open_path": "experiments/demo/report.ipynb", "note": None}
    assert (jp_root_dir / "experiments" / "demo" / "report.ipynb").is_file()


async def test_report_button_refuses_over_hand_edits_until_force(jp_fetch, record, jp_root_dir):
    import nbformat

    await jp_fetch(*API, "experiments", "demo", "report", method="POST", body="{}")
    path = jp_root_dir / "experiments" / "demo" / "report.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[0].source += "\n\nmy own words"
    nbformat.write(nb, str(path))
    before = path.read_bytes()
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*API, "experiments", "demo", "report", method="POST", body="{}")
    assert info.value.code == 409
    assert "hand edits in generated cell(s) 1" in json.loads(info.value.response.body)["message"]
    assert path.read_bytes() == before
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*API, "experiments", "demo", "report", method="POST", body='{"force": "yes"}')
    assert info.value.code == 400
    r = await jp_fetch(*API, "experiments", "demo", "report", method="POST", body='{"force": true}')
    assert r.code == 201 and "report.ipynb.bak" in json.loads(r.body)["note"]
    assert path.with_name("report.ipynb.bak").read_bytes() == before


async def test_new_routes_need_the_token(jp_fetch, record, http_server_client, jp_base_url):
    for path in ("experiments/demo/table", "experiments/demo/runs/q-1", "experiments/demo/runs/q-1/metrics"):
        with pytest.raises(HTTPClientError) as info:
            await http_server_client.fetch(jp_base_url + "mlexp/api/" + path)
        assert info.value.code == 403, path


async def test_a_run_folder_linking_out_of_the_experiment_is_refused(jp_fetch, record, tmp_path):
    exp, _ = record
    outside = tmp_path / "elsewhere" / "f-out"
    outside.mkdir(parents=True)
    (outside / "run.json").write_text(json.dumps({"run_id": "f-out", "mode": "full", "status": "completed"}))
    (Experiment("demo", exp.base.parent).path / "full" / "f-out").symlink_to(outside)
    for tail in ((), ("metrics",)):
        code, data = await error(get(jp_fetch, "experiments", "demo", "runs", "f-out", *tail))
        assert code == 404, data


# -- the table's cache: a poll while nothing changed reads no run.json ------------------------------


def test_table_cache_answers_unchanged_polls_and_sees_every_change(tmp_path, monkeypatch):
    from jupyter_mlexp.frontdoors.server import run_views

    exp = Experiment("demo", tmp_path)
    exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc")
    done = exp.start_run("full", run_id="f-1", params={"lr": 0.1}, seed=1)
    done.log_metric("acc", 0.5)
    exp.finish_run(done, "completed")
    going = exp.start_run("full", run_id="f-2", params={"lr": 0.1}, seed=2)
    going.log_metric("acc", 0.1)
    going.save_progress()
    reads = []
    real_runs = Experiment.runs
    monkeypatch.setattr(Experiment, "runs", lambda self, *a, **k: reads.append(1) or real_runs(self, *a, **k))

    def table():
        return {r["run_id"]: r for r in run_views.runs_table(tmp_path, "demo")["runs"]}

    assert table()["f-2"]["metrics"] == {"acc": 0.1}
    assert table()["f-2"]["metrics"] == {"acc": 0.1}
    assert len(reads) == 1  # the second poll came from the cache

    time.sleep(0.01)
    going.log_metric("acc", 0.2)
    going.save_progress()  # a running run rewrites its run.json
    assert table()["f-2"]["metrics"] == {"acc": 0.2}
    exp.finish_run(going, "completed")
    assert table()["f-2"]["status"] == "completed"
    exp.ignore("f-1", "bad split")
    assert table()["f-1"]["ignored"]
    new = exp.start_run("quick", run_id="q-9", params={}, seed=0)
    assert "q-9" in table()
    exp.finish_run(new, "completed")
    table()
    n = len(reads)
    table()
    table()
    assert len(reads) == n


def test_one_read_of_the_runs_serves_the_sidebar_list_and_the_table(tmp_path, monkeypatch):
    from jupyter_mlexp.frontdoors.server import record_views as api
    from jupyter_mlexp.frontdoors.server import run_views

    exp = Experiment("demo", tmp_path)
    exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc")
    done = exp.start_run("full", run_id="f-1", params={"lr": 0.1}, seed=1)
    exp.finish_run(done, "completed")
    reads = []
    real_runs = Experiment.runs
    monkeypatch.setattr(Experiment, "runs", lambda self, *a, **k: reads.append(1) or real_runs(self, *a, **k))
    api.list_runs(tmp_path, "demo")
    run_views.runs_table(tmp_path, "demo")
    assert len(reads) == 1
    exp.ignore("f-1", "bad split")
    n = len(reads)
    assert run_views.runs_table(tmp_path, "demo")["runs"][0]["ignored"]
    assert api.list_runs(tmp_path, "demo")["runs"][0]["ignored"]
    assert len(reads) == n + 1


def test_table_cache_sees_a_running_run_whose_process_died(tmp_path):
    from jupyter_mlexp.frontdoors.server import run_views

    exp = Experiment("demo", tmp_path)
    exp.register("x improves y\nsuccess: acc >= 0.9\nmetrics: acc")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    run = exp.start_run("full", run_id="f-1", params={}, seed=1)
    manifest = json.loads((run.path / "run.json").read_text())
    manifest.pop("pid_start", None)  # newer records pin the process start time too
    (run.path / "run.json").write_text(json.dumps({**manifest, "pid": child.pid, "host": socket.gethostname()}))
    assert run_views.runs_table(tmp_path, "demo")["runs"][0]["status"] == "running"
    child.kill()
    child.wait()
    assert run_views.runs_table(tmp_path, "demo")["runs"][0]["status"] == "stale"


async def test_table_groups_count_runs_as_the_verdict_does(jp_fetch, workspace):
    """The grouped table's mean ± sd and counts are the server's, by the verdict's counting: a second run of
    a seed is a copy (not counted), a failed or ignored run does not count, and the numbers are the arm's."""
    from jupyter_mlexp.core.stats.verdict import judge_experiment

    exp = Experiment("demo")
    exp.register("Label smoothing improves accuracy\nsuccess: acc >= 0.8\nmetrics: acc\nseeds: 3\n")
    for run_id, seed, acc, status in (
        ("f-0", 0, 0.90, "completed"),
        ("f-1", 1, 0.86, "completed"),
        ("f-2", 2, 0.88, "completed"),
        ("f-3", 0, 0.99, "completed"),  # seed 0 again, another value: a copy the verdict does not count
        ("f-4", 3, 0.10, "failed"),
    ):
        run = exp.start_run("full", run_id=run_id, params={"lr": 0.1}, seed=seed)
        run.log_metric("acc", acc)
        exp.finish_run(run, status)
    _, table = await get(jp_fetch, "experiments", "demo", "table")
    assert "groups" not in table  # asked for apart, only when the table is grouped
    _, data = await get(jp_fetch, "experiments", "demo", "table", "groups")
    assert data["members"] == {}
    (group,) = data["groups"]
    assert group["config"] == "lr=0.1" and group["mode"] == "full"
    assert group["counted"] == ["f-0", "f-1", "f-2"] and group["duplicates"] == ["f-3"]
    arm = next(a for a in judge_experiment(exp).candidates if a.config == "lr=0.1")
    assert group["metrics"]["acc"] == {"mean": arm.mean, "sd": arm.sd, "n": 3}
    assert group["metrics"]["acc"]["mean"] == pytest.approx(0.88)
