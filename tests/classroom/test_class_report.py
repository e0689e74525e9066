"""``mlexp class report``: each case a course grades, stated from the one verdict and the verified log."""

from __future__ import annotations

import csv
import json
import shutil

import nbformat
import pytest

from jupyter_mlexp.classroom.class_report import build, write_class_report
from jupyter_mlexp.classroom.collect import collect
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.frontdoors.cli import main
from tests.classroom.students import CASES, Clock, build_student

STAMP = "2026-11-21 10:00:00.000000 UTC"


# Thirty students: one of each case under the case's name, and more of the common cases (``proper2``, ...),
# each extra in the next of the layouts in turn
EXTRA = {"proper": 7, "loosened": 4, "ignored": 4, "quickonly": 3, "reused": 4}
STUDENTS = len(CASES) + sum(EXTRA.values())


def _place(tmp, layout: str, name: str):
    return {
        "homes": tmp / "home" / name / "ml101",
        "nbgrader": tmp / "exchange" / "ml101" / "inbound" / f"{name}+a1+{STAMP}",
        "submitted": tmp / "course" / "submitted" / name / "a1",
        "shared": tmp / "shared" / name,
    }[layout]


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """Thirty students (each case at least once), spread over the three layouts, collected and reported once."""
    mp = pytest.MonkeyPatch()
    Clock(mp)
    mp.delenv("MLEXP_ROOT", raising=False)
    mp.delenv("MLEXP_COURSE", raising=False)
    tmp = tmp_path_factory.mktemp("klass")
    built = {}
    for case in CASES:
        root = tmp / "build" / case
        built[case] = build_student(root, case)
    places = {
        "proper": tmp / "home" / "proper" / "ml101",
        "loosened": tmp / "home" / "loosened" / "ml101",
        "ignored": tmp / "exchange" / "ml101" / "inbound" / f"ignored+a1+{STAMP}",
        "quickonly": tmp / "exchange" / "ml101" / "inbound" / f"quickonly+a1+{STAMP}",
        "reordered": tmp / "course" / "submitted" / "reordered" / "a1",
        "recomputed": tmp / "shared" / "recomputed",
        "offcourse": tmp / "shared" / "offcourse",
        "reused": tmp / "shared" / "reused",
    }
    for case, place in places.items():
        shutil.copytree(tmp / "build" / case / "experiments", place / "experiments")
    extras, turn = {}, 0
    for case, n in EXTRA.items():
        for k in range(2, n + 2):
            name = f"{case}{k}"
            build_student(tmp / "build" / name, case)
            layout = ("homes", "nbgrader", "submitted", "shared")[turn % 4]
            turn += 1
            shutil.copytree(tmp / "build" / name / "experiments", _place(tmp, layout, name) / "experiments")
            extras[name] = (case, layout)
    (tmp / "class").mkdir()
    (tmp / "class" / "course.yaml").write_text("course: ml101\nmetric: val_acc\nseeds: 3\nbaseline: lr=0.1\n")
    sources = [
        str(tmp / "home" / "*" / "ml101"),
        str(tmp / "exchange" / "ml101"),
        str(tmp / "course"),
        str(tmp / "shared"),
    ]
    c = collect(sources, tmp / "class")
    written = write_class_report(tmp / "class", html=True)
    audits, _, _ = build(tmp / "class")
    yield {
        "tmp": tmp,
        "built": built,
        "extras": extras,
        "collection": c,
        "written": written,
        "audits": {a.student: a for a in audits},
    }
    mp.undo()


def test_every_case_is_collected_from_its_layout(klass):
    layouts = {k: v["layout"] for k, v in klass["collection"].students.items()}
    assert len(layouts) == STUDENTS == 30
    assert {k: layouts[k] for k, (_, layout) in klass["extras"].items()} == {
        k: layout for k, (_, layout) in klass["extras"].items()
    }
    assert {k: layouts[k] for k in CASES} == {
        "proper": "homes",
        "loosened": "homes",
        "ignored": "nbgrader",
        "quickonly": "nbgrader",
        "reordered": "submitted",
        "recomputed": "shared",
        "offcourse": "shared",
        "reused": "shared",
    }


def test_the_verdict_is_the_one_engine_s_verdict(klass):
    for case, exp in klass["built"].items():
        assert klass["audits"][case].verdict.to_dict() == judge_experiment(exp).to_dict() or case in (
            "reordered",
            "recomputed",
        ), case


def test_the_cases_are_stated(klass):
    a = klass["audits"]
    assert a["proper"].verdict.decision == "supported" and a["proper"].flags() == []
    assert a["proper"].verification.ok and a["proper"].runs == {
        "quick": 1,
        "full": 3,
        "failed": 0,
        "ignored": 0,
        "all": 4,
    }
    loose = a["loosened"]
    assert "changed after runs" in loose.flags() and "loosened" in loose.changed_after_runs[0]
    assert "after 3 runs" in loose.changed_after_runs[0] and "0.99 was too ambitious" in loose.changed_after_runs[0]
    assert loose.verdict_first_version.decision != "supported"  # the first version's 0.99 is not met
    ign = a["ignored"]
    # supported only without the run ignored after its value was seen: the verdict says so (inconclusive)
    assert ign.verdict.decision == "inconclusive" and ign.verdict.decided_by_ignoring
    assert ign.verdict_with_ignored.decision != "supported"
    assert "ignored run changes verdict" in ign.flags() and ign.ignored[0][1] == "looked like a bad GPU"
    assert ign.tags["WEIRD"] == 1
    q = a["quickonly"]
    assert "no full runs" in q.flags() and q.runs["failed"] == 1 and "no full run counts yet" in q.verdict.reason
    # quick runs alone decide nothing: inconclusive, with what they suggest (0.95, 0.96, 0.97 against 0.9)
    assert q.verdict.decision == "inconclusive" and (q.verdict.quick_suggests or {})["decision"] == "supported"
    assert "record altered" in a["reordered"].flags()
    assert any("entries were moved" in f.text for f in a["reordered"].verification.broken)
    rec = a["recomputed"]
    assert "record altered" in rec.flags() and not rec.changed_after_runs  # the forged log hides the change...
    assert any("chain recomputed" in f.text for f in rec.verification.broken)  # ...the anchors do not
    assert a["offcourse"].course and "the metric is locked to val_acc" in a["offcourse"].course[0]
    assert "contradicts course" in a["offcourse"].flags()
    reuse = a["reused"]
    assert reuse.verdict.decision == "inconclusive" and "not confirmatory" in reuse.verdict.reason
    # naming the treatment after the exploration is a change after runs; its seeds re-run are the flag here
    assert reuse.flags() == ["changed after runs", "reused exploration seeds"] and reuse.reused_seeds == [
        "lr=0.1 [full]: seed 0, 1, 2"
    ]
    assert all("reused exploration seeds" not in x.flags() for k, x in a.items() if k.rstrip("0123456789") != "reused")
    assert all(not x.course for k, x in a.items() if k.rstrip("0123456789") != "offcourse")


def test_every_student_of_a_case_is_stated_as_the_case(klass):
    a = klass["audits"]
    assert len(a) == 30
    for name, (case, _) in klass["extras"].items():
        assert (a[name].verdict.decision, a[name].flags()) == (a[case].verdict.decision, a[case].flags()), name


def test_the_notebook_csv_and_html_state_it_and_cite_files_with_no_absolute_path(klass):
    tmp = klass["tmp"]
    nb = nbformat.read(tmp / "class" / "class_report.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert (
        "## Verdicts across the class\n\n- inconclusive: 14\n- supported: 16" in text and "- record altered: 2" in text
    )
    assert "### loosened" in text and "⚠ Changed after runs: criterion loosened" in text
    assert "With the ignored runs counted: **" in text and "**different**" in text
    assert "- entry 1: registered v1: success val_acc >= 0.99" in text
    assert "updated to v2" in text and "reason: 0.99 was too ambitious" in text
    assert "full runs started, 3 full runs completed" in text  # a stretch of runs, one line
    assert "Under the first version the verdict would read: **" in text
    assert "⚠ Reused exploration seeds: lr=0.1 [full\\]: seed 0, 1, 2 ran before the treatment" in text
    assert "NOT verified" in text and "snapshots/0001/students/reordered/experiments/warmup/research_log.jsonl" in text
    html = (tmp / "class" / "class_report.html").read_text()
    for body in (text, html, (tmp / "class" / "class_table.csv").read_text()):
        assert str(tmp) not in body and "/home/" not in body and "/tmp/" not in body
    rows = {r["student"]: r for r in csv.DictReader(open(tmp / "class" / "class_table.csv"))}
    assert rows["proper"]["verdict"] == "supported" and rows["proper"]["verified"] == "yes"
    assert rows["ignored"]["verdict_with_ignored"] != "supported" and rows["ignored"]["runs_ignored"] == "1"
    assert rows["reordered"]["verified"] == "no" and rows["offcourse"]["course"] == "contradicts"
    assert rows["quickonly"]["runs_full"] == "0"
    assert rows["proper"]["source"] == "snapshots/0001/students/proper/experiments/warmup/"


def test_mlexp_class_report_from_the_command_line(klass, capsys):
    assert main(["class", "report", str(klass["tmp"] / "class"), "--no-html"]) == 0
    assert "class_table.csv" in capsys.readouterr().out


def test_a_recomputed_chain_after_the_last_collection_is_caught_by_the_collection_s_head(klass, tmp_path):
    out = tmp_path / "class"
    shutil.copytree(klass["tmp"] / "class" / "snapshots", out / "snapshots")
    snap = out / "snapshots" / "0001" / "students" / "proper"
    # a later collection where the log's last entry was changed and the chain recomputed
    later = out / "snapshots" / "0002"
    shutil.copytree(out / "snapshots" / "0001", later)
    log = later / "students" / "proper" / "experiments" / "warmup" / "research_log.jsonl"
    lines = log.read_text().splitlines()
    rec = json.loads(lines[-1])
    rec["tags"] = ["SUCCESS"]
    lines[-1] = json.dumps(rec)
    log.write_text("\n".join(lines) + "\n")
    index = json.loads((later / "collection.json").read_text())
    index["collection"] = 2
    (later / "collection.json").write_text(json.dumps(index))
    assert snap.exists()
    audits, _, _ = build(out)
    found = [f.text for a in audits if a.student == "proper" for f in a.verification.broken]
    assert any("collection 1/collection.json recorded entry" in f for f in found), found
