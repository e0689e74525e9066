"""``mlexp class report DIR``: one notebook (and HTML, and a CSV table) on a collected class.

Built from the latest snapshot of a class workspace (:mod:`.collect`): per student and
experiment the audit of :mod:`.audit`, then the class: the distribution of verdicts, the
course's baseline as every student measured it, and a table an instructor sorts and exports
(``class_table.csv``). Every number cites the student's file, relative to the class workspace; no
absolute path from a student's machine is shown, and no student name beyond the collection's key.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import nbformat

from jupyter_mlexp.classroom.audit import ExperimentAudit, audit_student, scrub
from jupyter_mlexp.classroom.collect import (
    EXPERIMENTS_DIR,
    INDEX,
    CollectError,
    collected_heads,
    iter_students,
    read_index,
    snapshots,
)
from jupyter_mlexp.core.record import course as course_file
from jupyter_mlexp.core.record.fsio import atomic_write_text
from jupyter_mlexp.core.record.hypothesis import parse_config
from jupyter_mlexp.report import safe
from jupyter_mlexp.report.html import write_html

NOTEBOOK, HTML, CSV = "class_report.ipynb", "class_report.html", "class_table.csv"
COLUMNS = (
    "student",
    "experiment",
    "verdict",
    "n",
    "verdict_with_ignored",
    "runs_quick",
    "runs_full",
    "runs_failed",
    "runs_ignored",
    "hypothesis_versions",
    "changed_after_runs",
    "verified",
    "course",
    "flags",
    "source",
)


def build(out: Path | str, course_path: Path | str | None = None) -> tuple[list[ExperimentAudit], Any, Any]:
    """The audits of the latest snapshot of the class workspace ``out``, its index and the course."""
    base = Path(out).resolve()
    snaps = snapshots(base)
    if not snaps:
        raise CollectError(f"{out} holds no collection yet: run `mlexp class collect SOURCE... --out {out}` first")
    latest = snaps[-1]
    course = None
    if course_path is not None:
        course = course_file.load(course_path)
    elif (base / course_file.FILENAME).is_file():
        course = course_file.load(base / course_file.FILENAME)

    def heads_of(student: str, experiment: str):
        return collected_heads(base, student, experiment)

    index = read_index(latest)
    skipped = [line for line in index.get("skipped") or [] if isinstance(line, str)]
    audits: list[ExperimentAudit] = []
    for student, root in iter_students(latest):
        for a in audit_student(student, root, base, heads_of, course):
            prefix = f"{a.student}/{EXPERIMENTS_DIR}/{a.experiment}/"
            a.missing = [line[len(prefix) :] for line in skipped if line.startswith(prefix) and ": missing" in line]
            audits.append(a)
    return audits, index, course


def table_rows(audits: list[ExperimentAudit]) -> list[dict[str, Any]]:
    rows = []
    for a in audits:
        v = a.verdict
        rows.append(
            {
                "student": a.student,
                "experiment": a.experiment,
                "verdict": v.decision if v else "",
                "n": a.n_text(v),
                "verdict_with_ignored": a.verdict_with_ignored.decision if a.verdict_with_ignored else "",
                "runs_quick": a.runs.get("quick", 0),
                "runs_full": a.runs.get("full", 0),
                "runs_failed": a.runs.get("failed", 0),
                "runs_ignored": a.runs.get("ignored", 0),
                "hypothesis_versions": len(a.versions),
                "changed_after_runs": len(a.changed_after_runs),
                "verified": "yes" if a.verification and a.verification.ok else "no",
                "course": "contradicts" if a.course else "ok",
                "flags": "; ".join(a.flags()),
                "source": a.cite(),
            }
        )
    return rows


def csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        # a cell a spreadsheet would run as a formula is quoted as text; home folders scrubbed
        w.writerow({k: _csv_cell(scrub(v) if isinstance(v, str) else v) for k, v in r.items()})
    return buf.getvalue()


def _csv_cell(v: Any) -> Any:
    return "'" + v if isinstance(v, str) and v[:1] in "=+-@" else v


def _md_table(rows: list[dict[str, Any]], cols: tuple[str, ...]) -> str:
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "\n".join("| " + " | ".join(safe.cell(r[c]) for c in cols) + " |" for r in rows)


def _baseline_spread(audits: list[ExperimentAudit], course) -> str | None:
    """The course baseline as every student measured it: spread across students against across seeds."""
    if course is None or not course.baseline or not course.metric:
        return None
    params = parse_config(course.baseline)
    if params is None:
        return None
    per_student: dict[str, list[float]] = {}
    cites: dict[str, str] = {}
    for a in audits:
        values = [
            o.finals[course.metric][0]
            for o in a.observations
            if all(o.params.get(k) == v for k, v in params.items()) and course.metric in o.finals
        ]
        values = [x for x in values if x == x]
        if values:
            per_student.setdefault(a.student, []).extend(values)
            cites[a.student] = a.cite()
    means = {s: statistics.fmean(v) for s, v in per_student.items()}
    if len(means) < 2:
        return f"The course baseline `{course.baseline}` was measured by {len(means)} student(s): no spread to show."
    across_students = statistics.stdev(means.values())
    within = [statistics.stdev(v) for v in per_student.values() if len(v) > 1]
    across_seeds = statistics.fmean(within) if within else float("nan")
    lines = [
        f"The course baseline `{course.baseline}` ({course.metric}), measured by {len(means)} students: "
        f"mean {statistics.fmean(means.values()):.4g}; spread across students (SD of their means) "
        f"{across_students:.3g}, across seeds within a student (mean SD) {across_seeds:.3g}."
    ]
    if across_seeds == across_seeds and across_seeds > 0:
        ratio = across_students / across_seeds
        lines.append(
            f"Ratio {ratio:.2f}: "
            + ("the students' setups differ more than seeds explain." if ratio > 2 else "within what seeds explain.")
        )
    centre = statistics.fmean(means.values())
    outliers = [s for s, m in means.items() if across_students > 0 and abs(m - centre) > 2 * across_students]
    for s in outliers:
        lines.append(f"Outlier: {s}, baseline mean {means[s]:.4g} ({cites[s]}).")
    return "\n\n".join(lines)


def _student_md(a: ExperimentAudit) -> str:
    v = a.verdict
    out = [f"### {safe.text(a.student)} · {safe.code(a.experiment)}", f"Files: `{a.cite()}`"]
    if a.problem:
        out.append(f"The hypothesis cannot be read: {safe.text(a.problem)} (`{a.cite('idea.json')}`)")
    if a.hypothesis is not None:
        out.append(
            f"**Hypothesis** v{a.hypothesis.version}: {safe.text(a.hypothesis.statement)} — success {safe.code(a.hypothesis.success)} (`{a.cite('idea.json')}`)"
        )
    if a.versions:
        vs = "; ".join(f"v{x['version']} {safe.code(x['success'])} ({safe.text(x['reason'])})" for x in a.versions)
        out.append(f"**Versions** ({len(a.versions)}, `{a.cite('research_log.jsonl')}`): {vs}")
    ver = a.verification
    if ver is not None:
        state = "verified" if ver.ok else f"NOT verified: {len(ver.broken)} finding(s)"
        out.append(f"**Order of events** ({state}; `{a.cite('research_log.jsonl')}`):")
        out.append("\n".join(f"- {e.where()}: {safe.text(e.text)}" for e in a.events) or "(no events)")
        if ver.findings:
            out.append("**Verification**:\n" + "\n".join(f"- {safe.text(scrub(f.line()))}" for f in ver.findings))
    for change in a.changed_after_runs:
        out.append(f"⚠ Changed after runs: {safe.text(scrub(change))} (`{a.cite('research_log.jsonl')}`)")
    if a.verdict_first_version is not None:
        out.append(
            f"Under the first version the verdict would read: **{a.verdict_first_version.decision}** — "
            f"{safe.text(a.verdict_first_version.reason)}"
        )
    r = a.runs
    out.append(
        f"**Runs**: {r.get('quick', 0)} quick, {r.get('full', 0)} full counted, {r.get('failed', 0)} failed, "
        f"{r.get('ignored', 0)} ignored (`{a.cite('quick')}`, `{a.cite('full')}`, `{a.cite('IGNORED_RUNS.md')}`)"
    )
    for run_id, reason in a.ignored:
        out.append(f"- ignored {safe.code(run_id)}: {safe.text(reason)}")
    if v is not None:
        out.append(f"**Verdict**: **{v.decision}** ({a.n_text(v)}) — {safe.text(v.reason)}")
        srcs = ", ".join(f"`{a.cite(s)}`" for s in v.sources[:6])
        if srcs:
            out.append(f"From: {srcs}" + (f" and {len(v.sources) - 6} more" if len(v.sources) > 6 else ""))
    w = a.verdict_with_ignored
    if a.ignored and w is not None:
        if v is not None and v.decided_by_ignoring:
            same = "**different**: without them it would be supported, so the ignoring decided it"
        else:
            same = "the same" if w.decision == (v.decision if v else None) else "**different**"
        out.append(f"With the ignored runs counted: **{w.decision}** ({a.n_text(w)}), {same}.")
    for reused in a.reused_seeds:
        out.append(
            f"⚠ Reused exploration seeds: {safe.text(reused)} ran before the treatment was registered "
            f"(`{a.cite('research_log.jsonl')}`)"
        )
    if a.tags:
        tags = ", ".join(f"{t} {n}" for t, n in sorted(a.tags.items()))
        out.append(f"**Journal tags**: {tags} (`{a.cite('JOURNAL.md')}`)")
    for c in a.course:
        out.append(f"⚠ Course: {safe.text(c)} (`{a.cite()}`)")
    for m in a.missing:
        out.append(f"⚠ Missing from the collection: {safe.text(m)} (the collection's `{INDEX}`)")
    return "\n\n".join(out)


def notebook(audits: list[ExperimentAudit], index: dict[str, Any], course) -> nbformat.NotebookNode:
    rows = table_rows(audits)
    dist = Counter(r["verdict"] for r in rows)
    cells = [
        nbformat.v4.new_markdown_cell(
            f"# Class report\n\nCollection {index.get('collection')} ({index.get('time')}): "
            f"{len({a.student for a in audits})} students, {len(audits)} experiments. "
            f"The table is also in `{CSV}`."
            + (f" Course file: `{course.path.name}` (sha256 {course.sha256[:12]}…)." if course else "")
        ),
        nbformat.v4.new_markdown_cell(
            "## Verdicts across the class\n\n"
            + "\n".join(f"- {d or '(none)'}: {n}" for d, n in sorted(dist.items()))
            + "\n\n"
            + "\n".join(f"- {flag}: {n}" for flag, n in sorted(Counter(f for a in audits for f in a.flags()).items()))
        ),
    ]
    spread = _baseline_spread(audits, course)
    if spread:
        cells.append(nbformat.v4.new_markdown_cell("## The course baseline\n\n" + spread))
    cells.append(nbformat.v4.new_markdown_cell("## Table\n\n" + _md_table(rows, COLUMNS)))
    cells.append(nbformat.v4.new_markdown_cell("## Students"))
    cells += [nbformat.v4.new_markdown_cell(_student_md(a)) for a in audits]
    for c in cells:  # a parameter value, a reason, an error may name a home folder: none reaches the report
        c.source = scrub(c.source)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["mlexp"] = {"class_report": True, "collection": index.get("collection")}
    return nb


def write_class_report(out: Path | str, html: bool = True, course_path: Path | str | None = None) -> list[Path]:
    """Write ``class_report.ipynb``, ``class_table.csv`` (and ``class_report.html``) in ``out``."""
    base = Path(out)
    audits, index, course = build(base, course_path)
    nb = notebook(audits, index, course)
    written = [base / NOTEBOOK, base / CSV]
    atomic_write_text(base / NOTEBOOK, nbformat.writes(nb) + "\n", durable=False)
    atomic_write_text(base / CSV, csv_text(table_rows(audits)), durable=False)
    if html:
        written.append(write_html(nb, base / HTML))
    return written


__all__ = ["build", "notebook", "table_rows", "csv_text", "write_class_report"]
