"""Changes of the success criterion after runs were seen: "criterion changed from … to … after N runs"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.hypothesis import Criterion


def _when(ts: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(ts) if isinstance(ts, str) and ts else None
    except ValueError:
        return None


def _direction(old: str, new: str) -> str:
    """``loosened``, ``tightened`` or ``changed`` (another metric, operator kind or relative form)."""
    try:
        a, b = Criterion.parse(old), Criterion.parse(new)
    except MlexpError:
        return "changed"
    if a.metric != b.metric or a.relative != b.relative or a.higher_is_better != b.higher_is_better:
        return "changed"
    if a.value == b.value:
        strict_a, strict_b = a.op in (">", "<"), b.op in (">", "<")
        return "changed" if strict_a == strict_b else ("loosened" if strict_a else "tightened")
    easier = b.value < a.value if a.higher_is_better else b.value > a.value
    return "loosened" if easier else "tightened"


def criterion_changes(events: Sequence[dict[str, Any]], started: Sequence[str | None]) -> list[str]:
    """One line per re-registration that changed the success criterion after at least one run had started.

    ``events``: the ``hypothesis_registered``/``idea_updated`` events of research_log.jsonl, oldest first;
    ``started``: every run's ``started`` time.
    """
    starts = [t for t in (_when(s) for s in started) if t is not None]
    out = []
    previous: str | None = None
    for ev in events:
        hyp = ev.get("hypothesis") if isinstance(ev.get("hypothesis"), dict) else {}
        success = (hyp or {}).get("success")
        when = _when(ev.get("time"))
        if previous is not None and success and success != previous and when is not None:
            try:
                n = sum(1 for t in starts if t < when)
            except TypeError:
                n = 0
            if n:
                reason = ev.get("reason") or (hyp or {}).get("update_reason") or "no reason given"
                out.append(
                    f"criterion {_direction(previous, success)}: changed from `{previous}` to `{success}` after "
                    f"{n} run{'s' if n != 1 else ''} (v{ev.get('version', '?')}, reason: {reason})"
                )
        previous = success or previous
    return out


def experiment_changes(exp: Any, runs: Sequence[Any] | None = None, events: Sequence[dict] | None = None) -> list[str]:
    """:func:`criterion_changes` of an :class:`~jupyter_mlexp.core.experiment.Experiment` (``runs``: its
    runs, ignored ones included, and ``events``: its registration events, when the caller has read them)."""
    if events is None:
        events = [e for e in exp.events() if e.get("event") in ("hypothesis_registered", "idea_updated")]
    runs = exp.runs(include_ignored=True) if runs is None else runs
    return criterion_changes(events, [r.manifest.get("started") for r in runs])
