"""Changes of how the verdict judges after runs were seen: "criterion loosened: changed from … to … after N runs",
and likewise a lowered level, fewer seeds per configuration, another treatment or baseline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.hypothesis import DEFAULT_LEVEL, DEFAULT_SEEDS, Criterion
from jupyter_mlexp.core.record.idea_files import registrations


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


def _seeds_needed(hyp: dict[str, Any]) -> int:
    n, planned, looks = hyp.get("n_seeds"), hyp.get("seeds"), hyp.get("looks")
    if isinstance(looks, list) and looks and isinstance(looks[-1], int):
        return looks[-1]
    if isinstance(n, int) and n > 0:
        return n
    return len(planned) if isinstance(planned, list) and planned else DEFAULT_SEEDS


def _level(hyp: dict[str, Any]) -> float:
    level = hyp.get("level")
    return float(level) if isinstance(level, (int, float)) and not isinstance(level, bool) else DEFAULT_LEVEL


def _arms(hyp: dict[str, Any], key: str) -> str:
    value = hyp.get(key)
    if key == "treatments":
        items = value if isinstance(value, list) else []
        text = "; ".join(", ".join(f"{k}={v}" for k, v in t.items()) for t in items if isinstance(t, dict))
        return text or "none"
    return str(value) if value else "none"


def _listed(value: Any) -> str:
    """``looks`` / ``transform`` as registered: ``3, 5, 10``, ``logit``, or ``none``."""
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value) if value else "none"


def _rule_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed in how the verdict is judged, besides the criterion: ``(what direction: from → to)``."""
    out = []
    a, b = old.get("success"), new.get("success")
    if a and b and a != b:
        out.append(f"criterion {_direction(a, b)}: changed from `{a}` to `{b}`")
    la, lb = _level(old), _level(new)
    if la != lb:
        out.append(f"level {'lowered' if lb < la else 'raised'}: changed from {la:g} to {lb:g}")
    na, nb = _seeds_needed(old), _seeds_needed(new)
    if na != nb:
        out.append(f"seeds per configuration {'lowered' if nb < na else 'raised'}: changed from {na} to {nb}")
    for key, what in (("looks", "sequential plan"), ("transform", "transform")):
        ta, tb = _listed(old.get(key)), _listed(new.get(key))
        if ta != tb:
            out.append(f"{what} changed: from `{ta}` to `{tb}`")
    for key, what in (("treatments", "treatment"), ("baseline", "baseline")):
        ta, tb = _arms(old, key), _arms(new, key)
        if ta != tb:
            out.append(f"{what} changed: from `{ta}` to `{tb}`")
    return out


def criterion_changes(events: Sequence[dict[str, Any]], started: Sequence[str | None]) -> list[str]:
    """One line per change of how the verdict judges, made after at least one run had started.

    The success criterion (loosened / tightened / changed), the level, the seeds per configuration,
    the registered treatments and the baseline: each is a change after the runs were seen, and is
    called out like a loosened criterion. ``events``: the ``hypothesis_registered``/``idea_updated``
    events of research_log.jsonl, oldest first; ``started``: every run's ``started`` time.
    """
    starts = [t for t in (_when(s) for s in started) if t is not None]
    out = []
    previous: dict[str, Any] | None = None
    for ev in events:
        hyp = ev.get("hypothesis") if isinstance(ev.get("hypothesis"), dict) else None
        if not hyp:
            continue
        when = _when(ev.get("time"))
        if previous is not None and when is not None:
            try:
                n = sum(1 for t in starts if t < when)
            except TypeError:
                n = 0
            if n:
                reason = ev.get("reason") or hyp.get("update_reason") or "no reason given"
                tail = f" after {n} run{'s' if n != 1 else ''} (v{ev.get('version', '?')}, reason: {reason})"
                out += [change + tail for change in _rule_changes(previous, hyp)]
        previous = hyp
    return out


def experiment_changes(exp: Any, runs: Sequence[Any] | None = None, events: Sequence[dict] | None = None) -> list[str]:
    """:func:`criterion_changes` of an :class:`~jupyter_mlexp.core.experiment.Experiment` (``runs``: its
    runs, ignored ones included, and ``events``: its registration events, when the caller has read them)."""
    if events is None:
        events = registrations(exp.events())
    runs = exp.runs(include_ignored=True) if runs is None else runs
    return criterion_changes(events, [r.record.started for r in runs])
