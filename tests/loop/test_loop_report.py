"""A loop's progress figure follows its attempts, and the report has a section for each loop."""

from __future__ import annotations

import sys

import nbformat
import pytest
from conftest import attempt, edit, mlexp
from PIL import Image

from jupyter_mlexp import Experiment
from jupyter_mlexp.loop.loop_state import LoopFiles
from jupyter_mlexp.report import build_report


@pytest.fixture
def fast(repo, capsys):
    """A loop on two seeds with no confirmation runs: three attempts take a few seconds."""
    code, _, err = mlexp(capsys, "loop", "start", "t1", "--experiment", "tune", "--seeds", "0,1", "--confirm", "0")
    assert code == 0, err
    return repo


def figure() -> bytes:
    path = LoopFiles(Experiment("tune").path, "t1").figure
    with Image.open(path) as img:
        assert img.format == "WEBP"
    return path.read_bytes()


def test_each_recorded_attempt_redraws_the_progress_figure(fast, capsys):
    attempt(capsys, "baseline")
    first = figure()  # no `loop status` was asked for
    edit(fast, SHIFT=0.001)
    assert attempt(capsys, "a hair")["status"] == "discard"
    second = figure()
    assert second != first
    (fast / "train.py").write_text("print('no metric')\n")
    assert attempt(capsys, "forgot the metric")["status"] == "crash"
    assert figure() != second


def test_the_report_has_a_section_per_loop_citing_its_files(fast, capsys):
    attempt(capsys, "baseline")
    edit(fast, SHIFT=0.001)
    noisy = attempt(capsys, "shift by a hair")
    edit(fast, SHIFT=0.1)
    win = attempt(capsys, "shift by a lot")
    assert (noisy["status"], win["status"]) == ("discard", "keep"), (noisy["reason"], win["reason"])
    (fast / "train.py").write_text("print('no metric')\n")
    assert attempt(capsys, "forgot the metric")["status"] == "crash"

    nb = nbformat.read(build_report("tune"), as_version=4)
    (cell,) = [c for c in nb.cells if c.source.startswith("## Loop `t1`")]
    text = cell.source
    assert "4 attempts: 2 keep, 1 discard, 1 crash (source: `loops/t1/loop.json`)" in text
    assert "`val_loss` (lower is better)" in text
    # the best: attempt 2 with its commit and its mean over seeds, each from the loop's record
    assert f"**Best:** attempt 2, commit `{win['commit'][:12]}`" in text
    assert "(n = 2)" in text
    # every attempt with its decision and the reason, the diff it made cited by file
    for n, status, what in (
        (0, "keep", "baseline"),
        (1, "discard", "shift by a hair"),
        (2, "keep", "shift by a lot"),
        (3, "crash", "forgot the metric"),
    ):
        assert f"| {n} | {status} | {what} |" in text, text
    assert noisy["reason"].split(" (")[0] in text
    assert "`loops/t1/attempts/0001.patch`" in text and "`loops/t1/attempts/0002.patch`" in text
    assert "no val_loss printed or logged" in text
    # kept changes with their commits, in order
    assert f"**Kept changes**, in order on the branch: attempt 2 `{win['commit'][:12]}` shift by a lot (Δ = " in text
    # its progress figure, attached and cited
    assert "progress figure" in text.lower() and "`loops/t1/loop.json`" in text
    (name,) = cell["attachments"]
    assert name.endswith(".webp") and cell["attachments"][name]["image/webp"]
    assert f"attachment:{name}" in text


def test_no_loop_no_section(repo):
    Experiment("tune")
    nb = nbformat.read(build_report("tune"), as_version=4)
    assert not [c for c in nb.cells if c.source.startswith("## Loop")]


def test_a_loop_whose_record_cannot_be_read_is_named_not_fatal(fast, capsys):
    attempt(capsys, "baseline", command=(sys.executable, "train.py"))
    LoopFiles(Experiment("tune").path, "t1").state_json.write_text("{not json")
    nb = nbformat.read(build_report("tune"), as_version=4)
    (cell,) = [c for c in nb.cells if c.source.startswith("## Loop `t1`")]
    assert "cannot be read" in cell.source and "loops/t1/loop.json" in cell.source


def test_the_loop_figure_is_not_written_through_a_symlink_out_of_the_record(fast, capsys, tmp_path_factory):
    # the report's figures and the loop's progress.webp are written the same way: never through a link out
    from jupyter_mlexp.core.errors import OutsideRecordError
    from jupyter_mlexp.core.record.fsio import writes_confined_to
    from jupyter_mlexp.loop.loop_figure import write_figure

    attempt(capsys, "baseline")
    exp = Experiment("tune")
    outside = tmp_path_factory.mktemp("outside")
    (exp.path / "figures").symlink_to(outside, target_is_directory=True)
    state = LoopFiles(exp.path, "t1").load()
    with writes_confined_to(exp.path), pytest.raises(OutsideRecordError):
        write_figure(state, exp.path / "figures" / "loop-t1.webp")
    assert list(outside.iterdir()) == []
