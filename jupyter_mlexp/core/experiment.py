"""An experiment: one hypothesis and everything recorded while testing it.

:class:`Experiment` is the folder and the reading side of its record (the hypothesis, its history,
the journal, the runs, the ignored runs). What changes the record is a small service per job, which
the front doors call: :mod:`.registration` (a hypothesis), :mod:`.journaling` (an entry),
:mod:`.ignoring` (a run left out or counted again) and :mod:`.execution.run_entries` (a run's folder,
event and results row, for :mod:`.execution.lifecycle`). The methods of the same names here are the
Python API's short forms (``Experiment("x").register(...)``), one line into the service each.

``experiments/<name>/`` holds ``idea.md``/``idea.json`` (the current
hypothesis), ``idea_evolution.md``, ``JOURNAL.md``, ``IGNORED_RUNS.md``,
``research_log.jsonl``, ``results.tsv`` and the run folders under ``quick/``
and ``full/``. See ``docs/record-format.md``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jupyter_mlexp.core import ignoring, journaling, registration
from jupyter_mlexp.core.errors import (
    ExperimentNotFoundError,
    HypothesisError,
    NoHypothesisError,
    RecordError,
    RunNotFoundError,
)
from jupyter_mlexp.core.execution import run_entries
from jupyter_mlexp.core.execution.run_folder import MODES, Run
from jupyter_mlexp.core.ignoring import IGNORED_DIRS
from jupyter_mlexp.core.record import authorship, logchain, memo
from jupyter_mlexp.core.record import ignored as ignored_file
from jupyter_mlexp.core.record import journal as journal_file
from jupyter_mlexp.core.record.fsio import (
    MAX_JSON_BYTES,
    check_confined,
    confinement,
    parse_json_record,
    read_json_record,
    read_jsonl,
)
from jupyter_mlexp.core.record.hypothesis import Hypothesis
from jupyter_mlexp.core.record.idea_files import (
    registrations,
)
from jupyter_mlexp.core.record.journal import now_iso
from jupyter_mlexp.core.record.run_record import RunRecord, migrate
from jupyter_mlexp.core.record.runinfo import RunInfo, is_stale
from jupyter_mlexp.core.record.shapes import manifest_problem, text_list
from jupyter_mlexp.core.record.workspace import check_name, experiments_dir
from jupyter_mlexp.core.registration import Registration

__all__ = ["Experiment", "Registration", "RunInfo"]


class Experiment:
    """A folder ``experiments/<name>/`` and the operations on its record."""

    def __init__(self, name: str, root: str | os.PathLike | None = None):
        self.name = check_name(name)
        self.base = experiments_dir(root)
        self.path = self.base / self.name
        authorship.share_with_group_folder(self.base.parent)  # a setgid group folder: group-writable files

    # -- files ------------------------------------------------------------------------------
    idea_json = property(lambda self: self.path / "idea.json")
    idea_md = property(lambda self: self.path / "idea.md")
    evolution_md = property(lambda self: self.path / "idea_evolution.md")
    journal_md = property(lambda self: self.path / "JOURNAL.md")
    ignored_md = property(lambda self: self.path / "IGNORED_RUNS.md")
    log_jsonl = property(lambda self: self.path / "research_log.jsonl")
    results_tsv = property(lambda self: self.path / "results.tsv")

    def exists(self) -> bool:
        return self.idea_json.exists()

    def require(self) -> Experiment:
        if not self.path.is_dir():
            raise ExperimentNotFoundError(
                f"no experiment {self.name!r} under {self.base}; register one with %%hypothesis {self.name} "
                f"or `mlexp hypothesis {self.name} ...`"
            )
        return self

    @classmethod
    def all(cls, root: str | os.PathLike | None = None) -> list[Experiment]:
        """Every experiment with a registered hypothesis under ``root``, by name."""
        base = experiments_dir(root)
        if not base.is_dir():
            return []
        out = []
        for child in sorted(base.iterdir()):
            if child.is_dir() and (child / "idea.json").exists():
                try:
                    out.append(cls(child.name, root))
                except Exception:
                    continue
        return out

    # -- events -----------------------------------------------------------------------------
    def log_event(self, event: str, **data: Any) -> None:
        """Append one event to ``research_log.jsonl``, chained to the entry before it (:mod:`.logchain`),
        with its author (:mod:`.authorship`)."""
        record = {"event": event, "time": now_iso(), "experiment": self.name, "author": authorship.author(), **data}
        logchain.append(self.log_jsonl, record)

    def events(self) -> list[dict]:
        return read_jsonl(self.log_jsonl)[0]

    # -- hypothesis -------------------------------------------------------------------------
    @property
    def hypothesis(self) -> Hypothesis:
        """The current hypothesis. Raises the gate's error when none is registered."""
        try:
            data = read_json_record(self.idea_json)
        except FileNotFoundError:
            raise NoHypothesisError(
                f"experiment {self.name!r} has no registered hypothesis: register one first with a "
                f"%%hypothesis {self.name} cell (a claim, 'success: METRIC OP NUMBER', 'metrics: ...') "
                f"or `mlexp hypothesis {self.name} --statement ... --success ... --metrics ...`"
            ) from None
        except RecordError as err:
            raise RecordError(f"{err} (git diff shows what changed)") from None
        if not isinstance(data, dict):
            raise RecordError(f"{self.idea_json} is not a JSON object; fix or restore it")
        try:
            return Hypothesis.from_dict(data)
        except (HypothesisError, TypeError) as err:
            raise RecordError(f"{self.idea_json}: {err}") from None

    def history(self) -> list[dict]:
        """Every registered version, oldest first (from ``research_log.jsonl``)."""
        return [{**ev["hypothesis"], "changes": text_list(ev.get("changes"))} for ev in registrations(self.events())]

    def register(self, hyp: Hypothesis | str, reason: str | None = None, force: bool = False) -> Registration:
        """:func:`.registration.register`."""
        return registration.register(self, hyp, reason, force)

    # -- journal ----------------------------------------------------------------------------
    def add_journal(self, text: str, tags: Iterable[str] = (), event: bool = True) -> str:
        """:func:`.journaling.add_entry`."""
        return journaling.add_entry(self, text, tags, event)

    def journal(self) -> journal_file.JournalRead:
        return journal_file.read_journal(self.journal_md)

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, mode: str, **manifest: Any) -> Run:
        """:func:`.execution.run_entries.open_run`."""
        return run_entries.open_run(self, mode, **manifest)

    def finish_run(
        self, run: Run, status: str, error: BaseException | None = None, description: str = "", **extra
    ) -> dict:
        """:func:`.execution.run_entries.close_run`."""
        return run_entries.close_run(self, run, status, error, description, **extra)

    def run_dirs(self) -> Iterable[tuple[Path, bool]]:
        """(run folder, placed under ignored/) for every folder holding a run.json."""
        return [(Path(p), in_dir) for p, in_dir, _ in self._scan()]

    def _scan(self) -> list[tuple[str, bool, os.stat_result]]:
        """(run folder, placed under ignored/, the stat of its run.json) for every folder holding one."""
        out: list[tuple[str, bool, os.stat_result]] = []

        def scan(folder: str, ignored: bool, depth: int) -> None:
            try:
                with os.scandir(folder) as it:
                    children = list(it)
            except OSError:
                return
            for child in children:
                if not child.is_dir(follow_symlinks=False):
                    continue
                try:
                    st = os.stat(child.path + "/run.json")
                except OSError:
                    if depth > 0 and (child.name in IGNORED_DIRS or child.name in MODES):
                        scan(child.path, ignored or child.name in IGNORED_DIRS, depth - 1)
                    continue
                out.append((child.path, ignored, st))

        base = str(self.path)
        for mode in MODES:
            scan(os.path.join(base, mode), False, 1)
        for name in IGNORED_DIRS:
            scan(os.path.join(base, name), True, 2)
        return out

    def runs(self, include_ignored: bool = True) -> list[RunInfo]:
        """Every run, oldest first, with ignored state and ``stale`` for a dead ``running`` one.

        The listing is kept (:func:`.record.memo.derived`) while every ``run.json`` and
        ``IGNORED_RUNS.md`` keep their stat: the surfaces that list or judge the same experiment one
        after the other (the sidebar, ``mlexp status``, the report) read it once. The
        :class:`RunInfo` objects are shared: read-only.
        """
        entries = self._scan()
        now = time.time_ns()
        try:
            ist = os.stat(self.ignored_md)
        except OSError:
            ignored_key, keep = None, True
        else:
            ignored_key, keep = memo.stamp(ist), memo.settled(ist, now)
        keep = keep and all(memo.settled(st, now) for _, _, st in entries)
        stamps = {p: memo.stamp(st) for p, _, st in entries}
        key = (confinement(), ignored_key, [(p, d, stamps[p]) for p, d, _ in entries])
        slot = str(self.path)
        before = memo.previous("runs", slot)
        kept = before[1][1] if before is not None and before[0][0] == key[0] else {}
        every, _ = memo.derived("runs", slot, key, lambda: self._list(entries, stamps, kept), keep)
        out = []
        for info in every:
            if info.status == "running" and is_stale(info.record):  # its process ended since the listing
                record, info = info.record, dataclasses.replace(info, status="stale")
                info.__dict__["record"] = record
            if include_ignored or not info.ignored:
                out.append(info)
        return out

    def _list(
        self,
        entries: list[tuple[str, bool, os.stat_result]],
        stamps: dict[str, tuple[int, int, int, int]],
        kept: dict[str, tuple[tuple[int, int, int, int], RunInfo]],
    ) -> tuple[list[RunInfo], dict[str, tuple[tuple[int, int, int, int], RunInfo]]]:
        """The listing, and each run by folder with its run.json's stamp. ``kept``: the last listing's runs
        by folder; a run whose run.json kept its stamp and whose ignored state is the same is that very
        object again (with what was derived from it), so one new run costs one parse, not a re-read."""
        listed, _ = ignored_file.read_ignored(self.ignored_md)
        with memo.bulk():
            return self._build(entries, stamps, kept, listed)

    def _build(
        self,
        entries: list[tuple[str, bool, os.stat_result]],
        stamps: dict[str, tuple[int, int, int, int]],
        kept: dict[str, tuple[tuple[int, int, int, int], RunInfo]],
        listed: dict[str, ignored_file.IgnoredRun],
    ) -> tuple[list[RunInfo], dict[str, tuple[tuple[int, int, int, int], RunInfo]]]:
        top = len(str(self.path)) + 1
        out: list[RunInfo] = []
        by_folder = {}
        for folder, in_ignored_dir, st in entries:
            placed = os.path.dirname(folder)[top:].replace(os.sep, "/") if in_ignored_dir else None
            old = kept.get(folder)
            if old is not None and old[0] == stamps[folder]:
                info = old[1]
                reason = listed[info.run_id].reason if info.run_id in listed else None
                if reason is None and placed is not None:
                    reason = f"placed under {placed}/"
                if reason != info.ignored_reason or placed != info.placed:
                    typed, info = info.record, dataclasses.replace(info, ignored_reason=reason, placed=placed)
                    info.__dict__["record"] = typed
            else:
                path = Path(folder)
                manifest, record = self._read_manifest(path, st)
                info = RunInfo.listed(path, manifest, None, record)
                info.placed = placed
                if placed is not None:
                    info.ignored_reason = f"placed under {placed}/"
                if info.run_id in listed:
                    info.ignored_reason = listed[info.run_id].reason
            out.append(info)
            by_folder[folder] = (stamps[folder], info)
        out.sort(key=lambda r: (r.record.started or "", r.run_id))
        return out, by_folder

    def _read_manifest(self, path: Path, st: os.stat_result | None = None) -> tuple[dict, RunRecord | None]:
        """``path/run.json`` and its record, or a stand-in with status ``corrupt`` naming the file and what
        is wrong (its record None). ``st``: the file's stat, when the caller has just taken it."""
        problem: str | None
        file = os.path.join(path, "run.json")
        try:
            check_confined(file)
            manifest, problem, record = memo.cached(file, "manifest", _parse_manifest, st=st)
        except RecordError:
            problem = "a symlink leading out of the workspace; not read"
        except (OSError, ValueError, RecursionError) as err:
            problem = "not valid JSON" if not isinstance(err, OSError) else (err.strerror or type(err).__name__)
        else:
            if problem is None:
                return manifest, record
        mode = path.parent.name if path.parent.name in MODES else None
        where = (path / "run.json").relative_to(self.path).as_posix()
        return {"run_id": path.name, "mode": mode, "status": "corrupt", "problem": f"{where}: {problem}"}, None

    def get_run(self, run_id: str) -> RunInfo:
        check_name(run_id, "run id")
        for info in self.runs():
            if info.run_id == run_id:
                return info
        raise RunNotFoundError(f"no run {run_id!r} in experiment {self.name!r} (see `mlexp runs {self.name}`)")

    # -- ignored runs -----------------------------------------------------------------------
    def ignored(self, runs: list[RunInfo] | None = None) -> tuple[list[ignored_file.IgnoredRun], list[str]]:
        """Ignored runs (listed or placed under ignored/) and warnings, e.g. ids that match no run.
        ``runs``: :meth:`runs`, when the caller has just listed them."""
        listed, warnings = ignored_file.read_ignored(self.ignored_md)
        out = list(listed.values())
        known = set()
        for info in self.runs() if runs is None else runs:
            name = info.path.name
            known.add(name)
            if info.placed is not None and name not in listed:
                out.append(ignored_file.IgnoredRun(name, f"placed under {info.placed}/", None, None, info.placed))
        for rid in listed:
            if rid not in known:
                warnings.append(f"IGNORED_RUNS.md:{listed[rid].line}: run {rid!r} does not exist in this experiment")
        return out, warnings

    def ignore(self, run_id: str, reason: str, replace: bool = False) -> ignored_file.IgnoredRun:
        """:func:`.ignoring.ignore`."""
        return ignoring.ignore(self, run_id, reason, replace)

    def unignore(self, run_id: str) -> None:
        """:func:`.ignoring.unignore`."""
        ignoring.unignore(self, run_id)


def _parse_manifest(file: str) -> tuple[Any, str | None, RunRecord | None]:
    """A run.json parsed, why it cannot serve as a manifest (None when it can) and its typed record
    (None when it cannot); shared: read-only."""
    with open(file, "rb", buffering=0) as fh:  # bytes: json reads UTF-8 itself, without a text layer
        # read(size) with a 64 MB size allocates that much for each small file: ask the size first
        big = os.fstat(fh.fileno()).st_size > MAX_JSON_BYTES
        data = fh.read(MAX_JSON_BYTES + 1) if big else fh.readall()
    try:
        manifest = parse_json_record(data, "run.json")
    except RecordError as err:
        return None, str(err).removeprefix("run.json ").removesuffix("; fix or restore it"), None
    problem = manifest_problem(manifest)
    if problem:
        return manifest, problem, None
    manifest = migrate(manifest)
    return manifest, None, RunRecord.from_manifest(manifest)
