"""One student's experiment as the class report states it: facts read through the core, each with its file.

Nothing here decides a verdict or re-derives a rule: the verdict is the core's
:func:`~jupyter_mlexp.core.stats.verdict.judge_experiment`; the verdict "with the ignored runs" and
"under the first version" are the same :func:`~jupyter_mlexp.core.stats.verdict.judge` called on other
inputs (the ignored runs counted; the first registered hypothesis); the changes after runs are the
verdict's ``criterion_changes``; the audit of the log is
:func:`~jupyter_mlexp.core.record.verification.verify_experiment` with the heads each collection kept.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record import course as course_file
from jupyter_mlexp.core.record.fsio import read_record_text
from jupyter_mlexp.core.record.hypothesis import Hypothesis
from jupyter_mlexp.core.record.idea_files import registrations
from jupyter_mlexp.core.record.logchain import Head
from jupyter_mlexp.core.record.verification import Anchor, Verification, verify_experiment
from jupyter_mlexp.core.stats.observations import Observation, load_observations
from jupyter_mlexp.core.stats.verdict import Verdict, judge, judge_experiment
from jupyter_mlexp.core.stats.verdict_history import experiment_changes

_HOME = re.compile(r"(?:/home|/Users|/root|/var/home)(?:/[^/\s'\"`]+)?")
_ABS = re.compile(r"(?<![\w.~])/(?:tmp|private|mnt|srv|data|scratch|opt)/[^\s'\"`]*")


def scrub(text: str) -> str:
    """A text from a student's record with absolute home and machine paths replaced by ``~`` / ``…``."""
    return _ABS.sub("…", _HOME.sub("~", text))


@dataclass
class Event:
    entry: int
    line: int
    text: str
    last: int | None = None  # the last entry of a folded stretch of run events

    def where(self) -> str:
        return f"entry {self.entry}" if self.last is None else f"entries {self.entry}–{self.last}"


@dataclass
class ExperimentAudit:
    student: str
    experiment: str
    where: str  # the experiment's folder relative to the class workspace
    hypothesis: Hypothesis | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    verdict: Verdict | None = None
    verdict_with_ignored: Verdict | None = None
    verdict_first_version: Verdict | None = None
    runs: dict[str, int] = field(default_factory=dict)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    tags: Counter = field(default_factory=Counter)
    verification: Verification | None = None
    course: list[str] = field(default_factory=list)
    problem: str | None = None
    observations: list[Observation] = field(default_factory=list)  # the counted runs, as the verdict reads them
    missing: list[str] = field(default_factory=list)  # files the collection could not bring (nbgrader's size limit)

    def cite(self, rel: str = "") -> str:
        return f"{self.where}/{rel}" if rel else f"{self.where}/"

    @property
    def changed_after_runs(self) -> list[str]:
        return list(self.verdict.criterion_changes) if self.verdict else []

    @property
    def ignored_changes_verdict(self) -> bool:
        a, b = self.verdict, self.verdict_with_ignored
        if not self.ignored or a is None:
            return False
        # the verdict itself says when it is supported only without runs ignored after their value was seen
        return a.decided_by_ignoring or (b is not None and a.decision != b.decision)

    @property
    def reused_seeds(self) -> list[str]:
        """Configurations whose confirming runs re-ran seeds the exploration saw (the verdict's seed rule:
        :attr:`~jupyter_mlexp.core.stats.verdict_arms.Arm.reused_seeds`), ``label: seed 0, 1, 2`` each."""
        v = self.verdict
        if v is None:
            return []
        return [f"{a.label}: seed {', '.join(map(str, a.reused_seeds))}" for a in v.candidates if a.reused_seeds]

    def n_text(self, v: Verdict | None) -> str:
        if v is None:
            return ""
        n = v.to_dict()["n_per_arm"]
        return ", ".join(f"{k}: n={x}" for k, x in n.items()) or "n=0"

    def flags(self) -> list[str]:
        """The audit's flags, short, for the class table."""
        out = []
        if self.verification is not None and not self.verification.ok:
            out.append("record altered")
        if self.changed_after_runs:
            out.append("changed after runs")
        if self.ignored_changes_verdict:
            out.append("ignored run changes verdict")
        if self.reused_seeds:
            out.append("reused exploration seeds")
        if not self.runs.get("full"):
            out.append("no full runs")
        if self.course:
            out.append("contradicts course")
        if self.problem:
            out.append("unreadable")
        if self.missing:
            out.append("files missing")
        return out


def _course_check(exp: Experiment, hyp: Hypothesis | None, course: course_file.Course | None, runs) -> list[str]:
    if course is None or hyp is None:
        return []
    out = [f"idea.json: {c}" for c in course_file.contradictions(hyp, course)]
    if course.budget is not None:
        over = [r.run_id for r in runs if r.mode == "quick" and (r.record.budget_s or 0) > course.budget]
        if over:
            out.append(f"{len(over)} quick run(s) with a budget over the course's {course.budget:g} s (e.g. {over[0]})")
    for name, sha in course.data.items():
        bad = [r.run_id for r in runs if name in r.record.data and (r.record.data[name] or {}).get("sha256") != sha]
        if bad:
            out.append(f"{len(bad)} run(s) read a {name} whose hash is not the course's (e.g. {bad[0]}/run.json)")
    return out


def _events(exp: Experiment) -> list[Event]:
    """The order of events as the log records them (entry numbers and lines of research_log.jsonl)."""

    out = []
    text = read_record_text(exp.log_jsonl) or ""

    n = 0
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        n += 1
        try:
            ev = json.loads(line)
        except ValueError:
            out.append(Event(n, lineno, "(not JSON)"))
            continue
        if not isinstance(ev, dict):
            continue
        kind = ev.get("event")
        if kind == "hypothesis_registered":
            what = f"registered v{ev.get('version')}: success {(ev.get('hypothesis') or {}).get('success')}"
        elif kind == "idea_updated":
            changes = "; ".join(map(str, ev.get("changes") or [])) or "edited"
            what = f"updated to v{ev.get('version')} ({changes}); reason: {ev.get('reason') or 'none given'}"
        elif kind == "run_started":
            what = f"{ev.get('mode')} run {ev.get('run_id')} started (seed {ev.get('seed')})"
        elif kind in ("run_completed", "run_failed", "run_timeout", "run_interrupted"):
            what = f"{ev.get('mode')} run {ev.get('run_id')} {kind[4:]}"
        elif kind == "run_ignored":
            what = f"run {ev.get('run_id')} ignored; reason: {ev.get('reason')}"
        elif kind == "run_unignored":
            what = f"run {ev.get('run_id')} counted again"
        elif kind == "journal_entry":
            what = f"journal entry ({', '.join(ev.get('tags') or []) or 'untagged'})"
        else:
            what = str(kind)
        out.append(Event(n, lineno, scrub(what)))
    return _fold_runs(out)


_RUN_EVENT = re.compile(r"^(quick|full) run \S+ (started|completed|failed|timeout|interrupted)")


def _fold_runs(events: list[Event]) -> list[Event]:
    """Consecutive run starts and ends as one line (``entries 4–103: 50 full runs started, 50 completed``)."""
    out: list[Event] = []
    block: list[tuple[Event, re.Match]] = []

    def flush() -> None:
        if len(block) <= 2:
            out.extend(e for e, _ in block)
        else:
            counts = Counter((m.group(1), m.group(2)) for _, m in block)
            parts = [f"{n} {mode} run{'s' if n != 1 else ''} {what}" for (mode, what), n in counts.items()]
            first, last = block[0][0], block[-1][0]
            out.append(Event(first.entry, first.line, ", ".join(parts), last.entry))
        block.clear()

    for e in events:
        m = _RUN_EVENT.match(e.text)
        if m:
            block.append((e, m))
        else:
            flush()
            out.append(e)
    flush()
    return out


def audit_experiment(
    student: str,
    exp: Experiment,
    where: str,
    anchors: Sequence[tuple[str, dict[str, Any]]] = (),
    course: course_file.Course | None = None,
) -> ExperimentAudit:
    a = ExperimentAudit(student, exp.name, where)
    try:
        a.hypothesis = exp.hypothesis
    except MlexpError as err:
        a.problem = scrub(str(err))
    runs = exp.runs(include_ignored=True)
    a.runs = {
        "quick": sum(1 for r in runs if r.mode == "quick"),
        "full": sum(1 for r in runs if r.mode == "full" and r.status == "completed" and not r.ignored),
        "failed": sum(1 for r in runs if r.status in ("failed", "timeout", "interrupted", "stale", "corrupt")),
        "ignored": sum(1 for r in runs if r.ignored),
        "all": len(runs),
    }
    a.ignored = [(r.run_id, scrub(r.ignored_reason or "")) for r in runs if r.ignored]
    a.verdict = judge_experiment(exp)  # the one verdict, as every surface shows it
    a.observations = load_observations(exp, runs)
    if a.hypothesis is not None:
        regs = registrations(exp.events())
        a.versions = [
            {
                "version": ev.get("version"),
                "success": (ev.get("hypothesis") or {}).get("success"),
                "reason": scrub(str(ev.get("reason") or "")),
                "time": ev.get("time"),
            }
            for ev in regs
        ]
        if a.ignored:  # the same judge, the ignored runs counted
            every = [dataclasses.replace(r, ignored_reason=None) for r in runs]
            a.verdict_with_ignored = judge(
                load_observations(exp, every),
                a.hypothesis,
                runs_made=len(every),
                changes=experiment_changes(exp, every, regs),
                registrations=regs,
            )
        else:
            a.verdict_with_ignored = a.verdict
        if a.verdict.criterion_changes and regs:
            a.verdict_first_version = _under_first_version(exp, runs, regs, a.hypothesis)
    a.events = _events(exp)
    a.tags = Counter(t for e in exp.journal().entries for t in getattr(e, "tags", []))
    a.verification = verify_experiment(
        exp,
        anchors=[Anchor(h, src) for src, d in anchors if (h := Head.from_dict(d)) is not None],
        git=False,
        runs=runs,
    )
    a.course = _course_check(exp, a.hypothesis, course, runs)
    return a


def _under_first_version(exp: Experiment, runs, regs, current: Hypothesis) -> Verdict | None:
    """The judge on the runs counted now, against the first registered hypothesis's rule."""
    try:
        first = Hypothesis.from_dict(regs[0]["hypothesis"])
    except (MlexpError, KeyError, TypeError):
        return None
    first.content_sha256 = first.content_hash()
    obs = [
        dataclasses.replace(o, version=first.version, sha256=first.content_sha256)
        for o in load_observations(exp, runs)
        if current.covers(o.version, o.sha256)
    ]
    return judge(obs, first, runs_made=sum(1 for r in runs if not r.ignored))


def audit_student(
    student: str,
    root: Path,
    base: Path,
    heads_of: Callable[[str, str], Sequence[tuple[str, dict[str, Any]]]],
    course: course_file.Course | None,
) -> list[ExperimentAudit]:
    """Every experiment of one student's collected workspace ``root`` (``base``: the class workspace)."""
    out = []
    for exp in Experiment.all(root):
        where = exp.path.relative_to(base).as_posix()
        out.append(audit_experiment(student, exp, where, heads_of(student, exp.name), course))
    return out
