"""Build ``report.ipynb`` (nbformat v4): Abstract, Introduction, Methods, Results, Discussion, Conclusion.

Markdown cells carry the text with every number's source; code cells recompute
the tables, figures and verdict from the run files when the notebook is re-run.
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime
from pathlib import Path

import nbformat
from nbformat import v4

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.hypothesis import Criterion
from jupyter_mlexp.core.stats.headline import headline
from jupyter_mlexp.report.discussion import FINISHED_BAD, discussion
from jupyter_mlexp.report.figures import FigureInfo
from jupyter_mlexp.report.groups import baseline_group, best_group, comparand, label, mode_groups, total_duration
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.loops import LoopSection, attachment
from jupyter_mlexp.report.report_verdict import Arm, Verdict, fmt, fmt_number
from jupyter_mlexp.report.rerun import digest, rerun_tables
from jupyter_mlexp.report.safe import code as _code
from jupyter_mlexp.report.safe import markup as _markup
from jupyter_mlexp.report.safe import one_line, quote
from jupyter_mlexp.report.safe import text as _text
from jupyter_mlexp.report.stats import fmt_summary
from jupyter_mlexp.report.tables import cite, comparison_table, md_table, methods_table, results_tables

# -- sections ----------------------------------------------------------------------------------


def abstract(data: ReportData, verdict: Verdict) -> str:
    h = data.hypothesis
    glance = f"**At a glance:** {_text(headline(verdict))} (source: the files the verdict below cites)"
    lines = ["## Abstract", "", glance, ""]
    if h is None:
        lines.append("No hypothesis is registered for this experiment (`idea.json` is missing).")
    else:
        lines.append(f"**Hypothesis v{h.version}:** {_text(h.statement)} (source: `idea.json`)")
    used = [r for r in data.runs if not r.ignored]
    counted = data.counted
    by_mode = Counter(r.mode for r in used)
    seeds = sorted({r.seed for r in counted}, key=str)
    configs = {(r.mode, r.config) for r in counted}  # a quick run's scaled-down configuration is not a full one
    per_mode = " and ".join(
        f"{n} in {mode} runs" for mode in ("quick", "full") if (n := sum(m == mode for m, _ in configs))
    )
    bad = sum(r.status in FINISHED_BAD for r in used)
    lines += [
        "",
        (
            f"**Runs:** {by_mode.get('quick', 0)} quick and {by_mode.get('full', 0)} full runs "
            f"({len(counted)} completed and counted, {bad} failed or timed out, "
            f"{sum(r.ignored for r in data.runs)} ignored); configurations: {per_mode or 'none'}, "
            f"over seeds {', '.join(map(str, seeds)) or '—'} (source: the `run.json` of each run folder under `quick/` and `full/`)."
        ),
    ]
    if h is not None and counted:
        mode = data.main_mode
        groups = mode_groups(data, mode)
        primary = h.primary_metric
        best = best_group(data, groups, primary)
        if best is not None:
            s = best.summary(primary)
            text = f"**Highest mean ({mode} runs, descriptive; the verdict is below):** {_code(label(best))}: {_text(primary)} = {fmt_summary(s)} ({cite(s.sources)})"
            base, _ = baseline_group(data, mode, groups)
            if base is not None and base is not best:
                b = base.summary(primary)
                text += f"; {comparand(data)} {_code(label(base))}: {fmt_summary(b)} ({cite(b.sources)})"
            lines += ["", text + "."]
        else:
            lines += [
                "",
                f"**Highest mean:** none: the primary metric {_code(primary)} was not measured by any counted {mode} run.",
            ]
    if used:
        lines += [
            "",
            f"**Total run time:** {total_duration(used):.1f} s over {len(used)} runs that are not ignored "
            "(source: `duration_s` in each run's `run.json`).",
        ]
    verdict_line = f"**Verdict: {verdict.decision}** — {verdict.reason}"
    if verdict.sources:
        verdict_line += f" ({cite(verdict.sources)})"
    lines += ["", verdict_line]
    judged = verdict.to_dict()["n_per_arm"]
    if judged:
        arms = ", ".join(f"{_code(k)} n = {n}" for k, n in judged.items())
        plan = f" of a plan of {verdict.plan} seeds per configuration" if verdict.plan else ""
        family = (
            f"; family size k = {verdict.family_size} configuration{'s' if verdict.family_size != 1 else ''} run "
            f"under v{verdict.hypothesis_version}, quick runs and failed ones included"
            if verdict.family_size is not None and not verdict.confirmatory
            else ""
        )
        lines += [
            "",
            f"**Evidence judged:** {len(verdict.sources)} runs ({arms}){plan}{family} "
            "(source: the verdict, from the `run.json` and `metrics.jsonl` of the runs it cites).",
        ]
    return "\n".join(lines)


def introduction(data: ReportData, verdict: Verdict | None = None) -> str:
    h = data.hypothesis
    lines = ["## Introduction", ""]
    if h is None:
        return "\n".join(lines + ["No hypothesis registered: nothing was claimed before the runs."])
    lines += [
        f"The hypothesis, as registered (version {h.version}, {h.last_updated}; source: `idea.json`):",
        "",
        quote(h.statement),
        "",
        f"- **Success criterion:** {_code(h.success)}",
        f"- **Failure criterion:** {_code(h.failure)}" if h.failure else "- **Failure criterion:** not given",
        f"- **Metrics:** {_text(', '.join(map(str, h.metrics)))} (primary: {_code(h.primary_metric)})",
        f"- **Stage:** {_text(h.stage)}",
    ]
    for key, label_ in (("baseline", "Baseline to beat"), ("expected", "Expected outcome")):
        if getattr(h, key):
            lines.append(f"- **{label_}:** {_text(getattr(h, key))}")
    if h.seeds:
        lines.append(f"- **Seeds planned:** {_text(', '.join(map(str, h.seeds)))}")
    for t in h.treatments:
        lines.append(f"- **Treatment (registered):** {_code(', '.join(f'{k}={v}' for k, v in t.items()))}")
    lines.append(f"- **Seeds per configuration the verdict needs:** {h.seeds_needed}; **level:** {h.level:g}")
    if h.transform:
        lines.append(
            f"- **Transform (registered):** the t test is on {_code(f'{h.transform}({h.success_criterion.metric})')}"
        )
    if h.looks:
        lines.append(f"- **Sequential plan (registered):** looks at {_text(', '.join(map(str, h.looks)))} seeds")
    if h.scale:
        lines.append(f"- **Budget parameters (registered, `scale:`):** {_text(', '.join(h.scale))}")
    for change in verdict.criterion_changes if verdict else []:
        lines.append(f"- ⚠ **{change}**")
    lines += ["", "### Evolution of the idea", ""]
    if not data.history:
        lines.append("No registration events in `research_log.jsonl`.")
    for c in data.history:
        ev = c.value
        hv = ev.get("hypothesis") or {}
        changes = ev.get("changes") or []
        version = ev.get("version", hv.get("version", "?"))
        reason = ev.get("reason") or hv.get("update_reason") or "(no reason given)"
        text = f"- **v{_text(version)}** — {_text(ev.get('time', '?'))}: {one_line(str(reason))}"
        if changes:
            text += "; changed: " + "; ".join(_code(x) for x in changes)
        text += f" (source: `{c.source}`)"
        lines.append(text)
    lines += ["", "Full text of every version: `idea_evolution.md`."]
    return "\n".join(lines)


def methods(data: ReportData) -> str:
    lines = [
        "## Methods",
        "",
        "Each configuration is a run's parameters without the seed; its runs over seeds are aggregated. "
        "Statistics use completed runs that are not ignored. Per configuration, from each run's `run.json`:",
        "",
        methods_table(data),
    ]
    return "\n".join(lines)


def results_intro(data: ReportData) -> str:
    return "\n".join(
        [
            "## Results",
            "",
            "Each configuration's metrics as mean ± std over seeds (sample std; n = seeds). A metric's value for a run is "
            "the last value it logged in `metrics.jsonl`; NaN/inf values are excluded and counted. Quick and full runs "
            "are kept apart. Ignored, failed and unfinished runs enter no statistic and no figure.",
        ]
    )


def conclusion(data: ReportData, verdict: Verdict) -> str:
    v = verdict
    lines = [
        "## Conclusion",
        "",
        f"**The hypothesis is {v.decision}.**" if v.decision != "inconclusive" else "**The result is inconclusive.**",
        "",
        f"Judged against the success criterion registered before the runs ({_code(v.criterion)}, "
        f"hypothesis v{v.hypothesis_version}, source: `idea.json`) on the counted {v.mode} runs: {v.reason}.",
    ]
    if v.sources:
        lines += ["", cite(v.sources) + "."]
    warnings = [f"- ⚠ **{c}**" for c in v.criterion_changes] + [
        f"- ⚠ {_text(f)}" for f in v.flags
    ]  # flags quote record text
    lines += [""] + warnings if warnings else []
    if v.would_decide:
        lines += ["", f"**What would decide it:** {v.would_decide}."]
    if data.hypothesis is not None and data.hypothesis.failure:
        lines += ["", failure_discussion(v, data.hypothesis.failure)]
    if v.earlier_runs:
        lines += [
            "",
            f"{len(v.earlier_runs)} run(s) made under earlier hypothesis versions are exploratory and not judged: "
            + ", ".join(f"`{r}`" for r in v.earlier_runs[:MAX_NAMES])
            + (" …" if len(v.earlier_runs) > MAX_NAMES else ""),
        ]
    if v.candidates:
        lines += [
            "",
            f"Every candidate ({v.selection}; decisive test: {v.test}; level {v.level:g}; model: {v.model}):",
            "",
        ]
        lines.append(candidates_table(v))
    lines += [
        "",
        "This verdict is computed by `jupyter_mlexp.core.stats.verdict.judge`, the same function behind `mlexp status`, "
        "the sidebar and the widgets (rule: `docs/report.md`); it is not written by hand. The code cell below "
        "recomputes it.",
    ]
    completed = [e for e in data.journal if "COMPLETED" in e.tags]
    if completed:
        e = completed[-1]
        lines += ["", f"The researcher's conclusion (`JOURNAL.md:{e.line}`, {_text(e.timestamp)}):", "", quote(e.text)]
    return "\n".join(lines)


def failure_discussion(v: Verdict, failure: str) -> str:
    """The registered failure criterion, held against each candidate's mean, and whether it decided."""

    head = f"**Failure criterion** {_code(failure)} (registered before the runs"
    try:
        fail = Criterion.parse(failure, "failure")
    except MlexpError:
        return head + "): it cannot be parsed, so the verdict does not use it."
    if fail.relative:
        return head + "): relative to the baseline; the verdict uses only an absolute failure criterion."
    rule = (
        "): the verdict calls the hypothesis not supported when every candidate's mean meets it at level "
        f"{v.level:g} (one-sided t test of the mean)"
    )
    arms = [a for a in v.candidates if a.metric == fail.metric and a.n > 0]
    if not arms:
        return head + rule + f"; no candidate has a value of {_code(fail.metric)} here, so it was not tested."
    shown = "; ".join(
        f"{_code(a.label)} {fmt(a)}: {'met' if fail.holds(a.mean) else 'not met'} by the mean" for a in arms[:MAX_NAMES]
    )
    decided = "it decided this verdict" if "failure criterion" in v.reason else "it did not decide this verdict"
    return f"{head}{rule}. {shown}{' …' if len(arms) > MAX_NAMES else ''}; {decided}."


def _per_seed(a: Arm) -> str:
    """``seed: value`` of the plan's seeds; on a registered transform's scale, ``seed: raw → value``."""
    raw = a.metric.partition("(")[2][:-1] if a.metric.endswith(")") else ""
    before = {str(o.seed): o.finals[raw][0] for o in a.runs if raw in o.finals}
    return (
        ", ".join(
            f"{seed}: {fmt_number(before[str(seed)])} → {fmt_number(x)}"
            if str(seed) in before
            else f"{seed}: {fmt_number(x)}"
            for seed, x in zip(a.seeds, a.values)
        )
        or "—"
    )


def candidates_table(v: Verdict) -> str:
    rows = [
        [
            a.label,
            fmt(a),
            _per_seed(a),
            a.test or "—",
            fmt_number(a.estimate),
            a.interval_text() + ("" if a.bound_level is None else f" ({a.bound_level * 100:.4g}%)"),
            fmt_number(a.p, 3),
            fmt_number(a.p_adjusted, 3),
            a.note or ("passes" if a in v.judged and v.decision == "supported" else "—"),
        ]
        for a in v.candidates
    ]
    head = [
        "configuration",
        "value over seeds",
        "per seed (the plan's)",
        "test",
        "estimate",
        "one-sided bound",
        "p",
        "Holm-adjusted p",
        "note",
    ]
    return md_table(head, rows)


# -- the notebook ------------------------------------------------------------------------------


def _setup_code(data: ReportData) -> str:
    exp = data.experiment
    return "\n".join(
        [
            "# Re-run this notebook to recompute its tables, figures and verdict from the run files.",
            "from pathlib import Path",
            "from jupyter_mlexp import Experiment",
            "from jupyter_mlexp.report import figures, load, tables",
            "from jupyter_mlexp.report.rerun import rerun_tables, show, show_figures  # each shown only if changed",
            "from jupyter_mlexp.report.report_verdict import judge",
            "",
            "here = Path.cwd()  # the experiment folder (where this notebook lies) or the workspace",
            f"EXPERIMENT_DIR = here if (here / 'idea.json').exists() else Path('experiments', {exp.name!r})",
            "exp = Experiment(EXPERIMENT_DIR.name, root=EXPERIMENT_DIR.parent.parent)",
            f"data = load.load_experiment(exp, baseline={data.baseline_params!r})",
        ]
    )


def _figure_cell(fig: FigureInfo, number: int, report_dir: Path):
    rel = fig.path.relative_to(report_dir).as_posix()
    data_rel = fig.data_path.relative_to(report_dir).as_posix()
    src = "; ".join(_code(s) for s in fig.sources[:12]) + (
        f"; … {len(fig.sources) - 12} more" if len(fig.sources) > 12 else ""
    )
    text = (
        f"**Figure {number}.** {_text(fig.title)}: {', '.join(_code(c) for c in fig.configurations[:MAX_NAMES])}"
        f"{' …' if len(fig.configurations) > MAX_NAMES else ''}. File `{rel}`; plotted numbers `{data_rel}`; "
        f"source: {src}.\n\n![{_text(fig.name)}](attachment:{fig.path.name})"
    )
    cell = v4.new_markdown_cell(text)
    cell["attachments"] = {fig.path.name: {"image/webp": base64.b64encode(fig.path.read_bytes()).decode("ascii")}}
    return cell


MAX_NAMES = 12


def _results_cells(data: ReportData) -> list:
    """The results tables and the comparisons against the baseline, each with the cell that recomputes it."""
    md, code = v4.new_markdown_cell, v4.new_code_cell
    cells = []
    tables_ = results_tables(data)
    if not tables_:
        why = "no run was made" if not data.runs else "no run completed (or every completed run is ignored)"
        cells.append(md(f"No statistics: {why}."))
    for title_, table in tables_:
        cells.append(md(f"### {title_}\n\n{table}"))
    if tables_:
        built = digest(rerun_tables(tables_))
        cells.append(code(f"show('Results tables', rerun_tables(tables.results_tables(data)), {built!r})"))
    for mode in [m for m in ("quick", "full") if any(r.mode == m for r in data.current)]:
        note, table = comparison_table(data, mode)
        word = comparand(data)
        cells.append(md(f"### Comparison against the {word} ({mode} runs)\n\n{note}\n\n{table}".rstrip()))
        built = digest(note + "\n\n" + table)
        cells.append(
            code(
                f"note, table = tables.comparison_table(data, {mode!r})\n"
                f"show('Comparison ({mode} runs)', note + '\\n\\n' + table, {built!r})"
            )
        )
    return cells


def _figure_cells(figs: list[FigureInfo], fig_notes: list[str], report_dir: Path) -> list:
    """The figures (attached), why any is missing, and the cell that redraws them."""
    cells = []
    if figs or fig_notes:
        cells.append(
            v4.new_markdown_cell("### Figures\n\n" + "\n".join(f"- No figure: {_markup(n)}" for n in fig_notes))
        )
    for i, fig in enumerate(figs, 1):
        cells.append(_figure_cell(fig, i, report_dir))
    if figs:
        drawn = {f.name: digest(f.data_path.read_bytes()) for f in figs}  # the numbers each figure plotted
        cells.append(
            v4.new_code_cell(
                "infos, notes = figures.make_figures(data, EXPERIMENT_DIR / 'figures')\n"
                f"show_figures(infos, {drawn!r}, notes)"
            )
        )
    return cells


def build(
    data: ReportData,
    verdict: Verdict,
    figs: list[FigureInfo],
    fig_notes: list[str],
    summary_paths: dict,
    report_dir: Path,
    loops: list[LoopSection] | None = None,
) -> nbformat.NotebookNode:
    """The report notebook, validated; a section for each of the experiment's keep/discard ``loops``."""
    exp = data.experiment
    skipped = data.skipped_lines()
    lessons_rel = "../lessons.md"
    cells = []
    md, code = v4.new_markdown_cell, v4.new_code_cell
    title = (
        f"# Report: {exp.name}\n\nBuilt by `mlexp report` from the files in `experiments/{exp.name}/` only; "
        "each number names the file it was read from (paths relative to this notebook)."
    )
    if skipped:
        title += f"\n\n⚠ {len(skipped)} corrupt metrics line(s) were skipped: see Discussion › Data quality."
    cells += [md(title), code(_setup_code(data))]
    cells.append(md(abstract(data, verdict)))
    cells.append(md(introduction(data, verdict)))
    cells.append(md(methods(data)))
    cells.append(code(f"show('Methods table', tables.methods_table(data), {digest(methods_table(data))!r})"))
    cells.append(md(results_intro(data)))
    cells += _results_cells(data)
    cells += _figure_cells(figs, fig_notes, report_dir)
    if summary_paths:
        cells.append(
            md(
                "Stage summaries beside this report, each field computed from the runs: "
                + ", ".join(f"`{p.relative_to(report_dir).as_posix()}`" for p in summary_paths.values())
                + "."
            )
        )
    for loop in loops or []:
        cell = md(loop.markdown)
        if loop.figure is not None:
            cell["attachments"] = attachment(loop.figure)
        cells.append(cell)
    cells.append(md(discussion(data, skipped, lessons_rel)))
    cells.append(md(conclusion(data, verdict)))
    built = digest(f"{verdict.decision}: {verdict.reason}")
    cells.append(code(f"v = judge(data)\nshow('Verdict', f'{{v.decision}}: {{v.reason}}', {built!r})"))
    nb = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "mlexp": {
                "experiment": exp.name,
                "generated": datetime.now().astimezone().isoformat(timespec="seconds"),
                "verdict": verdict.decision,
                "hypothesis_version": data.hypothesis.version if data.hypothesis else None,
            },
        },
    )
    nbformat.validate(nb)
    return nb
