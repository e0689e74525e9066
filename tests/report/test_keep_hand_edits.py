"""``mlexp report`` never loses what a person wrote into report.ipynb (issue 10, item 12)."""

import nbformat
import pytest
from report_factory import make_experiment, seeds

from jupyter_mlexp.frontdoors.cli import main
from jupyter_mlexp.report.build import build_report, write_report
from jupyter_mlexp.report.keep import ReportEditedError


@pytest.fixture
def exp(workspace):
    exp = make_experiment(workspace)
    seeds(exp, "wu", [0.93, 0.94, 0.95], params={"warmup": 5})
    return exp


def _read(path):
    return nbformat.read(str(path), as_version=4)


def _add_after(path, index: int, text: str) -> None:
    nb = _read(path)
    nb.cells.insert(index + 1, nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, str(path))


def test_a_cell_added_by_hand_is_kept_in_its_place_after_a_rebuild(exp):
    path = build_report(exp)
    nb = _read(path)
    abstract = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Abstract"))
    _add_after(path, abstract, "My reading: the warm-up effect is larger than I expected.")
    _add_after(path, len(nb.cells), "Open question: does it hold on CIFAR?")  # after the last cell

    seeds(exp, "more", [0.96, 0.95, 0.97], params={"warmup": 10})  # new runs change the generated cells
    path, note = write_report(exp)
    assert note is None and not path.with_name("report.ipynb.bak").exists()
    cells = _read(path).cells
    sources = [c.source for c in cells]
    mine = sources.index("My reading: the warm-up effect is larger than I expected.")
    assert sources[mine - 1].startswith("## Abstract")
    assert sources[-1] == "Open question: does it hold on CIFAR?"
    assert "warmup=10" in "\n".join(sources)  # the rebuild did happen
    path, _ = write_report(exp)  # and a third build keeps them once, not twice
    assert [c.source for c in _read(path).cells].count("Open question: does it hold on CIFAR?") == 1


def test_a_hand_edited_generated_cell_refuses_the_build_until_force(exp, capsys):
    path = build_report(exp)
    nb = _read(path)
    nb.cells[2].source += "\n\nI think this is wrong: seed 2 used the old loader."
    nbformat.write(nb, str(path))
    before = path.read_bytes()

    with pytest.raises(ReportEditedError, match=r"hand edits in generated cell\(s\) 3"):
        build_report(exp)
    assert path.read_bytes() == before
    assert main(["report", "exp"]) == 2
    err = capsys.readouterr().err
    assert "report.ipynb has hand edits" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert path.read_bytes() == before

    assert main(["report", "exp", "--force"]) == 0
    out = capsys.readouterr().out
    assert "kept as report.ipynb.bak" in out
    assert path.with_name("report.ipynb.bak").read_bytes() == before
    assert "I think this is wrong" not in path.read_text()


@pytest.mark.parametrize(
    "old, why",
    [
        (b"{ not a notebook", "could not be read"),
        (None, "without cell marks"),  # a report written before the marks existed
    ],
)
def test_an_unreadable_or_unmarked_old_report_is_kept_aside(exp, old, why):
    path = exp.path / "report.ipynb"
    if old is None:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Report: exp\n\nmy notes")])
        old = nbformat.writes(nb).encode()
    path.write_bytes(old)
    target, note = write_report(exp)
    assert why in note and "report.ipynb.bak" in note
    assert path.with_name("report.ipynb.bak").read_bytes() == old
    assert _read(target).cells[0].metadata["mlexp"]["generated"] is True
