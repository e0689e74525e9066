"""The loops of an experiment as plain data, for a view (the sidebar's REST endpoint, a widget).

Read-only: no git, no lock, no recovery (the next ``mlexp loop`` command does that). Each
attempt carries its status, metric and decision, and the running best after it; its diff
comes from :func:`attempt_patch`.
"""

from __future__ import annotations

from typing import Any

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.fsio import read_record_text
from jupyter_mlexp.loop import decision as rules
from jupyter_mlexp.loop.loop_state import KEEP, LoopFiles


def loops(experiment: Experiment) -> list[dict[str, Any]]:
    """Every loop recorded in ``experiment`` (``loops/TAG/loop.json``), by tag; unreadable ones say why."""
    folder = experiment.path / "loops"
    out: list[dict[str, Any]] = []
    if not folder.is_dir():
        return out
    for child in sorted(p for p in folder.iterdir() if (p / "loop.json").is_file()):
        try:
            out.append(loop_view(LoopFiles(experiment.path, child.name)))
        except RecordError as err:
            out.append({"tag": child.name, "problem": str(err)})
    return out


def loop_view(files: LoopFiles) -> dict[str, Any]:
    state = files.load()
    view = rules.summary(state)
    best = None
    rows = []
    for a in state.attempts:
        if a.status == KEEP and a.mean is not None:
            best = a.mean
        rows.append(
            {
                "attempt": a.n,
                "status": a.status,
                "description": a.description,
                "commit": a.commit,
                "metric": a.mean,
                "sd": a.sd,
                "seeds": a.seeds,
                "delta": a.delta,
                "p": a.p,
                "test": a.test,
                "reason": a.reason,
                "lines": [a.lines_added, a.lines_removed],
                "duration_s": a.duration_s,
                "running_best": best,
                "has_patch": files.patch(a.n).is_file(),
            }
        )
    view["attempts_list"] = rows
    view["figure"] = str(files.figure) if files.figure.is_file() else None
    return view


def attempt_patch(experiment: Experiment, tag: str, n: int) -> str:
    """Attempt ``n``'s diff as written when it ran (``attempts/NNNN.patch``)."""
    text = read_record_text(LoopFiles(experiment.path, tag).patch(int(n)))
    if text is None:
        raise RecordError(f"loop {tag!r} has no patch for attempt {n} (the baseline has none)")
    return text
