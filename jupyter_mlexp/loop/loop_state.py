"""What a keep/discard loop keeps on disk: its settings, its attempts, the attempt in flight.

One loop lives in ``experiments/NAME/loops/TAG/`` beside the experiment's runs:

- ``loop.json``: the settings fixed at ``mlexp loop start``, every finished attempt and the
  attempt in flight (``pending``), rewritten atomically after each step: the state a
  crashed loop resumes from;
- ``results.tsv``: one row per attempt, autoresearch's five columns first; appended, never
  rewritten (a row broken by a hand edit is skipped with a warning when read);
- ``attempts/NNNN.patch``: each attempt's diff (``git format-patch``), so none is ever lost;
- ``lock``: held (``flock``) by the ``mlexp loop try`` running now, naming it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import RecordBusyError, RecordError
from jupyter_mlexp.core.record.fsio import append_text, atomic_write_json, check_inside, read_record_text
from jupyter_mlexp.core.record.workspace import check_name
from jupyter_mlexp.core.stats.inference import mean_sd
from jupyter_mlexp.core.stats.verdict_arms import fmt_spread
from jupyter_mlexp.loop.keep_rule import default_extra_seeds

BRANCH_PREFIX = "autoresearch/"
KEEP, DISCARD, CRASH = "keep", "discard", "crash"
RESULTS_COLUMNS = (
    "commit",
    "metric",
    "memory_gb",
    "status",
    "description",
    "attempt",
    "seeds",
    "mean_std",
    "vs_best",
    "lines",
    "duration_s",
)


@dataclass
class Settings:
    """A loop's rules, fixed when it starts (``mlexp loop start``)."""

    tag: str
    experiment: str
    metric: str
    higher_is_better: bool
    seeds: list[int]
    level: float = 0.95
    budget: float | None = None
    #: the least improvement that counts (beside the test); None = 0, or 1 % of the best's mean when
    #: the seeds show no spread at all
    min_delta: float | None = None
    #: re-run a screened win and the best kept commit side by side on this many fresh seeds before
    #: keeping it (0 = no confirmation: one test at the level); None = twice the seeds, at least 4
    confirm: int | None = None
    #: the simplicity rule: a gain below ``simplicity_gain`` that adds more than this many lines is discarded
    simplicity_lines: int = 20
    #: None = the noise floor (2 sd of the loop's seed noise)
    simplicity_gain: float | None = None
    #: the harm a simpler change may have and still count as equal; None = half the loop's seed sd
    margin: float | None = None
    start_commit: str = ""
    created: str = ""

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.tag

    @property
    def confirm_n(self) -> int:
        """Fresh seeds a screened win is confirmed on (``confirm``, or its default)."""
        if self.confirm is not None:
            return self.confirm

        return default_extra_seeds(len(self.seeds))


@dataclass
class Attempt:
    """One attempt: a commit, its runs (one per seed) and the decision."""

    n: int
    description: str
    commit: str
    parent: str
    command: list[str] = field(default_factory=list)
    status: str = "running"
    reason: str = ""
    seeds: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    #: difference of means vs the best kept attempt (positive = better), its one-sided p
    delta: float | None = None
    p: float | None = None
    test: str = ""
    lines_added: int = 0
    lines_removed: int = 0
    duration_s: float = 0.0
    #: the loop's own time (commit, ref, patch, decision, restore, records), outside the runs
    overhead_s: float | None = None
    #: wall time inside the runs (the command plus each run's start and end)
    runs_s: float = 0.0
    memory_gb: float | None = None
    log_tail: str = ""
    baseline: bool = False
    confirm_seeds: list[int] = field(default_factory=list)
    #: the best kept commit re-run beside it (a confirmation's fresh seeds, or a batch's reference arm)
    reference_seeds: list[int] = field(default_factory=list)
    reference_values: list[float] = field(default_factory=list)
    reference_run_ids: list[str] = field(default_factory=list)
    started: str = ""
    ended: str = ""
    revived_from: int | None = None

    #: a ref holding the uncommitted edits the restore would have overwritten (a stash commit)
    kept_aside: str = ""

    # the verdict's statistics, imported when first used: every mlexp command imports this module
    @property
    def mean(self) -> float | None:

        return mean_sd(self.values)[0] if self.values else None

    @property
    def sd(self) -> float | None:

        return mean_sd(self.values)[1] if self.values else None

    @property
    def spread(self) -> str:
        """``0.3426 ± 0.035 (n = 3)``: the verdict's way of writing a mean over seeds."""

        return fmt_spread(self.mean, self.sd, len(self.values))

    @property
    def ref(self) -> str:
        return attempt_ref(self.n)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def attempt_ref(n: int) -> str:
    """The ref that keeps attempt ``n``'s commit reachable after any reset."""
    return f"refs/mlexp/attempts/{n:04d}"


def edits_ref(n: int) -> str:
    """The ref that keeps uncommitted edits the loop set aside while ending attempt ``n``."""
    return f"refs/mlexp/edits/{n:04d}"


@dataclass
class LoopState:
    settings: Settings
    attempts: list[Attempt] = field(default_factory=list)
    pending: Attempt | None = None
    #: the attempts of a parallel batch in flight (``mlexp loop batch``, ``try --worktree``)
    batch: list[Attempt] = field(default_factory=list)
    #: process groups of the batch's arms running now (killed by the recovery if the loop died)
    arm_groups: list[int] = field(default_factory=list)

    def best(self) -> Attempt | None:
        """The last kept attempt: the branch's tip and the reference for the next one."""
        kept = [a for a in self.attempts if a.status == KEEP]
        return kept[-1] if kept else None

    def next_number(self) -> int:
        numbers = [a.n for a in self.attempts + self.batch] + ([self.pending.n] if self.pending else [])
        return max(numbers, default=-1) + 1

    def get(self, n: int) -> Attempt:
        for a in self.attempts:
            if a.n == n:
                return a
        raise RecordError(f"loop {self.settings.tag!r} has no attempt {n} (see `mlexp loop status`)")

    def counts(self) -> dict[str, int]:
        out = {KEEP: 0, DISCARD: 0, CRASH: 0}
        for a in self.attempts:
            out[a.status] = out.get(a.status, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": asdict(self.settings),
            "attempts": [asdict(a) for a in self.attempts],
            "pending": asdict(self.pending) if self.pending else None,
            "batch": [asdict(a) for a in self.batch],
            "arm_groups": self.arm_groups,
        }


class LoopFiles:
    """The files of one loop: ``experiments/NAME/loops/TAG/``."""

    def __init__(self, experiment_path: Path, tag: str):
        self.tag = check_name(tag, "loop tag")
        self.experiment_path = Path(experiment_path)
        self.path = self.experiment_path / "loops" / self.tag

    # Each path is refused when a symlink on the way leads out of the experiment's folder.
    state_json = property(lambda self: self._inside("loop.json"))
    results_tsv = property(lambda self: self._inside("results.tsv"))
    lock_file = property(lambda self: self._inside("lock"))
    figure = property(lambda self: self._inside("progress.webp"))

    def _inside(self, name: str) -> Path:
        return check_inside(self.path / name, self.experiment_path)

    def patch(self, n: int) -> Path:
        return self._inside(f"attempts/{n:04d}.patch")

    def exists(self) -> bool:
        return self.state_json.exists()

    def load(self) -> LoopState:
        text = read_record_text(self.state_json)
        if text is None:
            raise RecordError(f"no loop {self.tag!r}: start one with `mlexp loop start {self.tag}`")
        try:
            data = json.loads(text)
            return LoopState(
                Settings(**data["settings"]),
                [Attempt.from_dict(a) for a in data.get("attempts") or []],
                Attempt.from_dict(data["pending"]) if data.get("pending") else None,
                [Attempt.from_dict(a) for a in data.get("batch") or []],
                [int(g) for g in data.get("arm_groups") or []],
            )
        except (ValueError, KeyError, TypeError) as err:
            raise RecordError(f"{self.state_json} cannot be read ({err}); restore it from git or a backup") from None

    def save(self, state: LoopState) -> None:
        atomic_write_json(self.state_json, state.to_dict())

    def append_result(self, a: Attempt) -> None:
        append_text(
            self.results_tsv, "\t".join(_clean(c) for c in result_row(a)) + "\n", "\t".join(RESULTS_COLUMNS) + "\n"
        )

    def read_results(self) -> tuple[list[dict[str, str]], list[str]]:
        """The rows of ``results.tsv`` and a warning per row that cannot be read (skipped)."""
        text = read_record_text(self.results_tsv) or ""
        rows: list[dict[str, str]] = []
        warnings: list[str] = []
        lines = text.splitlines()
        for i, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cells = line.split("\t")
            if len(cells) != len(RESULTS_COLUMNS) or not cells[5].strip().isdigit():
                warnings.append(f"results.tsv:{i}: broken row skipped ({len(cells)} columns)")
                continue
            rows.append(dict(zip(RESULTS_COLUMNS, cells)))
        return rows, warnings

    @contextmanager
    def busy(self, what: str) -> Iterator[None]:
        """Hold the loop's lock for one command; a second one at once refuses, naming the first."""
        lock_file = self.lock_file  # refused before anything is made through a symlink
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 500).decode("utf-8", "replace").strip() or "another mlexp loop command"
                raise RecordBusyError(f"loop {self.tag!r} is busy: {holder}; wait for it to finish") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{what} (pid {os.getpid()})".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def result_row(a: Attempt) -> list[str]:
    mean = a.mean
    if a.delta is None:
        vs = ""
    elif a.p is not None:
        vs = f"Δ {a.delta:+.4g} (p {a.p:.3g})"
    else:
        vs = f"Δ {a.delta:+.4g}"
    return [
        a.commit[:12],
        "" if mean is None else f"{mean:.6g}",
        "" if a.memory_gb is None else f"{a.memory_gb:.3f}",
        a.status,
        a.description,
        str(a.n),
        ",".join(str(s) for s in a.seeds),
        "" if mean is None else a.spread,
        vs,
        f"+{a.lines_added}/-{a.lines_removed}",
        f"{a.duration_s:.1f}",
    ]


def _clean(cell: str) -> str:
    return " ".join(str(cell).split())[:200]
