"""Seeds a configuration has never run: ``mlexp run --seeds fresh:N`` and the one-line note on re-runs.

Each (configuration, seed) counts once in the verdict, and a registered treatment is judged only on seeds
it had not run before it was registered (``docs/report.md``), so the honest way to add evidence is to run
seed values the configuration never ran. A run matches a configuration when it recorded every parameter
the configuration names with the same value (any hypothesis version, any status, ignored ones too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.stats.observations import same_value

if TYPE_CHECKING:
    from jupyter_mlexp.core.experiment import Experiment

_FRESH_RE = re.compile(r"^\s*fresh\s*:\s*(?P<n>\d+)\s*$", re.IGNORECASE)


def parse_fresh(text: Any) -> int | None:
    """``fresh:N`` -> N; None for any other ``--seeds`` value."""
    if not isinstance(text, str) or not text.strip().lower().startswith("fresh"):
        return None
    m = _FRESH_RE.match(text)
    if not m or int(m["n"]) < 1:
        raise MlexpError(f"--seeds {text!r}: write fresh:N with N ≥ 1 (for example --seeds fresh:5)")
    return int(m["n"])


def seeds_run(exp: Experiment, configs: Iterable[Mapping[str, Any]]) -> set[int]:
    """Every seed value any run of ``exp`` made for one of ``configs``."""
    wanted = [dict(c) for c in configs] or [{}]
    out: set[int] = set()
    for info in exp.runs(include_ignored=True):
        seed = info.record.seed
        if not isinstance(seed, int) or isinstance(seed, bool):
            continue
        params = info.record.configuration
        if any(all(k in params and same_value(params[k], v) for k, v in c.items()) for c in wanted):
            out.add(seed)
    return out


def fresh_seeds(exp: Experiment, configs: Iterable[Mapping[str, Any]], n: int) -> list[int]:
    """The ``n`` smallest non-negative seeds no run of ``configs`` ever made."""
    used = seeds_run(exp, configs)
    out: list[int] = []
    seed = 0
    while len(out) < n:
        if seed not in used:
            out.append(seed)
        seed += 1
    return out


def rerun_note(exp: Experiment, configs: Iterable[Mapping[str, Any]], seeds: Iterable[int]) -> str | None:
    """One line when some of ``seeds`` already have runs for ``configs`` (they are not new evidence)."""
    configs = [dict(c) for c in configs]
    seeds = list(seeds)
    again = sorted(set(seeds) & seeds_run(exp, configs))
    if not again:
        return None
    return (
        f"seed {', '.join(map(str, again))} already ran for this configuration: a re-run is not new evidence "
        f"(each seed counts once); --seeds fresh:{len(seeds)} picks seeds never run"
    )
