"""The report's Discussion: journal highlights, failed runs, ignored runs, data quality, lessons.

Every text taken from the record (journal entries, reasons, errors, warnings) is shown as text
(:mod:`jupyter_mlexp.report.safe`), each with the file and line it came from.
"""

from __future__ import annotations

from jupyter_mlexp.core.record.journal import TAGS
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.safe import code as _code
from jupyter_mlexp.report.safe import markup as _markup
from jupyter_mlexp.report.safe import one_line
from jupyter_mlexp.report.safe import text as _text
from jupyter_mlexp.report.tables import md_table

FINISHED_BAD = ("failed", "timeout")
MAX_PER_TAG = 25  # journal entries quoted per tag: the report stays small whatever the journal's size
MAX_WARNINGS = 25
UNFINISHED = ("interrupted", "running", "stale", "corrupt", "unknown")


def discussion(data: ReportData, skipped: list[str], lessons_rel: str) -> str:
    lines = ["## Discussion", ""]
    lines += journal_highlights(data)
    lines += failed_runs(data)
    lines += ignored_runs(data)
    lines += data_quality(data, skipped)
    lines += lessons(data, lessons_rel)
    return "\n".join(lines)


def journal_highlights(data: ReportData) -> list[str]:
    """Entries by tag (the person's tags first, in their order), each with its line in JOURNAL.md."""
    lines = ["### Journal highlights", ""]
    by_tag: dict[str, list] = {}
    for e in data.journal:
        for t in e.tags:
            by_tag.setdefault(t, []).append(e)
    any_entry = False
    for tag in list(TAGS) + sorted(t for t in by_tag if t not in TAGS):
        entries = by_tag.get(tag, [])
        lines += [f"**[{_text(tag)}]** ({len(entries)})", ""]
        if not entries:
            lines += ["_(none)_", ""]
            continue
        any_entry = True
        shown = entries[-MAX_PER_TAG:]  # the latest: a long journal is quoted in part, with a pointer
        if len(entries) > len(shown):
            lines += [
                f"_{len(entries) - len(shown):,} earlier [{_text(tag)}] entries not quoted here: "
                f"see `JOURNAL.md` (from line {entries[0].line})._",
                "",
            ]
        for e in shown:
            lines.append(f"- `JOURNAL.md:{e.line}` ({_text(e.timestamp or 'no timestamp')}): {one_line(e.text)}")
        lines.append("")
    untagged = sum(1 for e in data.journal if not e.tags)
    if untagged:
        lines += [
            f"{untagged} untagged journal entr{'y' if untagged == 1 else 'ies'} not listed (see `JOURNAL.md`).",
            "",
        ]
    if not data.journal:
        lines += ["The journal is empty.", ""]
    elif not any_entry and not untagged:
        lines.append("")
    return lines


def _failure_reason(r) -> str:
    err = r.info.record.error or {}
    reason = f"{err.get('name') or ''}: {err.get('message') or ''}".strip(": ") if err else ""
    if r.status == "timeout" and not reason:
        reason = f"time budget of {r.info.record.budget_s} s spent"
    return one_line(reason or "(no reason recorded)", 200)


def failed_runs(data: ReportData) -> list[str]:
    """Failed and timed-out runs with their reasons, then the runs that did not finish."""
    lines = ["### Failed and timed-out runs", ""]
    rows = [
        [r.run_id, r.mode, r.config, r.seed, r.status, _failure_reason(r), f"`{r.manifest_file}`"]
        for r in data.runs
        if r.status in FINISHED_BAD and not r.ignored
    ]
    lines += [
        md_table(["run", "mode", "configuration", "seed", "status", "reason", "source"], rows)
        if rows
        else "None: every run that is not ignored finished.",
        "",
    ]
    other = [r for r in data.runs if r.status in UNFINISHED and not r.ignored]
    if other:
        lines += ["Runs that did not finish (not counted):", ""]
        lines += [
            f"- {_code(r.run_id)} ({_text(r.mode)}): status {_code(r.status)} (source: {_code(r.manifest_file)})"
            for r in other
        ]
        lines.append("")
    return lines


def ignored_runs(data: ReportData) -> list[str]:
    lines = ["### Ignored runs", "", "Excluded from every statistic and figure above."]
    rows = []
    for ig in data.ignored:
        src = (
            f"IGNORED_RUNS.md:{ig.line}"
            if ig.line
            else (f"{ig.source}/" if ig.source != "IGNORED_RUNS.md" else ig.source)
        )
        rows.append([ig.run_id, ig.reason, f"`{src}`"])
    lines += ["", md_table(["run", "reason", "source"], rows) if rows else "No run is ignored.", ""]
    if data.ignored_warnings:
        lines += ["Warnings:", ""] + [f"- ⚠ {_markup(w)}" for w in data.ignored_warnings] + [""]
    return lines


def data_quality(data: ReportData, skipped: list[str]) -> list[str]:
    """Corrupt lines skipped, non-finite final values, metrics missing from some runs, journal warnings."""
    notes = [f"- skipped corrupt line {_code(s)}" for s in skipped]
    for r in data.counted:
        for name, (value, src) in r.finals.items():
            if value != value or value in (float("inf"), float("-inf")):
                notes.append(
                    f"- {_code(name)} ends non-finite in run {_code(r.run_id)} ({_code(src)}): excluded from its mean"
                )
    counted = data.counted
    for m in data.logged_metrics():
        have = sum(1 for r in counted if m in r.finals)
        if have < len(counted):
            notes.append(f"- {_code(m)} was logged by {have} of {len(counted)} counted runs")
    notes += [f"- journal: {_markup(w)}" for w in data.journal_warnings[:MAX_WARNINGS]]
    if len(data.journal_warnings) > MAX_WARNINGS:
        notes.append(f"- journal: {len(data.journal_warnings) - MAX_WARNINGS:,} more warnings about `JOURNAL.md`")
    return ["### Data quality", ""] + (notes or ["Every metrics line was read; no value was missing or non-finite."])


def lessons(data: ReportData, lessons_rel: str) -> list[str]:
    lines = ["", "### Lessons", ""]
    if data.lessons:
        lines += [
            f"- `{lessons_rel}:{x.line}` ({_text(x.timestamp)}{', run ' + _code(x.run_id) if x.run_id else ''}): "
            f"{one_line(x.text)}"
            for x in data.lessons
        ]
    else:
        lines.append(f"No lesson recorded for this experiment in `{lessons_rel}`.")
    return lines
