"""Students' experiments carried by nbgrader's own exchange, then collected and reported.

nbgrader's exchange classes (``nbgrader.exchange.default``) run as ``nbgrader release_assignment``,
``fetch_assignment``, ``submit`` and ``collect`` run them, on an exchange and a course in a temp
folder; each student is simulated by ``CourseDirectory.student_id`` (what ``--student`` sets), so no
Unix user is needed. The records inside the fetched assignment folders are built through the product
(``students.py``). ``mlexp class collect`` then reads the exchange's ``inbound/`` and the course's
``submitted/``, and the class report states each student's case from both.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import nbformat
import pytest

from jupyter_mlexp.classroom.class_report import build
from jupyter_mlexp.classroom.collect import collect, discover
from jupyter_mlexp.core.execution import lifecycle
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.frontdoors.cli import main
from tests.classroom.students import Clock, build_student, register, run, seeds

exchange = pytest.importorskip(
    "nbgrader.exchange.default",
    reason="nbgrader is not installed (it is in the dev extra: pip install -e '.[dev]'); "
    "the nbgrader layout is tested by hand-made folders in test_collect.py",
)

COURSE, ASSIGNMENT = "ml101", "a1"
CASES = {"alice": "proper", "bob": "loosened", "cleo": "ignored", "dev": "quickonly"}
MAX_KB = 100  # CourseDirectory.max_file_size for fay's submission: her long curve is over it


class Said(logging.Handler):
    """What nbgrader logged: its warnings are how it tells a student a file was left out."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def nbgrader(step, tmp: Path, log: logging.Logger, **settings) -> None:
    """One exchange step as nbgrader's app runs it: a Config, a CourseDirectory, an Authenticator."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    c = Config()
    c.CourseDirectory.root = str(tmp / "course")
    c.CourseDirectory.course_id = COURSE
    c.CourseDirectory.assignment_id = ASSIGNMENT
    c.Exchange.root = str(tmp / "exchange")
    c.Exchange.cache = str(tmp / "cache")
    c.ExchangeCollect.check_owner = False  # every submission here is owned by the test's user
    for key, value in settings.items():
        section, name = key.split("__")
        c[section][name] = value
    coursedir = CourseDirectory(config=c, log=log)
    step(coursedir=coursedir, authenticator=Authenticator(config=c, log=log), config=c, log=log).start()


def as_student(name: str, tmp: Path, **more) -> dict:
    return {"CourseDirectory__student_id": name, "Exchange__assignment_dir": str(tmp / "home" / name), **more}


def long_curve(exp: Experiment, seed: int, final: float, steps: int = 3000) -> None:
    """A full run that printed a training curve of ``steps`` values ending at ``final`` (a long metrics.jsonl)."""
    r = lifecycle.start(exp, "full", source="train.py", seed=seed, params={}, git={}, data={})
    curve = [0.5 + (final - 0.5) * (i + 1) / steps for i in range(steps)]
    printed = "".join(f"val_acc: {v:.6f}\nloss: {1 - v:.6f}\n" for v in curve)
    lifecycle.finish(exp, r, "completed", printed=printed)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course's assignment released, fetched, worked on, submitted and collected by nbgrader; then collected
    by ``mlexp class collect`` from the exchange's inbound/ and from the course's submitted/."""
    mp = pytest.MonkeyPatch()
    Clock(mp)
    mp.delenv("MLEXP_ROOT", raising=False)
    mp.delenv("MLEXP_COURSE", raising=False)
    # nbgrader's Gradebook (opened by its collect) runs the `alembic` command it installs next to python
    mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    tmp = tmp_path_factory.mktemp("nbgrader")
    said = Said()
    log = logging.getLogger("nbgrader-exchange-test")
    log.addHandler(said)
    log.propagate = False

    release = tmp / "course" / "release" / ASSIGNMENT
    release.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# warm-up")]), release / "warmup.ipynb")
    nbgrader(exchange.ExchangeReleaseAssignment, tmp, log)

    def fetch(name: str) -> Path:
        nbgrader(exchange.ExchangeFetchAssignment, tmp, log, **as_student(name, tmp))
        return tmp / "home" / name / ASSIGNMENT  # the student's assignment folder: their workspace

    for name, case in CASES.items():
        build_student(fetch(name), case)
        nbgrader(exchange.ExchangeSubmit, tmp, log, **as_student(name, tmp))
    # eli submits after a quick run, works on and submits again: the latest submission counts
    eli = Experiment("warmup", root=fetch("eli"))
    register(eli)
    run(eli, 0.93, mode="quick")
    nbgrader(exchange.ExchangeSubmit, tmp, log, **as_student("eli", tmp))
    seeds(eli, [0.95, 0.96, 0.97])
    nbgrader(exchange.ExchangeSubmit, tmp, log, **as_student("eli", tmp))
    # fay's third seed printed a long curve: its metrics.jsonl is over the course's max_file_size
    fay = Experiment("warmup", root=fetch("fay"))
    register(fay)
    seeds(fay, [0.95, 0.96])
    long_curve(fay, 2, 0.97)
    big = next(p for p in (fay.path / "full").glob("*/metrics.jsonl") if p.stat().st_size > MAX_KB * 1000)
    nbgrader(exchange.ExchangeSubmit, tmp, log, **as_student("fay", tmp, CourseDirectory__max_file_size=MAX_KB))

    nbgrader(exchange.ExchangeCollect, tmp, log)
    inbound = collect([str(tmp / "exchange" / COURSE)], tmp / "class-inbound")
    submitted = collect([str(tmp / "course" / "submitted")], tmp / "class-submitted")
    yield {
        "tmp": tmp,
        "said": said.lines,
        "big": big,
        "collections": {"inbound": inbound, "submitted": submitted},
    }
    log.removeHandler(said)
    mp.undo()


STUDENTS = sorted([*CASES, "eli", "fay"])


def test_nbgrader_carries_each_student_s_experiments_folder(course):
    tmp = course["tmp"]
    names = sorted(os.listdir(tmp / "exchange" / COURSE / "inbound"))
    assert len(names) == len(STUDENTS) + 1  # eli twice
    # nbgrader 0.9 names a submission STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM
    assert all(n.count("+") == 3 and n.split("+")[1] == ASSIGNMENT and n.split("+")[2].endswith(" UTC") for n in names)
    for name in STUDENTS:
        got = tmp / "course" / "submitted" / name / ASSIGNMENT
        assert (got / "warmup.ipynb").is_file() and (got / "experiments" / "warmup" / "research_log.jsonl").is_file()


def test_class_collect_keys_each_student_from_the_inbound_and_from_submitted(course):
    for where, c in course["collections"].items():
        assert sorted(c.students) == STUDENTS, where
        assert all(s["assignments"] == [ASSIGNMENT] for s in c.students.values()), where
    assert {s["layout"] for s in course["collections"]["inbound"].students.values()} == {"nbgrader"}
    assert {s["layout"] for s in course["collections"]["submitted"].students.values()} == {"submitted"}
    # eli's latest submission, the one with the full runs (nbgrader's collect chose it too)
    latest = [f for f in discover(str(course["tmp"] / "exchange" / COURSE)) if f.student == "eli"]
    assert len(latest) == 1 and any((latest[0].folder / "warmup" / "full").iterdir())


@pytest.mark.parametrize("where", ["inbound", "submitted"])
def test_the_class_report_states_each_student_s_case(course, where):
    audits = {a.student: a for a in build(course["collections"][where].out)[0]}
    assert sorted(audits) == STUDENTS
    assert audits["alice"].verdict.decision == "supported" and audits["alice"].flags() == []
    assert audits["alice"].verification.ok
    assert "changed after runs" in audits["bob"].flags() and "loosened" in audits["bob"].changed_after_runs[0]
    cleo = audits["cleo"]
    assert cleo.verdict.decision == "inconclusive" and "ignored run changes verdict" in cleo.flags()
    assert cleo.ignored[0][1] == "looked like a bad GPU"
    assert "no full runs" in audits["dev"].flags() and audits["dev"].runs["failed"] == 1
    eli = audits["eli"]  # the latest submission: three full seeds, not the quick run alone
    assert eli.verdict.decision == "supported" and eli.runs["full"] == 3 and eli.flags() == []
    fay = audits["fay"]  # her third run's metrics.jsonl was left out: its run.json's summary counts
    assert fay.verdict.decision == "supported" and fay.runs["full"] == 3 and fay.flags() == ["files missing"]
    run_id = course["big"].parent.name
    assert [s for s in fay.verdict.sources if run_id in s] == [f"full/{run_id}/run.json"], fay.verdict.sources


def test_a_file_nbgrader_left_out_for_its_size_is_reported_missing(course, capsys, tmp_path):
    big = course["big"]
    rel = f"fay/experiments/warmup/full/{big.parent.name}/metrics.jsonl"
    # nbgrader dropped it, and said so to the student
    assert any("Ignoring file too large" in line and str(big) in line for line in course["said"]), course["said"]
    for where, c in course["collections"].items():
        missing = [line for line in c.lines() if rel in line]
        assert missing == [
            f"  skipped: {rel}: missing (its run.json summarises metrics; nbgrader drops files over its max_file_size)"
        ], (where, c.lines())
        assert not any("metrics.jsonl" in line for line in c.lines() if rel not in line), where
    # and `mlexp class collect` prints it
    assert main(["class", "collect", str(course["tmp"] / "exchange" / COURSE), "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert f"{rel}: missing" in out and ": 6 students, 6 experiments" in out


def test_the_class_report_names_a_file_nbgrader_left_out(course):
    # the instructor reads it where they grade, not only in the collect's output
    from jupyter_mlexp.classroom.class_report import notebook, table_rows

    audits, index, crs = build(course["collections"]["inbound"].out)
    fay = next(a for a in audits if a.student == "fay")
    rel = f"full/{course['big'].parent.name}/metrics.jsonl"
    assert fay.missing == [
        f"{rel}: missing (its run.json summarises metrics; nbgrader drops files over its max_file_size)"
    ]
    assert "files missing" in fay.flags()
    row = next(r for r in table_rows(audits) if r["student"] == "fay")
    assert "files missing" in row["flags"]
    text = "\n".join(c.source for c in notebook(audits, index, crs).cells)
    assert f"⚠ Missing from the collection: {rel}" in text
    assert all(not a.missing for a in audits if a.student != "fay")
