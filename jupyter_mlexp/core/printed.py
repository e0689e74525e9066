"""``name: value`` lines a run printed, parsed as its output arrives and logged in one write.

A run's output counts for its metrics (the hypothesis' ones, or every name for a quick
run) when it did not log them through the API. :class:`PrintedMetrics` parses whole
lines as they come (the script runner feeds it while the command runs, on another core),
keeps each metric's lines of ``metrics.jsonl`` ready and its summary folded, so the end
of the run only filters by name and writes. The rule for a line is the one of
:func:`parse_stdout_metrics`; lines end at ``\\n``, ``\\r\\n`` or
``\\r`` (a progress bar's), and text with rarer line breaks takes that function's path.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field

from jupyter_mlexp.core.run import fold_nonfinite, summarize

#: A value: a JSON number (kept as printed in metrics.jsonl), else any other float Python reads.
_VALUE = (
    r"(?:(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf))"
)
#: One line per match, in a text whose only line break is ``\n``: (name, JSON number, other value).
_LINE = re.compile(
    r"^[^\S\n]*([A-Za-z_][\w.\-/]*)[^\S\n]*:[^\S\n]*" + _VALUE + r"[^\S\n]*$", re.IGNORECASE | re.MULTILINE
)
_PRINTED_METRIC = re.compile(
    r"^\s*([A-Za-z_][\w.\-/]*)\s*:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf)\s*$",
    re.IGNORECASE,
)
_RARE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass
class Printed:
    """One metric's printed values: its ``metrics.jsonl`` lines, its step count and its NaN/inf."""

    qname: str  # the name as JSON
    lines: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    steps: int = 0
    nonfinite: list[tuple[str, int]] = field(default_factory=list)  # (kind, step) of each NaN/inf


class PrintedMetrics:
    """Feed it output as it comes (:meth:`feed`), :meth:`close` it at the end; ``by_name`` holds the result."""

    def __init__(self) -> None:
        self.by_name: dict[str, Printed] = {}
        self.summary: dict[str, dict] = {}  # per name, folded as Run.log_metric folds it
        self._partial = ""

    @classmethod
    def of(cls, text: str) -> PrintedMetrics:
        pm = cls()
        pm.feed(text)
        pm.close()
        return pm

    def feed(self, text: str) -> None:
        """Parse the complete lines of ``self._partial + text``; keep the unfinished last one."""
        if not text:
            return
        text = self._partial + text
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut == len(text) - 1 and text.endswith("\r"):
            cut -= 1  # a "\r" at the very end may be the first half of "\r\n": wait for the next piece
        self._partial = text[cut + 1 :]
        if cut >= 0:
            self._parse(text[: cut + 1])

    def close(self) -> None:
        rest, self._partial = self._partial, ""
        if rest:
            self._parse(rest)

    def _parse(self, text: str) -> None:
        if _RARE_BREAKS.search(text):
            found = [(name, repr(v), "") for name, v in parse_stdout_metrics(text)]
        else:
            found = _LINE.findall(text.replace("\r\n", "\n").replace("\r", "\n"))
        if not found:
            return
        groups: dict[str, list[str]] = {}
        for name, number, other in found:
            texts = groups.get(name)
            if texts is None:
                texts = groups[name] = []
            texts.append(number or repr(float(other)))  # a JSON number as printed, else Python's repr
        now = f"{time.time():.6f}"
        for name, texts in groups.items():
            p = self.by_name.get(name)
            if p is None:
                p = self.by_name[name] = Printed(json.dumps(name))
            self._add(p, name, texts, now)

    def _add(self, p: Printed, name: str, texts: list[str], now: str) -> None:
        """One metric's new values, in order: lines and summary at once while all are finite."""
        values = [float(t) for t in texts]
        first = p.steps
        p.steps += len(values)
        p.values += values
        if all(v - v == 0.0 for v in values):
            q = p.qname
            p.lines += [f'{{"name":{q},"value":{t},"step":{s},"time":{now}}}\n' for s, t in enumerate(texts, first)]
            s = self.summary.get(name)
            lo, hi = min(values), max(values)
            if s is None:
                self.summary[name] = {"last": values[-1], "min": lo, "max": hi, "n": len(values), "step": p.steps - 1}
                return
            s["last"], s["step"], s["n"] = values[-1], p.steps - 1, s.get("n", 0) + len(values)
            s["min"] = lo if s.get("min") is None else min(s["min"], lo)
            s["max"] = hi if s.get("max") is None else max(s["max"], hi)
            return
        for step, v in enumerate(values, first):  # a NaN or inf among them: value by value
            if v - v == 0.0:
                p.lines.append(f'{{"name":{p.qname},"value":{v!r},"step":{step},"time":{now}}}\n')
                summarize(self.summary, name, v, step)
            else:
                kind = "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
                p.lines.append(f'{{"name":{p.qname},"value":null,"nonfinite":"{kind}","step":{step},"time":{now}}}\n')
                p.nonfinite.append((kind, step))
                fold_nonfinite(self.summary, name, step)


def parse_stdout_metrics(text: str) -> list[tuple[str, float]]:
    """``name: value`` lines of captured output, in order."""
    out = []
    for line in text.splitlines():
        m = _PRINTED_METRIC.match(line)
        if m:
            out.append((m.group(1), float(m.group(2))))
    return out
