"""``GET /mlexp/api/class``: a collected class read-only for the class view, and the course in the sidebar's detail."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from jupyter_mlexp.classroom.audit import scrub
from jupyter_mlexp.classroom.class_report import build, table_rows
from jupyter_mlexp.classroom.collect import collect
from jupyter_mlexp.frontdoors.server import class_handlers
from tests.classroom.students import Clock, build_student

from .test_handlers import error, get

REPO = Path(__file__).resolve().parents[2]
CASES = ("proper", "loosened", "ignored", "quickonly", "reordered", "reused", "offcourse")


@pytest.fixture
def klass(jp_root_dir, tmp_path, monkeypatch):
    """Seven students (one per case) in a shared course folder outside the server root, collected into
    ``ml101-class`` under it with the course file."""
    Clock(monkeypatch)
    monkeypatch.delenv("MLEXP_COURSE", raising=False)
    for case in CASES:
        build_student(tmp_path / "build" / case, case)
        shutil.copytree(tmp_path / "build" / case / "experiments", tmp_path / "shared" / case / "experiments")
    out = jp_root_dir / "teaching" / "ml101-class"
    out.mkdir(parents=True)
    (out / "course.yaml").write_text("course: ml101\nmetric: val_acc\nseeds: 3\nbaseline: lr=0.1\n")
    collect([str(tmp_path / "shared")], out)
    class_handlers._KEPT.clear()
    return out


async def test_the_class_view_is_the_class_report_s_table_with_its_flags(jp_fetch, klass, tmp_path):
    code, data = await get(jp_fetch, "class", dir="teaching/ml101-class")
    assert code == 200 and data["dir"] == "teaching/ml101-class"
    assert data["collection"] == 1 and data["students"] == len(CASES) and data["course"]["metric"] == "val_acc"
    rows = {r["student"]: r for r in data["rows"]}
    assert set(rows) == set(CASES)
    # the same function as `mlexp class report`: verdict, n and flags row for row
    audits, _, _ = build(klass)
    for want in table_rows(audits):
        got = rows[want["student"]]
        assert (got["verdict"], got["n"], "; ".join(got["flags"])) == (want["verdict"], scrub(want["n"]), want["flags"])
    assert rows["proper"]["flags"] == [] and rows["proper"]["verified"] and rows["proper"]["verdict"] == "supported"
    assert rows["proper"]["n"].endswith("n=3")
    assert "changed after runs" in rows["loosened"]["flags"] and "loosened" in rows["loosened"]["changed_after_runs"][0]
    assert "ignored run changes verdict" in rows["ignored"]["flags"]
    assert rows["ignored"]["ignored"] == [
        {"run_id": rows["ignored"]["ignored"][0]["run_id"], "reason": "looked like a bad GPU"}
    ]
    assert "no full runs" in rows["quickonly"]["flags"] and rows["quickonly"]["runs"]["full"] == 0
    assert "record altered" in rows["reordered"]["flags"] and not rows["reordered"]["verified"]
    assert any("entries were moved" in f for f in rows["reordered"]["findings"])
    assert "reused exploration seeds" in rows["reused"]["flags"] and rows["reused"]["reused_seeds"]
    assert "contradicts course" in rows["offcourse"]["flags"] and "locked to val_acc" in rows["offcourse"]["course"][0]
    assert data["flags"]["record altered"] == 1 and sum(data["verdicts"].values()) == len(CASES)
    # no path from the machine: not the server root, not the students' folders, no home folder
    body = json.dumps(data)
    assert str(tmp_path) not in body and str(klass) not in body and "/home/" not in body


async def test_the_answer_is_kept_until_a_new_collection(jp_fetch, klass, tmp_path, monkeypatch):
    _, first = await get(jp_fetch, "class", dir="teaching/ml101-class")
    calls = []
    real = class_handlers.view.class_view
    monkeypatch.setattr(class_handlers.view, "class_view", lambda out: calls.append(out) or real(out))
    _, again = await get(jp_fetch, "class", dir="teaching/ml101-class")
    assert again == first and calls == []  # kept: nothing re-read
    collect([str(tmp_path / "shared")], klass)
    _, later = await get(jp_fetch, "class", dir="teaching/ml101-class")
    assert len(calls) == 1 and later["collection"] == 2 and later["snapshots"] == 2


async def test_class_workspaces_under_the_root_are_listed(jp_fetch, klass):
    code, data = await get(jp_fetch, "class")
    assert code == 200 and data["workspaces"] == ["teaching/ml101-class"]


@pytest.mark.parametrize("where", ["..", "../..", "teaching/../../x", "/../.."])
async def test_a_folder_outside_the_server_root_is_refused(jp_fetch, klass, where):
    code, data = await error(get(jp_fetch, "class", dir=where))
    assert code == 404 and "not inside the server's root" in data["message"]


async def test_a_symlink_out_of_the_root_is_refused(jp_fetch, klass, jp_root_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.copytree(klass, outside)
    (jp_root_dir / "link").symlink_to(outside)
    code, data = await error(get(jp_fetch, "class", dir="link"))
    assert code == 404 and "not inside the server's root" in data["message"]


async def test_a_nul_byte_in_the_folder_is_a_one_line_answer(jp_fetch, klass):
    code, data = await error(get(jp_fetch, "class", dir="teaching\x00x"))
    assert code in (400, 404) and "teaching" in data["message"]


def test_the_search_for_class_workspaces_is_bounded(tmp_path, monkeypatch):
    from jupyter_mlexp.classroom import class_view

    for i in range(30):
        (tmp_path / f"p{i:02d}" / "snapshots" / "0001").mkdir(parents=True)
        (tmp_path / f"p{i:02d}" / "snapshots" / "0001" / "collection.json").write_text("{}")
    (tmp_path / ".hidden" / "snapshots" / "0001").mkdir(parents=True)
    (tmp_path / ".hidden" / "snapshots" / "0001" / "collection.json").write_text("{}")
    assert len(class_view.find_class_workspaces(tmp_path)) == 30
    monkeypatch.setattr(class_view, "MAX_VISITED", 11)  # the root and ten folders
    assert class_view.find_class_workspaces(tmp_path) == [f"p{i:02d}" for i in range(10)]


async def test_a_folder_that_is_no_class_workspace_says_how_to_make_one(jp_fetch, klass):
    code, data = await error(get(jp_fetch, "class", dir="teaching"))
    assert code == 404 and "mlexp class collect SOURCE... --out teaching" in data["message"]


# -- the student's side: the course's locked fields in the experiment detail -----------------------


async def test_the_detail_carries_the_course_in_force(jp_fetch, record, jp_root_dir, monkeypatch):
    monkeypatch.delenv("MLEXP_COURSE", raising=False)
    _, data = await get(jp_fetch, "experiments", "demo")
    assert data["course"] is None
    (jp_root_dir / "course.yaml").write_text("course: ml101\nmetric: acc\nseeds: 3\nbaseline: lr=0.1\nbudget: 60\n")
    _, data = await get(jp_fetch, "experiments", "demo")
    course = data["course"]
    assert {k: course[k] for k in ("course", "metric", "seeds", "baseline", "budget", "file")} == {
        "course": "ml101",
        "metric": "acc",
        "seeds": 3,
        "baseline": "lr=0.1",
        "budget": 60.0,
        "file": "course.yaml",
    }
    # a changed course file shows at the next poll (the kept answer is keyed by the file's hash)
    (jp_root_dir / "course.yaml").write_text("course: ml101\nmetric: acc\nseeds: 5\n")
    _, data = await get(jp_fetch, "experiments", "demo")
    assert data["course"]["seeds"] == 5 and "baseline" not in data["course"]
    (jp_root_dir / "course.yaml").write_text("metric: [unclosed\n")
    _, data = await get(jp_fetch, "experiments", "demo")
    assert "not valid YAML" in data["course"]["error"] and str(jp_root_dir) not in data["course"]["error"]


def _ts_fields(interface: str, text: str) -> set[str]:
    body = re.search(r"export interface " + interface + r"[^{]*\{(.*?)\n\}", text, re.S)
    assert body, f"labextension/src/classview/tokens.ts no longer has {interface}"
    return set(re.findall(r"^  (\w+)\??:", body.group(1), re.M))


def test_the_frontend_s_types_name_the_server_s_fields(klass):
    """labextension/src/classview/tokens.ts mirrors the answer: a field renamed on one side fails here."""
    from jupyter_mlexp.classroom.class_view import class_view

    tokens = (REPO / "labextension" / "src" / "classview" / "tokens.ts").read_text()
    data = class_view(klass)
    assert _ts_fields("IClassAnswer", tokens) == set(data) | {"dir"}
    assert _ts_fields("IClassRow", tokens) == set(data["rows"][0])
