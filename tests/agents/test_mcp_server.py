"""``mlexp mcp`` end to end: a real MCP session (the SDK's stdio client, the server a subprocess),
a real script and notebook run as runs, the answers compared with ``mlexp status/runs --json``."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import anyio
import nbformat
import pytest
from mcp_client import call, session
from nbformat.v4 import new_code_cell, new_notebook

from jupyter_mlexp.frontdoors.cli import main

pytestmark = pytest.mark.slow

TRAIN = textwrap.dedent("""
    import os, random
    seed = int(os.environ.get("MLEXP_SEED", "0"))
    print("epoch 1 loss 0.4")
    print(f"val_acc: {0.95 + 0.01 * random.Random(seed).random():.5f}")
""")
# a script with a child process of its own, both waiting long: what a cancel must put down
SLOW = textwrap.dedent("""
    import os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open("pids.tmp", "w") as fh:
        fh.write(f"{os.getpid()} {child.pid}")
    os.replace("pids.tmp", "pids.txt")
    time.sleep(300)
""")
READ_TOOLS = {"hypothesis_show", "runs", "run_show", "verdict", "journal", "loop_status"}
WRITE_TOOLS = {
    "hypothesis_register",
    "run",
    "run_start",
    "run_status",
    "run_cancel",
    "journal_add",
    "ignore_run",
    "report",
    "loop_start",
    "loop_try",
}
HYP = {"name": "acc", "statement": "The tiny model reaches 0.9 accuracy.", "success": "val_acc >= 0.9"}


def cli_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


async def wait_for(predicate, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        await anyio.sleep(0.1)


def notebook(path: Path) -> str:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    params = new_code_cell("seed = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell("print(f'val_acc: {0.97 + seed / 1000:.4f}')")]
    nbformat.write(nb, str(path))
    return path.name


async def all_pages(s, tool: str, key: str, **arguments) -> list[dict]:
    out, offset = [], 0
    while True:
        a = await call(s, tool, **arguments, offset=offset)
        assert not a.error, a.text
        out += a.data[key]
        page = a.data["page"]
        if "next" not in page:
            assert len(out) == page["total"]
            return out
        assert f"offset={offset + page['shown']}" in page["next"]
        offset += page["shown"]


def test_an_agent_registers_runs_reads_and_is_held_to_the_protocol(workspace, capsys):
    root = Path(workspace)
    (root / "train.py").write_text(TRAIN)
    (root / "slow.py").write_text(SLOW)
    nb = notebook(root / "tiny.ipynb")

    async def scenario() -> None:
        async with session(root) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert set(tools) == READ_TOOLS | WRITE_TOOLS
            run_schema = tools["run"].input_schema
            assert {"notebook", "command", "mode", "seeds", "grid", "budget"} <= set(run_schema["properties"])
            assert "ctx" not in run_schema["properties"]
            assert {"name", "statement", "success", "metrics"} <= set(
                tools["hypothesis_register"].input_schema["required"]
            )
            assert {"run_id", "reason"} <= set(tools["ignore_run"].input_schema["required"])
            assert "%%" not in json.dumps([t.description for t in tools.values()])

            # the gate: nothing runs before a hypothesis, and the refusal names the next call
            refused = await call(s, "run", command=[sys.executable, "train.py"])
            assert refused.error and "call hypothesis_register" in refused.text, refused.text
            assert "%%hypothesis" not in refused.text and "mlexp hypothesis" not in refused.text

            reg = await call(s, "hypothesis_register", **HYP, metrics="val_acc")
            assert not reg.error and reg.data["state"] == "registered" and reg.data["version"] == 1, reg.text

            # confined: a path outside the workspace is refused
            outside = await call(s, "run", command=[sys.executable, "/etc/hostname"])
            assert outside.error and "outside the workspace" in outside.text
            outside = await call(s, "run", notebook="../elsewhere.ipynb")
            assert outside.error and "outside the workspace" in outside.text

            progress: list = []
            quick = await call(s, "run", progress, command=[sys.executable, "train.py"], mode="quick")
            assert not quick.error, quick.text
            assert [r["status"] for r in quick.data["runs"]] == ["completed"] and len(progress) >= 1
            assert "full" in quick.data["next"]

            progress = []
            full = await call(s, "run", progress, command=[sys.executable, "train.py"], mode="full", seeds=[0, 1, 2])
            assert not full.error, full.text
            assert [r["seed"] for r in full.data["runs"]] == [0, 1, 2]
            assert len(progress) >= 3 and progress[-1][0] == 3 and progress[-1][1] == 3, progress
            assert all(r["primary_value"] > 0.9 for r in full.data["runs"])

            progress = []
            nb_run = await call(s, "run", progress, notebook=nb, mode="quick")
            assert not nb_run.error, nb_run.text
            assert nb_run.data["runs"][0]["status"] == "completed" and len(progress) >= 1

            # the same record as the CLI reads it: runs across pages, the verdict, its n and means
            paged = await all_pages(s, "runs", "runs", limit=2)
            cli_runs = cli_json(capsys, "runs", "acc", "--json")
            assert paged == cli_runs["runs"] and len(paged) == 5
            status = cli_json(capsys, "status", "acc", "--json")["verdict"]
            v = await call(s, "verdict")
            assert v.data["decision"] == status["decision"] and v.data["n_per_arm"] == status["n_per_arm"]
            cli_means = {c["configuration"]: (c["n"], c["mean"]) for c in status["candidates"]}
            assert {c["configuration"]: (c["n"], c["mean"]) for c in v.data["candidates"]} == cli_means
            grouped = await call(s, "runs", group_by_config=True, mode="full")
            assert [(g["configuration"], g["n"], g["mean"]) for g in grouped.data["groups"]] == [
                (k, n, m) for k, (n, m) in cli_means.items()
            ]
            assert grouped.data["verdict"]["decision"] == status["decision"]

            one = await call(s, "run_show", run_id=paged[0]["run_id"])
            assert not one.error and "val_acc" in one.data["log"]["tail"]
            assert one.data["metrics"]["val_acc"]["last"] == paged[0]["primary_value"]

            # the criterion is fixed once there are runs: a change needs a reason, and is recorded as one
            changed = {**HYP, "success": "val_acc >= 0.99"}
            no_reason = await call(s, "hypothesis_register", **changed, metrics="val_acc")
            assert no_reason.error and "reason=" in no_reason.text and "call hypothesis_register" in no_reason.text
            assert "%%hypothesis" not in no_reason.text and "--reason" not in no_reason.text
            with_reason = await call(
                s, "hypothesis_register", **changed, metrics="val_acc", reason="the task is easier"
            )
            assert with_reason.data["state"] == "changed" and with_reason.data["version"] == 2
            assert any("success" in c for c in with_reason.data["changes"]), with_reason.data
            assert (await call(s, "hypothesis_show")).data["hypothesis"]["success"] == "val_acc >= 0.99"

            no_why = await call(s, "ignore_run", run_id=paged[0]["run_id"], reason="  ")
            assert no_why.error and "reason" in no_why.text
            assert (await s.call_tool("ignore_run", {"run_id": paged[0]["run_id"]})).is_error
            ok = await call(s, "ignore_run", run_id=paged[0]["run_id"], reason="quick run of a draft")
            assert not ok.error
            assert (await call(s, "runs", status="completed", include_ignored=False)).data["page"]["total"] == 4

            added = await call(s, "journal_add", text="seed 2 is slower", tags=["WEIRD"])
            assert not added.error
            assert (await call(s, "journal", tag="WEIRD")).data["entries"][0]["text"] == "seed 2 is slower"

            # a client that cancels its call stops the run and its whole process tree
            pids_file = root / "pids.txt"
            async with anyio.create_task_group() as tg:

                async def slow_run() -> None:
                    await s.call_tool("run", {"command": [sys.executable, "slow.py"]})

                tg.start_soon(slow_run)
                await wait_for(pids_file.exists, "the slow script to start its child")
                tg.cancel_scope.cancel()
            pids = [int(p) for p in pids_file.read_text().split()]
            await wait_for(lambda: not any(map(alive, pids)), "the cancelled run's processes to end")
            await wait_for(
                lambda: any(r["status"] == "interrupted" for r in cli_json(capsys, "runs", "acc", "--json")["runs"]),
                "the cancelled run to be recorded interrupted",
            )

            # the same through run_start / run_status / run_cancel
            pids_file.unlink()
            job = await call(s, "run_start", command=[sys.executable, "slow.py"])
            assert not job.error and job.data["state"] == "running", job.text
            await wait_for(pids_file.exists, "the started job's script")
            assert (await call(s, "run_status", job=job.data["job"])).data["state"] == "running"
            stopped = await call(s, "run_cancel", job=job.data["job"])
            assert stopped.data["state"] == "cancelled"
            assert not any(map(alive, [int(p) for p in pids_file.read_text().split()]))

            # resources and the prompt
            uris = {str(t.uri_template) for t in (await s.list_resource_templates()).resource_templates}
            assert "mlexp://experiments/{name}/results.tsv" in uris
            tsv = await s.read_resource("mlexp://experiments/acc/results.tsv")
            assert tsv.contents[0].text.startswith("run_id\t")
            prompt = await s.get_prompt("protocol")
            assert "hypothesis_register" in prompt.messages[0].content.text

            built = await call(s, "report")
            assert not built.error and built.data["report"] == "experiments/acc/report.ipynb", built.text
            assert (root / built.data["report"]).exists()

    anyio.run(scenario)


def test_read_only_offers_only_the_reading_tools(workspace):
    root = Path(workspace)

    async def scenario() -> None:
        async with session(root, "--read-only") as s:
            names = {t.name for t in (await s.list_tools()).tools}
            assert names == READ_TOOLS
            refused = await s.call_tool("hypothesis_register", {**HYP, "metrics": "val_acc"})
            assert refused.is_error
            nothing = await call(s, "runs")
            assert nothing.error and "call hypothesis_register" in nothing.text, nothing.text

    anyio.run(scenario)
    assert not (root / "experiments" / "acc").exists()


def test_a_long_list_is_paged_within_the_bound_and_stays_json():
    from jupyter_mlexp.frontdoors.mcp.answers import dumps, fit

    rows = [{"run_id": f"r{i}", "note": "x" * 90} for i in range(100)]
    out = fit({"runs": rows}, items="runs", limit=100, tool="runs", args={"experiment": "e"})
    text = dumps(out)
    assert len(text) <= 2000 and json.loads(text) == out
    assert 0 < out["page"]["shown"] < 100 and out["page"]["total"] == 100
    assert out["page"]["next"].startswith(f'call runs(experiment="e", offset={out["page"]["shown"]})')
    huge = fit({"log": "y" * 50_000, "runs": [{"t": "z" * 5000}]}, items="runs")
    assert len(dumps(huge)) <= 2000 and "cut" in huge


def test_the_core_s_advice_becomes_a_tool_call_in_one_place(workspace):
    from jupyter_mlexp.core.errors import HypothesisError, MlexpError, NoHypothesisError
    from jupyter_mlexp.core.experiment import Experiment
    from jupyter_mlexp.frontdoors.mcp.answers import next_step

    with pytest.raises(NoHypothesisError) as gate:
        _ = Experiment("x").hypothesis
    said = next_step(str(gate.value))
    assert "call hypothesis_register with name='x'" in said and "%%" not in said and "mlexp " not in said
    reason = HypothesisError(
        "changing it needs a reason (changed: success); add a line 'reason: WHY' to the %%hypothesis cell, "
        "or pass --reason WHY to `mlexp hypothesis`; nothing was re-registered"
    )
    assert "call hypothesis_register again with the same fields and reason='WHY'" in next_step(str(reason))
    with pytest.raises(MlexpError) as missing:
        Experiment("x").require()
    assert "call hypothesis_register with name='x'" in next_step(str(missing.value))
    from jupyter_mlexp.core.record.idea_files import FIX

    assert next_step(FIX) == "call hypothesis_register with the intended fields and a reason"
    for said in (next_step(str(gate.value)), next_step(str(reason)), next_step(str(missing.value))):
        assert "%%hypothesis" not in said and "mlexp hypothesis" not in said and "--reason" not in said


def test_a_confirmation_on_fresh_seeds_through_the_tools(workspace):
    """run(fresh_seeds=N) runs N seed values the configuration never ran, as mlexp run --seeds fresh:N does."""
    root = Path(workspace)
    (root / "train.py").write_text(TRAIN)

    async def scenario() -> None:
        async with session(root) as s:
            await call(s, "hypothesis_register", **HYP, metrics="val_acc")
            first = await call(s, "run", command=[sys.executable, "train.py"], mode="full", seeds=[0, 1, 2])
            assert not first.error, first.text
            fresh = await call(s, "run", command=[sys.executable, "train.py"], mode="full", fresh_seeds=2)
            assert not fresh.error, fresh.text
            both = await call(s, "run", command=[sys.executable, "train.py"], seeds=[0], fresh_seeds=1)
            assert both.error and "not both" in both.text

    anyio.run(scenario)
    seeds = sorted(
        json.loads(p.read_text())["seed"] for p in (root / "experiments" / "acc" / "full").glob("*/run.json")
    )
    assert seeds == [0, 1, 2, 3, 4]
