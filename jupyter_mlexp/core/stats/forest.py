"""The verdict's forest: each configuration it tested, the estimate with the verdict's own one-sided
bound, against the criterion's threshold, the configuration the verdict is about marked.

One source of those numbers for every surface: the report's forest figure draws it and the REST
status sends it to the sidebar, so a figure's interval is the text's bound wherever it is shown.
For a relative criterion the axis is the difference to the baseline and the threshold its margin.
"""

from __future__ import annotations

import math
from typing import Any

from jupyter_mlexp.core.record.hypothesis import Criterion
from jupyter_mlexp.core.stats.headline import subject
from jupyter_mlexp.core.stats.verdict import Verdict
from jupyter_mlexp.core.stats.verdict_arms import Arm

MAX_ARMS = 20  # the subject and the judged ones first, then by p


def point(v: Verdict, a: Arm) -> float | None:
    """The estimate drawn for an arm: the difference to the baseline (relative), else the mean."""
    x = a.estimate if v.relative else (a.estimate if a.estimate is not None else a.mean)
    return None if x is None or not math.isfinite(x) else x


def shown(v: Verdict) -> list[Arm]:
    """The arms drawn: those with an estimate, the verdict's subject and the judged ones first."""
    arms = [a for a in v.candidates if point(v, a) is not None]
    lead = subject(v)
    order = sorted(arms, key=lambda a: (a is not lead, a not in v.judged, 1.0 if a.p is None else a.p))
    return order[:MAX_ARMS]


def forest(v: Verdict) -> dict[str, Any] | None:
    """The forest's numbers (None when the verdict has no configuration with a value to draw)."""
    arms = shown(v)
    if not arms or v.criterion is None:
        return None
    lead = subject(v)
    threshold = arms[0].threshold
    if threshold is None:  # no test ran (too few seeds): the criterion's own number
        threshold = Criterion.parse(v.criterion).value
    rows = [
        {
            "configuration": a.label,
            "estimate": point(v, a),
            "bound": a.bound,
            "bound_level": a.bound_level,
            "bound_side": "lower" if a.lower else "upper",
            "n": a.n,
            "values": list(a.values) if not v.relative else [],
            "note": a.note,
            "subject": a is lead,
            "judged": a in v.judged,
            "sources": list(a.sources),
        }
        for a in arms
    ]
    return {
        "kind": "forest",
        "metric": arms[0].metric,
        "mode": v.mode,
        "relative": v.relative,
        "criterion": v.criterion,
        "threshold": threshold,
        "decision": v.decision,
        "level": v.level,
        "configurations": rows,
    }
