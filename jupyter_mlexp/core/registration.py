"""Registering a hypothesis: a new version when it changed, a reason when runs exist, the course's locks,
and whose version it replaces. Every front door registers through :func:`register`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jupyter_mlexp.core.errors import HypothesisError, NoHypothesisError
from jupyter_mlexp.core.journaling import add_entry
from jupyter_mlexp.core.record import authorship
from jupyter_mlexp.core.record import course as course_file
from jupyter_mlexp.core.record.fsio import append_text, atomic_write_json, atomic_write_text, locked, make_folder
from jupyter_mlexp.core.record.hypothesis import Hypothesis, parse_body
from jupyter_mlexp.core.record.idea_files import (
    describe_changes,
    last_registered_version,
    registration_problem,
    render_evolution_entry,
    render_idea_md,
    render_planned,
)
from jupyter_mlexp.core.record.journal import now_iso

if TYPE_CHECKING:
    from jupyter_mlexp.core.experiment import Experiment


@dataclass
class Registration:
    hypothesis: Hypothesis
    changed: bool
    created: bool
    changes: list[str] = field(default_factory=list)


def register(exp: Experiment, hyp: Hypothesis | str, reason: str | None = None, force: bool = False) -> Registration:
    """Create or update the hypothesis; a changed one gets a new version, the old one is kept.

    Changing a hypothesis someone else (another Unix user) registered needs ``force``; the
    history (the event) names whose version was replaced."""
    if isinstance(hyp, str):
        hyp = parse_body(hyp)
    else:
        hyp.validate()
    if hyp.version == 0 and not reason:
        reason = hyp.update_reason  # a 'reason:' line of the cell body
    make_folder(exp.path)
    with locked(exp.idea_json):
        try:
            old = exp.hypothesis
        except NoHypothesisError:
            old = None
        now = now_iso()
        events = exp.events() if old is not None else []
        hand_edited = old is not None and registration_problem(old, events) is not None
        if old is not None and old.content() == hyp.content() and not hand_edited:
            return Registration(old, changed=False, created=False)
        course = course_file.find(root=exp.base.parent)
        course_file.check_hypothesis(hyp, course)  # every front door registers here: the locks hold for all
        changes = describe_changes(old, hyp)
        if old is not None and not (reason and reason.strip()):
            _refuse_unexplained_change(exp, old, changes)
        owner = _registered_by(events)
        me = authorship.unix_user()
        if owner is not None and owner != me and not force:
            raise HypothesisError(
                f"experiment {exp.name!r}: the hypothesis v{old.version if old else 0} was registered by "
                f"{owner}; changing someone else's hypothesis needs --force (it is shown in the history); "
                "nothing was re-registered"
            )
        replaced = {"replaced_author": owner} if owner is not None and owner != me else {}
        # past every version on record, even when idea.json's version was edited by hand
        hyp.version = max(old.version if old else 0, last_registered_version(events)) + 1
        hyp.created = old.created if old else now
        hyp.last_updated = now
        hyp.update_reason = reason or ("initial registration" if old is None else "hypothesis edited and re-registered")
        hyp.content_sha256 = hyp.content_hash()
        atomic_write_json(exp.idea_json, {**hyp.to_dict(), "author": authorship.author()})
        atomic_write_text(exp.idea_md, render_idea_md(exp.name, hyp))
        header = f"# Evolution of the idea: {exp.name}\n\n"
        append_text(exp.evolution_md, render_evolution_entry(hyp, changes), header=header)
        exp.log_event(
            "hypothesis_registered" if old is None else "idea_updated",
            version=hyp.version,
            reason=hyp.update_reason,
            changes=changes,
            hypothesis=hyp.to_dict(),
            **({"course": {"file": course.path.name, "sha256": course.sha256}} if course else {}),
            **replaced,
        )
    add_entry(exp, render_planned(hyp, old), tags=["PLANNED"], event=False)
    return Registration(hyp, changed=True, created=old is None, changes=changes)


def _refuse_unexplained_change(exp: Experiment, old: Hypothesis, changes: list[str]) -> None:
    """Changing a hypothesis that already has runs needs a reason: raise, register nothing."""
    n = sum(1 for _ in exp.run_dirs())
    if n == 0:
        return
    what = "; ".join(changes) or "idea.json was edited by hand"
    raise HypothesisError(
        f"experiment {exp.name!r}: hypothesis v{old.version} already has {n} run{'s' if n != 1 else ''}, so "
        f"changing it needs a reason (changed: {what}); add a line 'reason: WHY' to the %%hypothesis cell, "
        "or pass --reason WHY to `mlexp hypothesis`; nothing was re-registered"
    )


def _registered_by(events: list[dict]) -> str | None:
    """The Unix user who registered the current version (the last registration event naming one)."""
    for e in reversed(events):
        if e.get("event") in ("hypothesis_registered", "idea_updated"):
            return authorship.user_of(e)
    return None
