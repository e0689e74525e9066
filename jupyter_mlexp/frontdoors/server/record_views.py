"""JSON views of the record for the REST API, with no web framework in sight.

Each function takes the workspace root and plain arguments, calls the core and
returns a dict ready for ``json.dumps``. Errors are :class:`MlexpError`s whose
``http_status`` the handlers answer with. The extra duty here is containment:
an experiment (or a file of its record) that is a symlink leading out of the
workspace root is refused before anything is read or written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jupyter_mlexp.core import ignoring, journaling, views
from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment, RunInfo
from jupyter_mlexp.core.record import course as course_file
from jupyter_mlexp.core.record import journal_index, memo
from jupyter_mlexp.core.record.journal import TAGS
from jupyter_mlexp.core.record.workspace import ENV_ROOT, find_root, inside
from jupyter_mlexp.frontdoors.server import stamped

DEFAULT_PAGE = 50
MAX_PAGE = 500


class OutsideRootError(MlexpError):
    """A name that leads, through a symlink, out of the workspace root."""

    http_status = 404


def workspace_root(server_root_dir: str | os.PathLike) -> Path:
    """``$MLEXP_ROOT`` when set, else the server's own root directory.

    Unlike the kernel side, the server does not climb to an enclosing git work
    tree: a server must not show files above the root it was given.
    """
    if os.environ.get(ENV_ROOT):
        return find_root()
    return Path(server_root_dir).expanduser().resolve()


def open_experiment(root: Path, name: str) -> Experiment:
    """The experiment ``name`` under ``root``, refused unless it and its record files stay inside."""
    exp = Experiment(name, root)  # validates the name: no '/', '..', leading dot
    for path in (exp.base, exp.path):
        if path.exists() and not inside(root, path):
            raise OutsideRootError(
                f"experiment {name!r} is not inside the server's workspace root (a symlink leads out of it)"
            )
    exp.require()
    record = (
        exp.idea_json,
        exp.journal_md,
        exp.ignored_md,
        exp.log_jsonl,
        exp.results_tsv,
        exp.path / "quick",
        exp.path / "full",
    )
    for path in record:
        if path.is_symlink() and not inside(exp.path, path):
            raise OutsideRootError(
                f"{path.name} of experiment {name!r} is a symlink leading out of the experiment; refused"
            )
    return exp


def list_experiments(root: Path) -> dict:
    out = []
    for exp in Experiment.all(root):
        if not inside(root, exp.path):
            continue
        try:
            hyp = exp.hypothesis
            out.append({"name": exp.name, "statement": hyp.statement, "version": hyp.version, "stage": hyp.stage})
        except MlexpError as err:
            out.append({"name": exp.name, "statement": None, "version": None, "stage": None, "error": str(err)})
    return {"root": str(root), "experiments": out}


def experiment_detail(root: Path, name: str) -> dict:
    return json.loads(experiment_detail_json(root, name))


def experiment_detail_json(root: Path, name: str) -> str:
    """The sidebar's card (hypothesis, history, the one verdict, counts) as JSON, kept while nothing changed."""
    return experiment_detail_answer(root, name).text


def experiment_detail_answer(root: Path, name: str) -> stamped.Answer:
    """:func:`experiment_detail_json` with its stamp (``?since=`` it answers "unchanged")."""
    exp = open_experiment(root, name)
    course = course_fields(exp)
    # the course file is not in the record's stamp: its hash names the kept answer instead
    kind = "detail" if course is None else f"detail:{course.get('sha256') or course.get('error')}"
    return stamped.cached_answer(kind, exp, lambda runs: {**_detail(exp, runs), "course": course})


def _detail(exp: Experiment, runs: list[RunInfo]) -> dict:
    return views.status_dict(exp, runs)


def course_fields(exp: Experiment) -> dict | None:
    """The course's locked fields a registration in ``exp``'s workspace is checked against (``course.yaml``
    at the workspace root, or ``$MLEXP_COURSE``), for the sidebar's card; ``{"error": ...}`` when the file
    cannot be read; None without one. The file is named, not its path."""
    path = course_file.locate(exp.base.parent, exp.base.parent)
    if path is None:
        return None
    try:
        course = memo.cached(str(path), "course", course_file.load)
    except (OSError, MlexpError) as err:
        return {"file": path.name, "error": str(err).replace(str(path.parent), "").lstrip("/")}
    return {**course.to_dict(), "file": path.name, "sha256": course.sha256}


def journal_page(
    root: Path, name: str, tag: str | None = None, query: str | None = None, offset: int = 0, limit: int = DEFAULT_PAGE
) -> dict:
    exp = open_experiment(root, name)
    page, warnings = journal_index.journal_page(exp.journal_md, tag, query, offset, min(max(limit, 0), MAX_PAGE))
    return {**page.to_dict(), "warnings": warnings, "entry_tags": list(TAGS)}


def add_journal_entry(root: Path, name: str, text: str, tags: list[str]) -> dict:
    exp = open_experiment(root, name)
    journaling.add_entry(exp, text, tags)
    return journal_page(root, name, limit=1)


def list_runs(root: Path, name: str) -> dict:
    return json.loads(list_runs_json(root, name))


def list_runs_json(root: Path, name: str) -> str:
    """Every run (the sidebar's lists) as JSON, kept while nothing changed."""
    return list_runs_answer(root, name).text


def list_runs_answer(root: Path, name: str) -> stamped.Answer:
    """:func:`list_runs_json` with its stamp (``?since=`` it answers "unchanged")."""
    exp = open_experiment(root, name)
    return stamped.cached_answer("runs", exp, lambda runs: _runs(exp, runs))


def _runs(exp: Experiment, infos: list[RunInfo]) -> dict:
    return views.runs_dict(exp, infos)


def list_ignored(root: Path, name: str) -> dict:
    exp = open_experiment(root, name)
    found, warnings = exp.ignored()
    return {"ignored": [i.to_dict() for i in found], "warnings": warnings}


def ignore_run(root: Path, name: str, run_id: str, reason: str) -> dict:
    exp = open_experiment(root, name)
    # the panel's ignore is an explicit choice of run and reason: it replaces an earlier reason (kept in the history)
    return {"ignored": ignoring.ignore(exp, run_id, reason, replace=True).to_dict()}


def unignore_run(root: Path, name: str, run_id: str) -> dict:
    exp = open_experiment(root, name)
    ignoring.unignore(exp, run_id)
    return {"unignored": run_id}


__all__ = [
    "OutsideRootError",
    "workspace_root",
    "open_experiment",
    "list_experiments",
    "experiment_detail",
    "journal_page",
    "add_journal_entry",
    "list_runs",
    "list_ignored",
    "ignore_run",
    "unignore_run",
]
