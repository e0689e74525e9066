"""The report's section for each keep/discard loop of the experiment (``loops/TAG/``).

Each section says what the loop tried and what it kept: the counts, the best kept attempt, the
kept changes with their commits, every attempt with its decision and reason (its diff cited by
file), and the loop's progress figure, drawn again from ``loop.json`` into ``figures/``. Every
number comes from the loop's record and cites it; nothing is recomputed from the runs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.loop.loop_figure import write_figure
from jupyter_mlexp.loop.loop_state import CRASH, DISCARD, KEEP, Attempt, LoopFiles, LoopState
from jupyter_mlexp.report.report_verdict import fmt_number
from jupyter_mlexp.report.safe import code as _code
from jupyter_mlexp.report.safe import text as _text
from jupyter_mlexp.report.tables import md_table

#: attempts listed in a loop's table: every kept one, then the latest others up to this many
MAX_ATTEMPT_ROWS = 60
#: characters of an attempt's reason shown in its row (the whole reason is in ``loop.json``)
MAX_REASON = 240


@dataclass
class LoopSection:
    """One loop's Markdown, and its figure to attach (None when it could not be drawn)."""

    tag: str
    markdown: str
    figure: Path | None = None


def loop_sections(experiment_path: Path, figures_dir: Path) -> list[LoopSection]:
    """A section for each loop under ``experiment_path/loops/`` (by tag); an unreadable one says why."""
    folder = experiment_path / "loops"
    if not folder.is_dir():
        return []
    out = []
    for child in sorted(p for p in folder.iterdir() if (p / "loop.json").is_file()):
        record = f"loops/{child.name}/loop.json"
        head = f"## Loop {_code(child.name)}"
        try:
            files = LoopFiles(experiment_path, child.name)
            state = files.load()
        except MlexpError as err:
            out.append(LoopSection(child.name, f"{head}\n\n{_code(record)} cannot be read: {_text(str(err))}"))
            continue
        figure = _draw(state, figures_dir / f"loop-{files.tag}.webp")
        out.append(LoopSection(files.tag, section(state, figure, experiment_path), figure))
    return out


def _draw(state: LoopState, path: Path) -> Path | None:
    try:
        return write_figure(state, path)
    except (OSError, ValueError, MlexpError):  # the section still says everything the figure shows
        return None


def section(state: LoopState, figure: Path | None, experiment_path: Path) -> str:
    """One loop's section in Markdown, each number citing the loop's files (relative to the report)."""
    s = state.settings
    tag = s.tag
    record = f"`loops/{tag}/loop.json`"
    metric = _code(s.metric)
    direction = "higher is better" if s.higher_is_better else "lower is better"
    counts = state.counts()
    lines = [
        f"## Loop {_code(tag)}",
        "",
        f"A keep/discard loop on branch {_code(s.branch)}, started {_text(s.created or '?')}: one committed change "
        f"per attempt, run over seeds {_text(', '.join(map(str, s.seeds)) or '—')}, judged on {metric} "
        f"({direction}) against the best kept attempt at level {s.level:g} (rule: `docs/loop.md`). "
        f"{len(state.attempts)} attempts: {counts[KEEP]} keep, {counts[DISCARD]} discard, {counts[CRASH]} crash "
        f"(source: {record}).",
    ]
    if state.pending is not None:
        lines[-1] += f" Attempt {state.pending.n} was in flight when this report was built."
    best = state.best()
    if best is not None:
        lines += [
            "",
            f"**Best:** attempt {best.n}, commit `{best.commit[:12]}` ({_text(best.description)}): "
            f"{metric} = {best.spread} (source: {record}).",
        ]
    kept = [a for a in state.attempts if a.status == KEEP and not a.baseline]
    if kept:
        changes = "; ".join(
            f"attempt {a.n} `{a.commit[:12]}` {_text(a.description)}" + _delta(a) for a in kept[:MAX_ATTEMPT_ROWS]
        )
        more = f"; … {len(kept) - MAX_ATTEMPT_ROWS} more" if len(kept) > MAX_ATTEMPT_ROWS else ""
        lines += ["", f"**Kept changes**, in order on the branch: {changes}{more} (source: {record})."]
    elif state.attempts:
        lines += ["", "**Kept changes:** none beyond the baseline."]
    lines += ["", f"Every attempt (source: {record}; each diff in its file under `loops/{tag}/attempts/`):", ""]
    lines.append(attempts_table(state, experiment_path))
    shown = _shown(state.attempts)
    if len(shown) < len(state.attempts):
        lines += [
            "",
            f"{len(state.attempts) - len(shown)} discarded or crashed attempts not listed; every one is in "
            f"{record} and `loops/{tag}/results.tsv`.",
        ]
    if figure is not None:
        lines += [
            "",
            f"**Loop {_code(tag)}'s progress figure.** {metric} per attempt: kept attempts filled and joined by "
            "the running best, discarded ones hollow, crashed ones a cross on the worse edge; each point the mean "
            f"over seeds ± 1 sd. File `figures/{figure.name}`, drawn from {record} "
            f"(the figure `mlexp loop` keeps as `loops/{tag}/progress.webp`).",
            "",
            f"![loop {_text(tag)}](attachment:{figure.name})",
        ]
    return "\n".join(lines)


def _delta(a: Attempt) -> str:
    parts = []
    if a.delta is not None:
        parts.append(f"Δ = {fmt_number(a.delta)}")
    if a.p is not None:
        parts.append(f"p = {fmt_number(a.p, 3)}")
    return f" ({', '.join(parts)})" if parts else ""


def _shown(attempts: list[Attempt]) -> list[Attempt]:
    """Every kept attempt, then the latest others, up to :data:`MAX_ATTEMPT_ROWS`, in order."""
    if len(attempts) <= MAX_ATTEMPT_ROWS:
        return attempts
    kept = [a for a in attempts if a.status == KEEP][-MAX_ATTEMPT_ROWS:]
    room = MAX_ATTEMPT_ROWS - len(kept)
    others = [a for a in attempts if a.status != KEEP][-room:] if room > 0 else []
    return sorted(kept + others, key=lambda a: a.n)


def attempts_table(state: LoopState, experiment_path: Path) -> str:
    """``| attempt | decision | change | metric | Δ vs best | p | reason | diff |``, one row per attempt."""
    files = LoopFiles(experiment_path, state.settings.tag)
    rows = []
    for a in _shown(state.attempts):
        reason = " ".join(a.reason.split())
        reason = reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"
        patch = files.patch(a.n)
        rows.append(
            [
                a.n,
                a.status,
                a.description or "—",
                a.spread if a.values else "not measured",
                fmt_number(a.delta) if a.delta is not None else "—",
                fmt_number(a.p, 3) if a.p is not None else "—",
                reason or "—",
                f"`loops/{state.settings.tag}/attempts/{patch.name}`" if patch.is_file() else "—",
            ]
        )
    head = ["attempt", "decision", "change", f"{state.settings.metric} over seeds", "Δ vs best", "p", "reason", "diff"]
    return md_table(head, rows)


def attachment(figure: Path) -> dict:
    """The notebook cell's attachment for a section's figure."""
    return {figure.name: {"image/webp": base64.b64encode(figure.read_bytes()).decode("ascii")}}
