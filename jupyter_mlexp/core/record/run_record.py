"""``run.json`` read one way: :class:`RunRecord`, the typed view the surfaces read, and the migrations.

:func:`migrate` is the one place where a manifest written by an older version becomes the
current shape (the run listing applies it as it reads each ``run.json``, so no reader keeps a
shim). :class:`RunRecord` holds the fields the report, the runs table, the server and the
CLI show, in their types; it is built from a manifest that passed
:func:`jupyter_mlexp.core.record.shapes.manifest_problem` (a run.json that does not is listed as
``corrupt``, with one line saying why). A frozen dataclass: measured against reading the
dict with ``.get`` it costs about 2 µs a run (10,000 runs: 0.02 s, beside 0.4 s of JSON
parsing), so no validation library is needed for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: What each migration does, oldest first: ``(since version, what changed)``.
MIGRATIONS = (("0.2", "the per-run check against the criterion, called 'verdict' before, is 'criterion_check'"),)


def migrate(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` in the current shape: the same dict when nothing changed, else a new one (the
    parsed file is shared between readers, so it is never changed in place)."""
    if "verdict" in manifest and "criterion_check" not in manifest:
        out = {k: v for k, v in manifest.items() if k != "verdict"}
        out["criterion_check"] = manifest["verdict"]
        return out
    return manifest


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class GitState:
    """Where the code was: the commit (None outside git, with a note), branch, and whether it was dirty."""

    repo: str | None = None
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    diff_sha256: str | None = None
    note: str | None = None

    def describe(self) -> str:
        """One line for the report: ``abc123 (main, dirty, diff sha256 …)``, or the note."""
        if not self.commit:
            return self.note or "no commit"
        state = "dirty" if self.dirty else ("clean" if self.dirty is False else "dirty state unknown")
        extra = f", diff sha256 {self.diff_sha256[:12]}" if self.diff_sha256 else ""
        return f"{self.commit[:12]} ({self.branch or 'detached'}, {state}{extra})"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run's ``run.json`` as every surface reads it."""

    run_id: str | None
    mode: str | None
    status: str | None
    stage: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: Any = None
    started: str | None = None
    ended: str | None = None
    duration_s: float | None = None
    budget_s: float | None = None
    criterion_check: str | None = None
    metrics_summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    git: GitState | None = None
    error: dict[str, Any] | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    command: str | None = None
    source: str | None = None
    notebook: str | None = None
    hypothesis_version: int | None = None  # the hypothesis in force when the run started (None: not recorded)
    hypothesis_sha256: str | None = None  # its content hash, as the run recorded it
    problem: str | None = None  # why the run.json is listed as corrupt ("quick/ID/run.json: ...")
    #: The manifest itself, for the properties below: each is typed when it is read, since most surfaces
    #: read few of them and the listing builds a record for every run (read eagerly, they made it slower).
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_manifest(cls, m: Any) -> RunRecord:
        """The typed view of a (migrated, shape-checked) manifest. Each field of the wrong type reads as
        missing (None, or empty), so no reader meets a ``TypeError``; a manifest that is not an object
        reads as empty."""
        if not isinstance(m, dict):
            return cls(None, None, None)
        g = m.get
        git = g("git")
        error = g("error")
        notebook = g("notebook")
        return cls(
            run_id=_text(g("run_id")),
            mode=_text(g("mode")),
            status=_text(g("status")),
            stage=_text(g("stage")),
            params=_dict(g("params")),
            overrides=_dict(g("overrides")),
            seed=g("seed"),
            started=_text(g("started")),
            ended=_text(g("ended")),
            duration_s=_num(g("duration_s")),
            budget_s=_num(g("budget_s")),
            criterion_check=_text(g("criterion_check")),
            metrics_summary={k: s for k, s in _dict(g("metrics_summary")).items() if isinstance(s, dict)},
            git=_git(git) if isinstance(git, dict) and git else None,
            error=error if isinstance(error, dict) else None,
            environment=_dict(g("environment")),
            data=_dict(g("data")),
            command=_text(g("command")),
            source=_text(g("source")),
            notebook=str(notebook) if notebook else None,
            hypothesis_version=_int(g("hypothesis_version")),
            hypothesis_sha256=_text(g("hypothesis_sha256")),
            problem=_text(g("problem")),
            raw=m,
        )

    @property
    def experiment(self) -> str | None:
        return _text(self.raw.get("experiment"))

    @property
    def host(self) -> str | None:
        """Where the run's process ran."""
        return _text(self.raw.get("host"))

    @property
    def pid(self) -> int | None:
        """The run's process (with :attr:`pid_start`, its start time: a reused pid is another process)."""
        return _int(self.raw.get("pid"))

    @property
    def pid_start(self) -> float | None:
        return _num(self.raw.get("pid_start"))

    @property
    def started_ts(self) -> float | None:
        """``started`` as a Unix time."""
        return _num(self.raw.get("started_ts"))

    @property
    def sweep_id(self) -> str | None:
        return _text(self.raw.get("sweep_id"))

    @property
    def description(self) -> str | None:
        return _text(self.raw.get("description"))

    @property
    def peak_memory_gb(self) -> float | None:
        return _num(self.raw.get("peak_memory_gb"))

    @property
    def log_head(self) -> dict[str, Any] | None:
        """The research log's head when the run started (its anchor in the log's hash chain)."""
        return _dict(self.raw.get("log_head")) or None

    @property
    def params_injected(self) -> dict[str, Any]:
        """What was injected, when the notebook's values are recorded as the parameters."""
        return _dict(self.raw.get("params_injected"))

    @property
    def params_overwritten(self) -> dict[str, Any]:
        """``{name: {"injected", "used"}}``: the injected parameters the notebook assigned again."""
        return _dict(self.raw.get("params_overwritten"))

    @property
    def artifacts(self) -> list[Any]:
        """The files the run kept: ``[{"path", "bytes"}]``."""
        return _list(self.raw.get("artifacts"))

    @property
    def exit_code(self) -> int | None:
        """A script's exit code."""
        return _int(self.raw.get("exit_code"))

    @property
    def guard(self) -> dict[str, Any]:
        """The process putting a script's command down: ``pid``, ``pid_start``."""
        return _dict(self.raw.get("guard"))

    @property
    def kernel(self) -> dict[str, Any]:
        """A notebook run's kernel: ``pid``."""
        return _dict(self.raw.get("kernel"))

    @property
    def configuration(self) -> dict[str, Any]:
        """The configuration: the parameters, plus the ``%%run_quick`` overrides a quick run applied (no seed)."""
        merged = {**self.params, **self.overrides} if self.overrides else self.params
        return {k: v for k, v in merged.items() if k != "seed"}

    def error_message(self) -> str | None:
        """The recorded error's message, if any."""
        message = self.error.get("message") if self.error else None
        return message if isinstance(message, str) else None

    def last(self, metric: str | None) -> float | None:
        """The last value of ``metric`` in ``metrics_summary`` (None: not logged, or NaN/inf)."""
        s = self.metrics_summary.get(metric) if metric else None
        return None if not s else s.get("last")

    def lasts(self) -> dict[str, float | None]:
        """Every metric's last value."""
        return {k: s.get("last") for k, s in self.metrics_summary.items()}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _git(git: dict[str, Any]) -> GitState:
    dirty = git.get("dirty")
    return GitState(
        repo=_text(git.get("repo")),
        commit=_text(git.get("commit")),
        branch=_text(git.get("branch")),
        dirty=dirty if isinstance(dirty, bool) else None,
        diff_sha256=_text(git.get("diff_sha256")),
        note=_text(git.get("note")),
    )


def _int(value: Any) -> int | None:
    return value if type(value) is int else None  # bool is not an int here


def _num(value: Any) -> float | None:
    return value if (type(value) is float or type(value) is int) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
