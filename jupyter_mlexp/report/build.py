"""``build_report``: read the record, judge, draw, write the notebook. The front doors call this."""

from __future__ import annotations

from pathlib import Path

import nbformat

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.fsio import writes_confined_to
from jupyter_mlexp.report import figures, loops, summaries
from jupyter_mlexp.report import report_notebook as notebook
from jupyter_mlexp.report.html import write_html as write_safe_html
from jupyter_mlexp.report.keep import BACKUP_SUFFIX, keep_hand_edits, refuse_links
from jupyter_mlexp.report.load import load_experiment
from jupyter_mlexp.report.output import write_text
from jupyter_mlexp.report.report_verdict import judge

REPORT_NAME = "report.ipynb"


def build_report(
    experiment: Experiment | str, html: bool = False, baseline: str | dict | None = None, force: bool = False
) -> Path:
    """Write ``experiments/<name>/report.ipynb`` (and ``report.html`` with ``html``); return its path.

    Reads the runs, never writes to them. The notebook replaces the old one atomically; cells a
    person added to the old one are kept, and a hand edit of a generated cell refuses the build
    (:class:`~jupyter_mlexp.report.keep.ReportEditedError`) unless ``force`` (:mod:`.keep`).
    """
    return write_report(experiment, html=html, baseline=baseline, force=force)[0]


def write_report(
    experiment: Experiment | str, html: bool = False, baseline: str | dict | None = None, force: bool = False
) -> tuple[Path, str | None]:
    """:func:`build_report`, and a one-line note when the old notebook was kept aside as ``report.ipynb.bak``."""
    exp = Experiment(experiment) if isinstance(experiment, str) else experiment
    with writes_confined_to(exp.path):  # a figures/ (or any file) linked out of the folder is not written through
        return _write_report(exp, html, baseline, force)


def _write_report(exp: Experiment, html: bool, baseline: str | dict | None, force: bool) -> tuple[Path, str | None]:
    target = exp.path / REPORT_NAME
    refuse_links(target, target.with_name(REPORT_NAME + BACKUP_SUFFIX), target.with_suffix(".html"))  # before any write
    refuse_wrong_kinds(target, exp.path / figures.FIGURES_DIR, html)
    data = load_experiment(exp, baseline=baseline)
    verdict = judge(data)
    folder = exp.path
    figs, notes = figures.make_figures(data, folder / figures.FIGURES_DIR)
    paths = summaries.write_summaries(data, verdict, folder)
    loop_sections = loops.loop_sections(folder, folder / figures.FIGURES_DIR)
    nb = notebook.build(data, verdict, figs, notes, paths, folder, loop_sections)
    note = keep_hand_edits(nb, target, force=force)
    write_text(target, nbformat.writes(nb))
    if html:
        write_html(nb, target.with_suffix(".html"))
    return target, note


def refuse_wrong_kinds(target: Path, figures_dir: Path, html: bool) -> None:
    """One line, before anything is written, when a folder stands where the notebook belongs or a file
    where the figures folder does (a hand edit, a bad copy)."""
    files = [target, target.with_name(REPORT_NAME + BACKUP_SUFFIX)] + ([target.with_suffix(".html")] if html else [])
    for path in files:
        if path.is_dir():
            raise RecordError(f"{path} is a folder where the report's file belongs; move it away and build again")
    if figures_dir.exists() and not figures_dir.is_dir():
        raise RecordError(
            f"{figures_dir} is a file where the report's figures folder belongs; move it away and build again"
        )


def write_html(nb: nbformat.NotebookNode, target: Path) -> Path:
    """``report.html``, sanitised: no script from the record runs when it is opened (report.html)."""

    return write_safe_html(nb, target)
