"""JSON views for the runs table, one run's page, its curves and the report button; no web framework here.

Like :mod:`jupyter_mlexp.frontdoors.server.record_views`, each function takes the workspace root and
plain arguments. Paths in answers are relative: to the experiment for the record, and to the
Jupyter server's root for the files the frontend opens in a tab (None when outside it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment, RunInfo
from jupyter_mlexp.core.record.metric_curves import read_since
from jupyter_mlexp.core.record.workspace import inside
from jupyter_mlexp.core.stats.observations import config_key, load_observations
from jupyter_mlexp.core.views import config_groups
from jupyter_mlexp.frontdoors.server import stamped
from jupyter_mlexp.frontdoors.server.record_views import OutsideRootError, open_experiment

LOG_FILES = ("run.log", "stdout.txt", "stderr.txt")
LOG_TAIL_CHARS = 20_000
MAX_FILES = 200


def _metrics_of(exp: Experiment) -> tuple[str | None, list[str]]:
    try:
        hyp = exp.hypothesis
    except MlexpError:
        return None, []
    return hyp.primary_metric, list(hyp.metrics)


def _table_row(info: RunInfo, exp: Experiment, primary: str | None) -> dict:
    """A run as one page shows it: its row in the table plus the fields the sidebar's list has."""
    row = info.to_dict(primary)
    row["path"] = info.path.relative_to(exp.path).as_posix()
    row["metrics"] = info.record.lasts()
    params = info.record.configuration
    row["config"] = config_key(params)
    row["config_params"] = params
    return row


#: Row fields left out of the table when empty (None, False): most runs have no problem, reason or stage.
_OPTIONAL = (
    "stage",
    "criterion_check",
    "ignored",
    "ignored_reason",
    "problem",
    "artifacts",
    "params_overwritten",
)


def _slim_row(info: RunInfo) -> dict:
    """A run in the table, each fact once: ``params`` is the configuration (parameters and a quick run's
    overrides, no seed); the primary metric is in ``metrics``; the folder is ``<mode>/<run_id>``."""
    r = info.record
    params = r.configuration
    row = {
        "run_id": info.run_id,
        "mode": info.mode,
        "status": info.status,
        "params": params,
        "config": config_key(params),
        "seed": r.seed,
        "started": r.started,
        "duration_s": r.duration_s,
        "metrics": r.lasts(),
    }
    extra = {
        "stage": r.stage,
        "criterion_check": r.criterion_check,
        "ignored": info.ignored,
        "ignored_reason": info.ignored_reason,
        "problem": info.problem,
        # the files the run kept (artifacts/...), and which injected parameters the notebook overwrote
        "artifacts": [a.get("path") for a in r.artifacts if isinstance(a, dict)],
        "params_overwritten": r.params_overwritten,
    }
    row.update((k, v) for k, v in extra.items() if v)
    return row


def runs_table(root: Path, name: str) -> dict:
    """Every run with its configuration, its last value of each metric; the columns to show."""
    return json.loads(runs_table_answer(root, name).text)


def runs_table_json(root: Path, name: str) -> str:
    """:func:`runs_table` as JSON text; a poll while nothing changed costs a few stat calls, not a re-read."""
    return runs_table_answer(root, name).text


def runs_table_answer(root: Path, name: str) -> stamped.Answer:
    """:func:`runs_table` as a stamped answer (``?since=`` its stamp answers "unchanged")."""
    exp = open_experiment(root, name)

    def build(infos: list[RunInfo]) -> dict:
        primary, wanted = _metrics_of(exp)
        rows = [_slim_row(r) for r in infos]
        logged = sorted({m for row in rows for m in row["metrics"]} - set(wanted))
        params = sorted({p for row in rows for p in row["params"]})
        return {"primary_metric": primary, "metrics": wanted + logged, "params": params, "runs": rows}

    return stamped.cached_answer("table", exp, build)


def groups_answer(root: Path, name: str) -> stamped.Answer:
    """The runs table grouped by configuration, counted as the verdict counts (``core.views.config_groups``):
    ``groups`` and ``members`` (a run's group when it is not its own configuration's label, as a quick run's
    without its scaling overrides). Its own answer, asked for only when the table is grouped: on 10,000 runs
    it costs about as much as the table itself."""
    exp = open_experiment(root, name)

    def build(infos: list[RunInfo]) -> dict:
        _, wanted = _metrics_of(exp)
        logged = sorted({m for r in infos for m in r.record.lasts()} - set(wanted))
        obs = load_observations(exp, infos, every=True)
        members = {
            o.run_id: o.config for o in obs if o.config != config_key(o.record.configuration if o.record else {})
        }
        return {"groups": config_groups(obs, wanted + logged), "members": members}

    return stamped.cached_answer("groups", exp, build)


def _run(exp: Experiment, run_id: str) -> RunInfo:
    info = exp.get_run(run_id)
    if not inside(exp.path, info.path):
        raise OutsideRootError(f"run {run_id!r} of experiment {exp.name!r} is a symlink leading out of it; refused")
    return info


def _server_path(path: Path, server_root: Path | None) -> str | None:
    if server_root is None or not inside(server_root, path):
        return None
    return path.resolve().relative_to(server_root.resolve()).as_posix()


def _files(folder: Path) -> list[dict]:
    out = []
    for path in sorted(folder.rglob("*"))[:MAX_FILES]:
        if path.is_file() and inside(folder, path):
            out.append({"name": path.relative_to(folder).as_posix(), "size": path.stat().st_size})
    return out


def _tail(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(max(0, size - LOG_TAIL_CHARS))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    return text if size <= LOG_TAIL_CHARS else "…" + text


def run_detail(root: Path, name: str, run_id: str, server_root: Path | None = None) -> dict:
    """One run: its row, ``run.json``, its files, the tails of its logs and its error."""
    exp = open_experiment(root, name)
    primary, _ = _metrics_of(exp)
    info = _run(exp, run_id)
    files = _files(info.path)
    # a log that is a symlink out of the run is not served (nor listed in files)
    logs = {
        f: _tail(info.path / f) for f in LOG_FILES if (info.path / f).is_file() and inside(info.path, info.path / f)
    }
    return {
        "run": _table_row(info, exp, primary),
        "manifest": info.manifest,
        "error": info.record.error,
        "files": files,
        "logs": logs,
        "open_paths": {f["name"]: _server_path(info.path / f["name"], server_root) for f in files},
    }


#: Most points a sampled curve may ask for per metric.
MAX_POINTS = 100_000


def run_metrics(root: Path, name: str, run_id: str, offset: int = 0, points: int | None = None) -> dict:
    """The run's metric points logged from byte ``offset`` of ``metrics.jsonl`` on.

    ``points``: the rest of the file at once, each metric in at most that many points (the lowest and
    highest of each bucket of consecutive points; ``sampled`` says when a metric was reduced), so a
    curve of ten million lines costs the browser what one of ``points`` lines does."""
    if points is not None:
        points = min(max(points, 2), MAX_POINTS)
    exp = open_experiment(root, name)
    info = _run(exp, run_id)
    path = info.path / "metrics.jsonl"
    if path.is_symlink() and not inside(info.path, path):
        raise OutsideRootError(f"metrics.jsonl of run {run_id!r} is a symlink leading out of the run; refused")
    chunk = read_since(path, offset, whole=info.status != "running", sample=points)
    return {"run_id": info.run_id, "status": info.status, **chunk.to_dict()}


def build_report(root: Path, name: str, server_root: Path | None = None, force: bool = False) -> dict:
    """Build ``report.ipynb`` (the report library) and say where the server can open it.

    Cells added by hand are kept; hand-edited generated cells refuse the build (409) unless ``force``.
    """
    from jupyter_mlexp.report.build import write_report

    exp = open_experiment(root, name)
    target, note = write_report(exp, force=force)
    return {
        "report": target.relative_to(exp.path).as_posix(),
        "open_path": _server_path(target, server_root),
        "note": note,
    }


__all__ = ["runs_table", "runs_table_json", "runs_table_answer", "run_detail", "run_metrics", "build_report"]
