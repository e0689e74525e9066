"""The verdict's headline: one line a person reads at a glance, the same on every surface.

``SUPPORTED · val_acc 0.9585, 95% CI [0.9512, ∞) vs >= 0.95 · n = 3 · alpha=0.0001`` — the
decision, the effect (the mean, or the difference to the baseline for a relative criterion) with
its one-sided interval at the level the verdict tested it, the threshold, n (the configuration's
counted seeds) and the configuration. Built only from the :class:`~.verdict.Verdict`'s own fields,
so it cannot disagree with the reasoning shown below it.
"""

from __future__ import annotations

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.hypothesis import Criterion
from jupyter_mlexp.core.stats.verdict import SUPPORTED, Verdict
from jupyter_mlexp.core.stats.verdict_arms import Arm, fmt_number

MAX_CHARS = 119  # the whole line stays under 120 characters
LABEL_CHARS = 32  # a configuration's label is shortened with an ellipsis past this


def headline(verdict: Verdict) -> str:
    """The one line: ``DECISION · effect, interval vs threshold · n = N · configuration`` (< 120 characters);
    ``INCONCLUSIVE (quick runs only) · ...`` when no full run counts.

    With several configurations it is about the registered treatment (the first one registered that the
    verdict judged); exploratory, about the best one. Without any judged configuration (nothing measured,
    too few runs to test) the line carries the verdict's reason, shortened.
    """
    word = verdict.decision.upper()
    if verdict.quick_suggests is not None:  # an interval that clears the threshold on quick runs decides nothing
        word += " (quick runs only)"
    arm = subject(verdict)
    if arm is None:
        return shorten(f"{word} · {verdict.reason}", MAX_CHARS)
    parts = [word, effect(verdict, arm), f"n = {arm.n}"]
    label = arm.config
    line = " · ".join(parts + [shorten(label, LABEL_CHARS)])
    if len(line) > MAX_CHARS:  # the label gives way first, then the whole line
        room = MAX_CHARS - len(" · ".join(parts)) - 3
        line = " · ".join(parts + [shorten(label, room)]) if room >= 8 else " · ".join(parts)
    return shorten(line, MAX_CHARS)


def subject(verdict: Verdict) -> Arm | None:
    """The configuration the headline is about: the registered treatment judged first, else the best judged;
    when nothing was tested, the registered (else the most-seeded) candidate that has values."""
    judged = verdict.judged
    if not judged:  # undecided before any test (too few seeds): the configuration it would have been about
        measured = [a for a in verdict.candidates if a.n > 0]
        if not measured:
            return None
        return measured[0] if verdict.confirmatory else max(measured, key=lambda a: a.n)
    if verdict.confirmatory or len(judged) == 1:
        return judged[0]
    if verdict.decision == SUPPORTED:
        return min(judged, key=lambda a: (1.0 if a.p_adjusted is None else a.p_adjusted, -(a.n)))
    return judged[0]


def effect(verdict: Verdict, arm: Arm) -> str:
    """``val_acc 0.9585, 95% CI [0.9512, ∞) vs >= 0.95``; relative: ``Δ val_acc +0.012, ... vs >= +0.01``."""
    relative = verdict.relative
    value = arm.estimate if relative else arm.mean
    if relative and value is None:  # no test ran (too few seeds): the mean is what there is
        relative, value = False, arm.mean
    number = (f"{value:+.4g}" if relative else fmt_number(value)) if value is not None else "—"
    text = f"{'Δ ' if relative else ''}{arm.metric} {number}"
    if arm.bound is None or arm.bound_level is None:
        why = (arm.note or verdict.reason or "no interval").split(":")[0].split(" (")[0]
        return f"{text} ({why})"
    level = f"{arm.bound_level * 100:.4g}%"
    interval = f"[{fmt_number(arm.bound)}, ∞)" if arm.lower else f"(−∞, {fmt_number(arm.bound)}]"
    op = _op(verdict) or (">=" if arm.lower else "<=")
    threshold = arm.threshold if arm.threshold is not None else 0.0
    wanted = f"{threshold:+g}" if relative else f"{threshold:g}"
    return f"{text}, {level} CI {interval} vs {op} {wanted}"


def _op(verdict: Verdict) -> str | None:
    try:
        return Criterion.parse(verdict.criterion or "").op
    except MlexpError:
        return None


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: max(0, limit - 1)].rstrip() + "…"
