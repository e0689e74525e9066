"""``mlexp verify``: does an experiment's record match itself? The chain, its anchors, the run folders.

Checks, one :class:`~jupyter_mlexp.core.record.logchain.Finding` per thing that does not match:

- the chain of ``research_log.jsonl`` (:func:`jupyter_mlexp.core.record.logchain.check`);
- its anchors outside the log, which catch a chain recomputed after an edit: each run's
  ``run.json`` ``log_head`` (the head when the run started), heads a class collection kept
  (passed in as ``anchors``) and, where the experiment is in a git repository, every committed
  version of the log (each must be the start of the log now: the log is append-only);
- the run folders against the log: each folder's run was recorded starting, each recorded run
  has its folder, each run started after the registration of the hypothesis version it ran
  under, and after the head its ``run.json`` recorded.

It only reads. Entries written before the chain are a note ("before the chain"), not a finding.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.record import logchain
from jupyter_mlexp.core.record.fsio import read_record_text
from jupyter_mlexp.core.record.logchain import SEQ, ChainCheck, Finding, Head

LOG = "research_log.jsonl"
GIT_COMMITS = 50  # committed versions of the log compared, newest first
REGISTRATION_EVENTS = ("hypothesis_registered", "idea_updated")


@dataclass(frozen=True)
class Anchor:
    """A head of the log recorded outside it, and where (``full/RUN/run.json``, a collection's file)."""

    head: Head
    source: str


@dataclass
class Verification:
    experiment: str
    findings: list[Finding] = field(default_factory=list)
    entries: int = 0
    first_chained: int | None = None
    head: Head = field(default_factory=lambda: Head(0, ""))
    anchors: int = 0
    git_commits: int = 0

    @property
    def ok(self) -> bool:
        return not any(f.broken for f in self.findings)

    @property
    def broken(self) -> list[Finding]:
        return [f for f in self.findings if f.broken]

    def summary(self) -> str:
        """One line: verified, or how many findings."""
        if not self.entries:
            return f"{self.experiment}: no research log to verify"
        chain = (
            "not chained"
            if self.first_chained is None
            else f"chained from entry {self.first_chained}"
            if self.first_chained > 1
            else "chained"
        )
        what = f"{self.entries} entries, {chain}, head {self.head.short()}; {self.anchors} anchor(s)" + (
            f", {self.git_commits} git commit(s)" if self.git_commits else ""
        )
        n = len(self.broken)
        verdict = "verified" if n == 0 else f"{n} finding{'s' if n != 1 else ''}"
        return f"{self.experiment}: {verdict} ({what})"

    def lines(self) -> list[str]:
        return [self.summary(), *(f"  {f.line()}" for f in self.findings)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "ok": self.ok,
            "summary": self.summary(),
            "entries": self.entries,
            "first_chained": self.first_chained,
            "head": self.head.to_dict(),
            "anchors": self.anchors,
            "git_commits": self.git_commits,
            "findings": [f.to_dict() for f in self.findings],
        }


def verify_experiment(
    exp: Any, anchors: Sequence[Anchor] = (), git: bool = True, runs: Sequence[Any] | None = None
) -> Verification:
    """Verify an :class:`~jupyter_mlexp.core.experiment.Experiment`'s record (``anchors``: heads kept elsewhere;
    ``runs``: its runs, ignored ones included, when the caller has read them)."""
    text = read_record_text(exp.log_jsonl) or ""
    chain = logchain.check(text, LOG)
    out = Verification(exp.name, list(chain.findings), chain.entries, chain.first_chained, chain.head)
    if runs is None:
        runs = exp.runs(include_ignored=True)
    run_anchors = []
    for info in runs:
        h = Head.from_dict(info.record.log_head)
        if h is not None:
            run_anchors.append(Anchor(h, f"{_rel(info.path, exp.path)}/run.json"))
    every = [*run_anchors, *anchors]
    out.anchors = len(every)
    out.findings += _check_anchors(chain, every)
    out.findings += _check_runs(chain, runs, exp.path)
    if git:
        commits, found = _git_witness(exp.log_jsonl, chain)
        out.git_commits = commits
        out.findings += found
    return out


def _rel(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` (strings: this runs once per run folder)."""
    p, b = str(path), str(base).rstrip(os.sep) + os.sep
    return p[len(b) :].replace(os.sep, "/") if p.startswith(b) else os.path.basename(p)


def _entry_at(chain: ChainCheck, seq: int) -> int | None:
    """The index of the entry numbered ``seq`` (by its ``seq`` field, else by position)."""
    for i, rec in enumerate(chain.records):
        if rec is not None and rec.get(SEQ) == seq:
            return i
    if chain.first_chained is None or seq < chain.first_chained:
        return seq - 1 if 0 < seq <= chain.entries else None
    return None


def _check_anchors(chain: ChainCheck, anchors: Sequence[Anchor]) -> list[Finding]:
    out: list[Finding] = []
    stripped_said = False
    for a in sorted(anchors, key=lambda a: (a.head.seq, a.source)):
        seq = a.head.seq
        if seq <= 0:
            continue
        if chain.first_chained is None and chain.entries and not stripped_said:
            out.append(
                Finding(
                    "broken",
                    f"no entry carries a chain hash, but {a.source} recorded the chain's head at entry {seq}: "
                    "the log's hashes were stripped after the chain began",
                    LOG,
                )
            )
            stripped_said = True
        i = _entry_at(chain, seq)
        if i is None:
            out.append(
                Finding(
                    "broken",
                    f"{a.source} recorded the log's head at entry {seq}, but the log has no entry {seq} now "
                    f"({chain.entries} entries): entries were removed",
                    LOG,
                )
            )
        elif chain.hashes[i] != a.head.sha256:
            out.append(
                Finding(
                    "broken",
                    f"{a.source} recorded entry {seq} as {a.head.sha256[:12]}…, it now hashes to "
                    f"{chain.hashes[i][:12]}…: the log was changed at or before entry {seq}"
                    + (" and its chain recomputed" if not any(f.broken for f in chain.findings) else ""),
                    f"{LOG}:{chain.lines[i]}",
                )
            )
    return out


def _check_runs(chain: ChainCheck, runs: Sequence[Any], base: Path) -> list[Finding]:
    out: list[Finding] = []
    started: dict[str, int] = {}
    registered: dict[int, int] = {}
    for i, rec in enumerate(chain.records):
        if rec is None:
            continue
        ev = rec.get("event")
        if ev == "run_started" and isinstance(rec.get("run_id"), str):
            started.setdefault(rec["run_id"], i)
        elif ev in REGISTRATION_EVENTS and type(rec.get("version")) is int:
            registered.setdefault(rec["version"], i)
    folders = {r.run_id: r for r in runs}
    for info in runs:
        where = f"{_rel(info.path, base)}/run.json"
        at = started.get(info.run_id)
        if at is None:
            out.append(
                Finding(
                    "broken",
                    f"run {info.run_id} has a folder but {LOG} never recorded it starting "
                    "(its entry was removed, or the folder was added by hand)",
                    where,
                )
            )
            continue
        i = at
        h = Head.from_dict(info.record.log_head)
        if h is not None and i + 1 <= h.seq:
            out.append(
                Finding(
                    "broken",
                    f"run {info.run_id} started when the log had {h.seq} entries, but its start is entry {i + 1}: "
                    "entries were moved",
                    f"{LOG}:{chain.lines[i]}",
                )
            )
        version = info.record.hypothesis_version
        if type(version) is int and version in registered and registered[version] > i:
            out.append(
                Finding(
                    "broken",
                    f"run {info.run_id} ran under hypothesis v{version}, whose registration (entry "
                    f"{registered[version] + 1}) comes after the run's start (entry {i + 1}): entries were moved",
                    f"{LOG}:{chain.lines[i]}",
                )
            )
    for run_id, i in started.items():
        if run_id not in folders:
            out.append(
                Finding(
                    "broken",
                    f"run {run_id} is recorded starting (entry {i + 1}) but its folder is gone",
                    f"{LOG}:{chain.lines[i]}",
                )
            )
    return out


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, errors="replace", timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _git_witness(log: Path, chain: ChainCheck) -> tuple[int, list[Finding]]:
    """Every committed version of the log (the newest :data:`GIT_COMMITS`) must be the start of the log now."""
    folder = Path(log).parent
    if not folder.is_dir() or _git(["rev-parse", "--is-inside-work-tree"], folder) is None:
        return 0, []
    listed = _git(["log", f"-n{GIT_COMMITS}", "--format=%H", "--", log.name], folder)
    if not listed:
        return 0, []
    commits = listed.split()
    out = []
    for commit in commits:
        text = _git(["show", f"{commit}:./{log.name}"], folder)
        if text is None:
            continue  # removed in that commit
        then = logchain.entry_hashes(text)
        if len(then) > chain.entries:
            out.append(
                Finding(
                    "broken",
                    f"git commit {commit[:10]} holds {len(then)} entries, the log now {chain.entries}: entries removed",
                    LOG,
                )
            )
            continue
        for n, (a, b) in enumerate(zip(then, chain.hashes), 1):
            if a != b:
                out.append(
                    Finding(
                        "broken",
                        f"git commit {commit[:10]} holds a different entry {n} than the log now: it was changed "
                        "after that commit",
                        f"{LOG}:{chain.lines[n - 1]}",
                    )
                )
                break
    return len(commits), out
