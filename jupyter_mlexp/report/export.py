"""The results table for a paper or a spreadsheet: ``mlexp report --table md|csv|latex``.

One row per configuration (stage and mode apart) of the runs the verdict judges: mean ± sd (n) of each
logged metric over seeds. The configuration(s) the verdict supports are marked in a column of their
own; nothing is bolded on a raw maximum (a higher mean over three seeds is not a finding).
"""

from __future__ import annotations

import csv
import io
import math

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.report.groups import Group, counted_groups
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.report_verdict import SUPPORTED, judge
from jupyter_mlexp.report.stats import fmt_summary
from jupyter_mlexp.report.tables import md_table

FORMATS = ("md", "csv", "latex")
SUPPORTS = "supports the claim"  # the mark of a configuration the verdict supports
JUDGED = "judged, not supported"


def results_table(data: ReportData, fmt: str = "md") -> str:
    """The results table as Markdown, CSV or LaTeX (booktabs)."""
    if fmt not in FORMATS:
        raise MlexpError(f"unknown table format {fmt!r}: use one of {', '.join(FORMATS)}")
    groups = [g for gs in counted_groups(data).values() for g in gs]
    metrics = data.logged_metrics([r for g in groups for r in g.runs])
    marks = _marks(data)
    if fmt == "csv":
        return _csv(groups, metrics, marks)
    if fmt == "latex":
        return _latex(groups, metrics, marks, data)
    header = ["stage", "mode", "configuration", "seeds", *metrics, "verdict"]
    rows = [
        [g.stage, g.mode, g.config, len(g.seeds), *(fmt_summary(g.summary(m)) for m in metrics), marks.get(_key(g), "")]
        for g in groups
    ]
    return md_table(header, rows) + "\n"


def _key(g: Group) -> tuple[str, str, str]:
    return (g.stage, g.mode, g.config)


def _marks(data: ReportData) -> dict[tuple[str, str, str], str]:
    v = judge(data)
    word = SUPPORTS if v.decision == SUPPORTED else JUDGED
    return {(a.stage, v.mode, a.config): word for a in v.judged}


def _csv(groups: list[Group], metrics: list[str], marks: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "stage",
            "mode",
            "configuration",
            "seeds",
            *(f"{m}_{k}" for m in metrics for k in ("mean", "sd", "n")),
            "verdict",
        ]
    )
    for g in groups:
        cells: list[object] = [g.stage, g.mode, g.config, len(g.seeds)]
        for m in metrics:
            s = g.summary(m)
            cells += ["" if s.mean is None else repr(s.mean), "" if s.std is None else repr(s.std), s.n]
        w.writerow([*cells, marks.get(_key(g), "")])
    return out.getvalue()


_LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}


def tex(text: object) -> str:
    """``text`` with LaTeX's special characters escaped."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _num(x: float | None) -> str:
    return "--" if x is None or not math.isfinite(x) else f"{x:.4g}"


def _latex(groups: list[Group], metrics: list[str], marks: dict, data: ReportData) -> str:
    cols = "lll" + "r" + "c" * len(metrics) + "l"
    head = ["stage", "mode", "configuration", "seeds", *metrics, "verdict"]
    lines = [
        f"% jupyter-mlexp: results of experiment {tex(data.experiment.name)} (mean $\\pm$ sd over seeds, n)",
        r"\begin{tabular}{" + cols + "}",
        r"\toprule",
        " & ".join(tex(h) for h in head) + r" \\",
        r"\midrule",
    ]
    for g in groups:
        cells = [tex(g.stage), tex(g.mode), tex(g.config), str(len(g.seeds))]
        for m in metrics:
            s = g.summary(m)
            if s.n == 0:
                cells.append("--")
            elif s.std is None:
                cells.append(f"${_num(s.mean)}$ ({s.n})")
            else:
                cells.append(f"${_num(s.mean)} \\pm {_num(s.std)}$ ({s.n})")
        cells.append(tex(marks.get(_key(g), "")))
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)
