"""The human-readable files a hypothesis registration writes: ``idea.md``, ``idea_evolution.md``
entries and the journal's PLANNED entry (``idea.json`` is the record; these are its views)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jupyter_mlexp.core.errors import HypothesisError
from jupyter_mlexp.core.record.hypothesis import Hypothesis

REGISTRATION_EVENTS = ("hypothesis_registered", "idea_updated")
FIX = "re-register it with a %%hypothesis cell that has a 'reason:' line (or `mlexp hypothesis NAME --reason WHY`)"


def registrations(events: Sequence[Any]) -> list[dict[str, Any]]:
    """The registration events of ``research_log.jsonl`` (oldest first) that carry the whole hypothesis."""
    return [
        e
        for e in events
        if isinstance(e, dict) and e.get("event") in REGISTRATION_EVENTS and isinstance(e.get("hypothesis"), dict)
    ]


def last_registered_version(events: Sequence[Any]) -> int:
    """The highest version ``research_log.jsonl`` records as registered (0 when none)."""
    versions = [e.get("version") for e in registrations(events)]
    return max((v for v in versions if isinstance(v, int) and not isinstance(v, bool)), default=0)


def registration_problem(hyp: Hypothesis, events: Sequence[Any]) -> str | None:
    """Why ``idea.json`` (``hyp``) is not the hypothesis last registered, or None when it is.

    Checked against the last ``hypothesis_registered`` / ``idea_updated`` event of
    ``research_log.jsonl`` (``events``): its version, its content and its ``content_sha256``.
    Without such an event only the stored hash can be checked (a missing one is not trusted).
    """
    regs = registrations(events)
    problems = []
    if not regs:
        if hyp.content_sha256 is None:
            problems.append("its content_sha256 is missing and research_log.jsonl records no registration")
        elif hyp.edited_by_hand:
            problems.append("its content no longer matches the content_sha256 stored when it was registered")
    else:
        last = regs[-1]
        stored = last["hypothesis"]
        version = last.get("version", stored.get("version"))
        if version != hyp.version:
            problems.append(
                f"its version says v{hyp.version}, the last registration in research_log.jsonl is v{version}"
            )
        try:
            same = Hypothesis.from_dict(stored).content_hash() == hyp.content_hash()
        except (HypothesisError, TypeError):
            same = False
        if not same:
            problems.append("its content differs from the last registration in research_log.jsonl")
        elif hyp.content_sha256 != stored.get("content_sha256"):
            problems.append("its content_sha256 was removed or changed")
    if not problems:
        return None
    return (
        f"idea.json was edited by hand after hypothesis v{hyp.version} was registered ({'; '.join(problems)}): "
        f"not trusted; to fix it, {FIX}"
    )


def describe_changes(old: Hypothesis | None, new: Hypothesis) -> list[str]:
    if old is None:
        return []
    out = []
    for key in Hypothesis.CONTENT_FIELDS:
        a, b = getattr(old, key), getattr(new, key)
        if a != b:
            out.append(f"{key}: {a!r} → {b!r}")
    return out


def render_idea_md(name: str, h: Hypothesis) -> str:
    lines = [
        f"# {name}: hypothesis v{h.version}",
        "",
        f"> {h.statement}",
        "",
        f"- **Success:** `{h.success}`",
        f"- **Failure:** `{h.failure}`" if h.failure else "- **Failure:** (not given)",
        f"- **Metrics:** {', '.join(h.metrics)} (primary: {h.primary_metric})",
        f"- **Stage:** {h.stage}",
    ]
    if h.baseline:
        lines.append(f"- **Baseline:** {h.baseline}")
    if h.expected:
        lines.append(f"- **Expected:** {h.expected}")
    if h.data:
        lines.append(f"- **Data:** {', '.join(h.data)}")
    if h.seeds:
        lines.append(f"- **Seeds:** {', '.join(map(str, h.seeds))}")
    lines += [
        f"- **Version:** {h.version}",
        f"- **Created:** {h.created}",
        f"- **Last updated:** {h.last_updated} ({h.update_reason})",
        "",
        "Generated from idea.json; edit the hypothesis by re-registering it, so the change is versioned.",
        "",
    ]
    return "\n".join(lines)


def render_evolution_entry(h: Hypothesis, changes: list[str]) -> str:
    body = [
        f"## v{h.version} — {h.last_updated}",
        "",
        f"Reason: {h.update_reason}",
        "",
        f"> {h.statement}",
        "",
        f"Success: `{h.success}`; metrics: {', '.join(h.metrics)}; stage: {h.stage}",
    ]
    if changes:
        body += ["", "Changed:"] + [f"- {c}" for c in changes]
    return "\n".join(body) + "\n\n"


def render_planned(h: Hypothesis, old: Hypothesis | None) -> str:
    parts = [f"Hypothesis v{h.version}: {h.statement}", f"Success criterion: {h.success}"]
    if old is not None:
        parts.append(f"Changes against v{old.version}: {'; '.join(describe_changes(old, h)) or 'none'}")
    parts.append(f"Expected outcome: {h.expected or '(not stated)'}")
    parts.append(f"Baseline to beat: {h.baseline or '(not known yet)'}")
    return "\n".join(parts)
