"""An experiment: one hypothesis and everything recorded while testing it.

``experiments/<name>/`` holds ``idea.md``/``idea.json`` (the current
hypothesis), ``idea_evolution.md``, ``JOURNAL.md``, ``IGNORED_RUNS.md``,
``research_log.jsonl``, ``results.tsv`` and the run folders under ``quick/``
and ``full/``. See ``docs/record-format.md``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import (
    AlreadyIgnoredError,
    ExperimentNotFoundError,
    HypothesisError,
    NoHypothesisError,
    RecordError,
    RunNotFoundError,
)
from jupyter_mlexp.core.execution.run_folder import MODES, Run
from jupyter_mlexp.core.record import authorship, lessons, logchain, memo
from jupyter_mlexp.core.record import course as course_file
from jupyter_mlexp.core.record import ignored as ignored_file
from jupyter_mlexp.core.record import journal as journal_file
from jupyter_mlexp.core.record.fsio import (
    MAX_JSON_BYTES,
    append_text,
    atomic_write_json,
    atomic_write_text,
    check_confined,
    locked,
    make_folder,
    parse_json_record,
    read_json_record,
    read_jsonl,
)
from jupyter_mlexp.core.record.hypothesis import Hypothesis, parse_body
from jupyter_mlexp.core.record.idea_files import (
    describe_changes,
    last_registered_version,
    registration_problem,
    registrations,
    render_evolution_entry,
    render_idea_md,
    render_planned,
)
from jupyter_mlexp.core.record.journal import now_iso
from jupyter_mlexp.core.record.run_record import migrate
from jupyter_mlexp.core.record.runinfo import RunInfo, is_stale
from jupyter_mlexp.core.record.shapes import manifest_problem, text_list
from jupyter_mlexp.core.record.workspace import check_name, experiments_dir

__all__ = ["Experiment", "Registration", "RunInfo"]

IGNORED_DIRS = ("ignored", "_ignored")
RESULTS_COLUMNS = ("run_id", "commit", "primary_metric", "memory_gb", "status", "description")


@dataclass
class Registration:
    hypothesis: Hypothesis
    changed: bool
    created: bool
    changes: list[str] = field(default_factory=list)


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
        """Create or update the hypothesis; a changed one gets a new version, the old one is kept.

        Changing a hypothesis someone else (another Unix user) registered needs ``force``; the
        history (the event) names whose version was replaced."""
        if isinstance(hyp, str):
            hyp = parse_body(hyp)
        else:
            hyp.validate()
        if hyp.version == 0 and not reason:
            reason = hyp.update_reason  # a 'reason:' line of the cell body
        make_folder(self.path)
        with locked(self.idea_json):
            try:
                old = self.hypothesis
            except NoHypothesisError:
                old = None
            now = now_iso()
            events = self.events() if old is not None else []
            hand_edited = old is not None and registration_problem(old, events) is not None
            if old is not None and old.content() == hyp.content() and not hand_edited:
                return Registration(old, changed=False, created=False)
            course = course_file.find(root=self.base.parent)
            course_file.check_hypothesis(hyp, course)  # every front door registers here: the locks hold for all
            changes = describe_changes(old, hyp)
            if old is not None and not (reason and reason.strip()):
                self._refuse_unexplained_change(old, changes)
            owner = _registered_by(events)
            me = authorship.unix_user()
            if owner is not None and owner != me and not force:
                raise HypothesisError(
                    f"experiment {self.name!r}: the hypothesis v{old.version if old else 0} was registered by "
                    f"{owner}; changing someone else's hypothesis needs --force (it is shown in the history); "
                    "nothing was re-registered"
                )
            replaced = {"replaced_author": owner} if owner is not None and owner != me else {}
            # past every version on record, even when idea.json's version was edited by hand
            hyp.version = max(old.version if old else 0, last_registered_version(events)) + 1
            hyp.created = old.created if old else now
            hyp.last_updated = now
            hyp.update_reason = reason or (
                "initial registration" if old is None else "hypothesis edited and re-registered"
            )
            hyp.content_sha256 = hyp.content_hash()
            atomic_write_json(self.idea_json, {**hyp.to_dict(), "author": authorship.author()})
            atomic_write_text(self.idea_md, render_idea_md(self.name, hyp))
            header = f"# Evolution of the idea: {self.name}\n\n"
            append_text(self.evolution_md, render_evolution_entry(hyp, changes), header=header)
            self.log_event(
                "hypothesis_registered" if old is None else "idea_updated",
                version=hyp.version,
                reason=hyp.update_reason,
                changes=changes,
                hypothesis=hyp.to_dict(),
                **({"course": {"file": course.path.name, "sha256": course.sha256}} if course else {}),
                **replaced,
            )
        self.add_journal(render_planned(hyp, old), tags=["PLANNED"], event=False)
        return Registration(hyp, changed=True, created=old is None, changes=changes)

    def _refuse_unexplained_change(self, old: Hypothesis, changes: list[str]) -> None:
        """Changing a hypothesis that already has runs needs a reason: raise, register nothing."""
        n = sum(1 for _ in self._run_dirs())
        if n == 0:
            return
        what = "; ".join(changes) or "idea.json was edited by hand"
        raise HypothesisError(
            f"experiment {self.name!r}: hypothesis v{old.version} already has {n} run{'s' if n != 1 else ''}, so "
            f"changing it needs a reason (changed: {what}); add a line 'reason: WHY' to the %%hypothesis cell, "
            "or pass --reason WHY to `mlexp hypothesis`; nothing was re-registered"
        )

    # -- journal ----------------------------------------------------------------------------
    def add_journal(self, text: str, tags: Iterable[str] = (), event: bool = True) -> str:
        """Append an entry to JOURNAL.md; one tagged LESSON is also recorded in ``lessons.md``."""
        if not text or not text.strip():
            raise RecordError("empty journal entry: write what you noticed")
        tags = journal_file.check_tags(tags)  # an unknown tag is refused with the list, before anything is written
        make_folder(self.path)
        entry = journal_file.append_entry(self.journal_md, text, tags, author=authorship.author())
        inline, body = journal_file.split_inline_tags(text)
        all_tags = journal_file.normalize_tags([*tags, *inline])
        if event:
            self.log_event("journal_entry", tags=all_tags, text=text[:500])
        if journal_file.LESSON in all_tags:
            lessons.add_lesson(body, experiment=self)
        return entry

    def journal(self) -> journal_file.JournalRead:
        return journal_file.read_journal(self.journal_md)

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, mode: str, **manifest: Any) -> Run:
        """Create a new run folder under ``quick/`` or ``full/``. The gate: needs a hypothesis."""
        hyp = self.hypothesis
        manifest.setdefault("stage", hyp.stage)
        manifest.setdefault("experiment", self.name)
        manifest.setdefault("hypothesis_version", hyp.version)
        if hyp.content_sha256:
            manifest.setdefault("hypothesis_sha256", hyp.content_sha256)
        manifest.setdefault("host", socket.gethostname())
        run = Run.create(self.path, mode, manifest)
        self.log_event(
            "run_started", run_id=run.run_id, mode=mode, params=manifest.get("params"), seed=manifest.get("seed")
        )
        return run

    def finish_run(
        self, run: Run, status: str, error: BaseException | None = None, description: str = "", **extra
    ) -> dict:
        """End ``run``, append its event and its ``results.tsv`` row."""
        manifest = run.finish(status, error, **extra)
        ev = {"completed": "run_completed", "failed": "run_failed", "timeout": "run_timeout"}.get(
            status, f"run_{status}"
        )
        self.log_event(
            ev,
            run_id=run.run_id,
            mode=run.mode,
            duration_s=manifest.get("duration_s"),
            error=(manifest.get("error") or {}).get("message"),
        )
        self.append_result(run, description)
        return manifest

    def append_result(self, run: Run, description: str = "") -> None:
        m = run.manifest
        try:
            primary = self.hypothesis.primary_metric
        except Exception:
            primary = None
        value = (m.get("metrics_summary") or {}).get(primary or "", {}).get("last")
        mem = m.get("peak_memory_gb")
        row = [
            run.run_id,
            ((m.get("git") or {}).get("commit") or "")[:12],
            "" if value is None else f"{value:.6g}",
            "" if mem is None else f"{mem:.3f}",
            m.get("status", ""),
            " ".join((description or m.get("description") or "").split())[:200],
        ]
        line = "\t".join(c.replace("\t", " ") for c in row) + "\n"
        with locked(self.results_tsv):
            new = not self.results_tsv.exists()
            with open(self.results_tsv, "a", encoding="utf-8") as fh:
                if new:
                    fh.write("\t".join(RESULTS_COLUMNS) + "\n")
                fh.write(line)

    def _run_dirs(self) -> Iterable[tuple[Path, bool]]:
        """(run folder, placed under ignored/) for every folder holding a run.json."""

        def scan(folder: Path, ignored: bool, depth: int):
            try:
                children = list(os.scandir(folder))
            except OSError:
                return
            for child in children:
                if not child.is_dir(follow_symlinks=False):
                    continue
                p = Path(child.path)
                if os.path.exists(os.path.join(child.path, "run.json")):
                    yield p, ignored
                elif depth > 0 and (child.name in IGNORED_DIRS or child.name in MODES):
                    yield from scan(p, ignored or child.name in IGNORED_DIRS, depth - 1)

        for mode in MODES:
            yield from scan(self.path / mode, False, 1)
        for name in IGNORED_DIRS:
            yield from scan(self.path / name, True, 2)

    def runs(self, include_ignored: bool = True) -> list[RunInfo]:
        """Every run, oldest first, with ignored state and ``stale`` for a dead ``running`` one."""
        listed, _ = ignored_file.read_ignored(self.ignored_md)
        out: list[RunInfo] = []
        for path, in_ignored_dir in self._run_dirs():
            manifest = self._read_manifest(path)
            run_id = manifest.get("run_id") or path.name
            status = manifest.get("status", "unknown")
            if status == "running" and is_stale(manifest):
                status = "stale"
            reason = None
            if in_ignored_dir:
                reason = f"placed under {path.parent.relative_to(self.path)}/"
            if run_id in listed:
                reason = listed[run_id].reason
            info = RunInfo(
                run_id,
                manifest.get("mode") or path.parent.name,
                status,
                path,
                manifest,
                ignored_reason=reason,
                problem=manifest.get("problem"),
            )
            if include_ignored or not info.ignored:
                out.append(info)
        out.sort(key=lambda r: (r.manifest.get("started") or "", r.run_id))
        return out

    def _read_manifest(self, path: Path) -> dict:
        """``path/run.json``, or a stand-in with status ``corrupt`` naming the file and what is wrong."""
        problem: str | None
        file = os.path.join(path, "run.json")
        try:
            check_confined(file)
            manifest, problem = memo.cached(file, "manifest", _parse_manifest)
        except RecordError:
            problem = "a symlink leading out of the workspace; not read"
        except (OSError, ValueError, RecursionError) as err:
            problem = "not valid JSON" if not isinstance(err, OSError) else (err.strerror or type(err).__name__)
        else:
            if problem is None:
                return manifest
        mode = path.parent.name if path.parent.name in MODES else None
        where = (path / "run.json").relative_to(self.path).as_posix()
        return {"run_id": path.name, "mode": mode, "status": "corrupt", "problem": f"{where}: {problem}"}

    def get_run(self, run_id: str) -> RunInfo:
        check_name(run_id, "run id")
        for info in self.runs():
            if info.run_id == run_id:
                return info
        raise RunNotFoundError(f"no run {run_id!r} in experiment {self.name!r} (see `mlexp runs {self.name}`)")

    # -- ignored runs -----------------------------------------------------------------------
    def ignored(self) -> tuple[list[ignored_file.IgnoredRun], list[str]]:
        """Ignored runs (listed or placed under ignored/) and warnings, e.g. ids that match no run."""
        listed, warnings = ignored_file.read_ignored(self.ignored_md)
        out = list(listed.values())
        known = set()
        for path, in_dir in self._run_dirs():
            known.add(path.name)
            if in_dir and path.name not in listed:
                out.append(
                    ignored_file.IgnoredRun(
                        path.name,
                        f"placed under {path.parent.relative_to(self.path)}/",
                        None,
                        None,
                        str(path.parent.relative_to(self.path)),
                    )
                )
        for rid in listed:
            if rid not in known:
                warnings.append(f"IGNORED_RUNS.md:{listed[rid].line}: run {rid!r} does not exist in this experiment")
        return out, warnings

    def ignore(self, run_id: str, reason: str, replace: bool = False) -> ignored_file.IgnoredRun:
        """Leave ``run_id`` out of every statistic, with ``reason``. A run already ignored keeps its reason
        unless ``replace``: then the new reason is appended below the old one (IGNORED_RUNS.md keeps both
        lines, the last one counts) and the event names the reason it replaces."""
        if not reason or not reason.strip():
            raise RecordError("say why the run is ignored: a reason is required")
        self.get_run(run_id)
        earlier = ignored_file.read_ignored(self.ignored_md)[0].get(run_id)
        if earlier is not None and not replace:
            raise AlreadyIgnoredError(
                f"run {run_id} is already ignored: {earlier.reason!r}"
                + (f" (ignored {earlier.when})" if earlier.when else "")
                + "; to give a new reason, ignore it again with --replace (the earlier reason stays in the history)"
            )
        when = now_iso()
        who = authorship.author()
        sizes = ignored_file.add(self.ignored_md, run_id, reason, when, who)
        extra = {"replaces": earlier.reason} if earlier is not None else {}
        try:
            self.log_event("run_ignored", run_id=run_id, reason=reason, **extra)
        except BaseException:  # the event could not be written (a full disk): the ignore is taken back
            ignored_file.undo_add(self.ignored_md, sizes)
            raise
        return ignored_file.IgnoredRun(run_id, " ".join(reason.split()), when, author=who)

    def unignore(self, run_id: str) -> None:
        """Count ``run_id`` again. A command that fails (the run's folder is an ignored one, a full disk)
        leaves IGNORED_RUNS.md as it was."""
        info = self.get_run(run_id)
        if any(part in IGNORED_DIRS for part in info.path.relative_to(self.path).parts):
            raise RecordError(
                f"run {run_id!r} is ignored because its folder is {info.path.relative_to(self.path)}; "
                "move it back under quick/ or full/ to count it again"
            )
        removed = ignored_file.remove(self.ignored_md, run_id)
        if removed is None:
            raise RecordError(f"run {run_id!r} is not ignored")
        try:
            self.log_event("run_unignored", run_id=run_id)
        except BaseException:  # the event could not be written (a full disk): the line is put back
            ignored_file.undo_remove(self.ignored_md, removed)
            raise
        ignored_file.keep_remove(removed)


def _registered_by(events: list[dict]) -> str | None:
    """The Unix user who registered the current version (the last registration event naming one)."""
    for e in reversed(events):
        if e.get("event") in ("hypothesis_registered", "idea_updated"):
            return authorship.user_of(e)
    return None


def _parse_manifest(file: str) -> tuple[Any, str | None]:
    """A run.json parsed, and why it cannot serve as a manifest (None when it can); shared: read-only."""
    with open(file, encoding="utf-8") as fh:
        # read(size) with a 64 MB size allocates that much for each small file: ask the size first
        big = os.fstat(fh.fileno()).st_size > MAX_JSON_BYTES
        text = fh.read(MAX_JSON_BYTES + 1) if big else fh.read()
    try:
        manifest = parse_json_record(text, "run.json")
    except RecordError as err:
        return None, str(err).removeprefix("run.json ").removesuffix("; fix or restore it")
    problem = manifest_problem(manifest)
    return (manifest if problem else migrate(manifest)), problem
