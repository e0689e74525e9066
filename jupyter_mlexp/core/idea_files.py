"""The human-readable files a hypothesis registration writes: ``idea.md``, ``idea_evolution.md``
entries and the journal's PLANNED entry (``idea.json`` is the record; these are its views)."""

from __future__ import annotations

from jupyter_mlexp.core.hypothesis import Hypothesis


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
