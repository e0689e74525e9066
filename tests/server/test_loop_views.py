"""The loops endpoint: attempts in order with status, metric, decision and running best; an attempt's diff."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlexp.loop.loop_state import CRASH, DISCARD, KEEP, Attempt, LoopFiles, LoopState, Settings

API = ("mlexp", "api")


def write_loop(exp) -> LoopFiles:
    files = LoopFiles(exp.path, "tune")
    attempts = [
        Attempt(0, "baseline", "c0", "", status=KEEP, reason="the baseline", values=[0.70, 0.72], seeds=[0, 1]),
        Attempt(1, "wider layers", "c1", "c0", status=KEEP, reason="better by 0.05", values=[0.76, 0.78]),
        Attempt(2, "dropout 0.5", "c2", "c1", status=DISCARD, reason="no better (p = 0.4)", values=[0.75, 0.77]),
        Attempt(3, "bad import", "c3", "c1", status=CRASH, reason="ImportError"),
    ]
    files.path.mkdir(parents=True)
    files.save(LoopState(Settings("tune", exp.name, "acc", True, [0, 1]), attempts))
    (files.path / "attempts").mkdir()
    files.patch(1).write_text("--- a/train.py\n+++ b/train.py\n-width = 64\n+width = 128\n")
    return files


async def test_loops_list_attempts_in_order_with_the_running_best(jp_fetch, record):
    exp, _ = record
    write_loop(exp)
    r = await jp_fetch(*API, "experiments", "demo", "loops")
    data = json.loads(r.body)
    (loop,) = data["loops"]
    assert loop["tag"] == "tune" and loop["metric"] == "acc"
    rows = loop["attempts_list"]
    assert [a["attempt"] for a in rows] == [0, 1, 2, 3]
    assert [a["status"] for a in rows] == [KEEP, KEEP, DISCARD, CRASH]
    assert rows[2]["reason"] == "no better (p = 0.4)"
    assert rows[1]["metric"] == pytest.approx(0.77)
    assert [a["running_best"] for a in rows] == pytest.approx([0.71, 0.77, 0.77, 0.77])
    assert [a["has_patch"] for a in rows] == [False, True, False, False]


async def test_attempt_patch_and_its_errors(jp_fetch, record):
    exp, _ = record
    write_loop(exp)
    r = await jp_fetch(*API, "experiments", "demo", "loops", "tune", "attempts", "1", "patch")
    data = json.loads(r.body)
    assert data["patch"].startswith("--- a/train.py") and not data["truncated"]
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*API, "experiments", "demo", "loops", "tune", "attempts", "0", "patch")
    assert info.value.code == 422
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*API, "experiments", "demo", "loops", "..", "attempts", "1", "patch")
    assert info.value.code in (400, 404)


async def test_no_loops_is_an_empty_list(jp_fetch, record):
    r = await jp_fetch(*API, "experiments", "demo", "loops")
    assert json.loads(r.body)["loops"] == []


async def test_loops_answer_is_stamped_and_unchanged_while_no_loop_file_changes(jp_fetch, record):
    """The sidebar polls the loops as it polls the runs: ``?since=STAMP`` gets a few bytes while nothing changed."""
    exp, _ = record
    r = await jp_fetch(*API, "experiments", "demo", "loops")
    empty = json.loads(r.body)["stamp"]
    files = write_loop(exp)  # a loop appears: a new answer
    first = json.loads((await jp_fetch(*API, "experiments", "demo", "loops", params={"since": empty})).body)
    assert first["stamp"] != empty and [lp["tag"] for lp in first["loops"]] == ["tune"]
    again = json.loads((await jp_fetch(*API, "experiments", "demo", "loops", params={"since": first["stamp"]})).body)
    assert again == {"unchanged": True, "stamp": first["stamp"]}
    state = files.load()  # an attempt is recorded: the answer changes
    state.attempts.append(Attempt(4, "lr 0.2", "c4", "c1", status=DISCARD, reason="no better", values=[0.7, 0.7]))
    files.save(state)
    files.patch(4).write_text("-lr = 0.1\n+lr = 0.2\n")
    later = json.loads((await jp_fetch(*API, "experiments", "demo", "loops", params={"since": first["stamp"]})).body)
    assert later["stamp"] != first["stamp"]
    assert [a["attempt"] for a in later["loops"][0]["attempts_list"]] == [0, 1, 2, 3, 4]
    assert later["loops"][0]["attempts_list"][4]["has_patch"] is True
