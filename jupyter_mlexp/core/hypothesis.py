"""The hypothesis: one testable claim, registered before anything runs.

Parsing a ``%%hypothesis`` body (or ``mlexp hypothesis -f``) lives here, apart
from storing it, so the magic, the CLI and the server share one parser.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from jupyter_mlexp.core.errors import HypothesisError

STAGES = ("implementation", "baselines", "full", "ablations")
KEYS = ("success", "failure", "metrics", "stage", "baseline", "expected", "data", "seeds")

_OPS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "=": operator.eq,
}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?"
_CRITERION_RE = re.compile(rf"^\s*(?P<metric>[A-Za-z_][\w.\-/]*)\s*(?P<op>>=|<=|==|>|<|=)\s*(?P<value>{_NUMBER})\s*$")
_KEY_RE = re.compile(rf"^\s*(?P<key>{'|'.join(KEYS)})\s*:\s*(?P<value>.*)$", re.IGNORECASE)
_CLAIM_VERBS = (
    r"improv\w*|increas\w*|reduc\w*|decreas\w*|lower\w*|rais\w*|beat\w*|outperform\w*|"
    r"speed\w*|slow\w*|hurt\w*|help\w*|boost\w*|cut\w*|match\w*"
)
_BUNDLE_RE = re.compile(rf"\b(?:{_CLAIM_VERBS})\b.*\b(?:and|while|but)\b.*\b(?:{_CLAIM_VERBS})\b", re.I)


@dataclass(frozen=True)
class Criterion:
    """``METRIC OP VALUE``, e.g. ``val_acc >= 0.95``."""

    metric: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str, what: str = "success") -> Criterion:
        m = _CRITERION_RE.match(text or "")
        if not m:
            raise HypothesisError(
                f"the {what} criterion {text!r} is not measurable: write it as "
                f"'METRIC OP NUMBER', for example '{what}: val_acc >= 0.95' "
                "(OP is one of >=, >, <=, <, ==)"
            )
        raw = m["value"]
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        op = "==" if m["op"] == "=" else m["op"]
        return cls(m["metric"], op, value)

    def holds(self, observed: float | None) -> bool | None:
        """True/False against ``observed``; None when it was not measured (missing or NaN)."""
        if observed is None or (isinstance(observed, float) and math.isnan(observed)):
            return None
        return bool(_OPS[self.op](float(observed), self.value))

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


def verdict(criterion: Criterion, observed: float | None) -> str:
    """``met``, ``not met`` or ``not measured``."""
    held = criterion.holds(observed)
    return "not measured" if held is None else ("met" if held else "not met")


@dataclass
class Hypothesis:
    """What a researcher registers; versioned by :class:`~jupyter_mlexp.core.experiment.Experiment`."""

    statement: str
    success: str
    metrics: list[str]
    failure: str | None = None
    stage: str = "implementation"
    baseline: str | None = None
    expected: str | None = None
    data: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    # Set by the experiment when stored.
    version: int = 0
    created: str | None = None
    last_updated: str | None = None
    update_reason: str | None = None

    #: Fields whose change makes a new version.
    CONTENT_FIELDS = ("statement", "success", "failure", "metrics", "stage", "baseline", "expected", "data", "seeds")

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]

    @property
    def success_criterion(self) -> Criterion:
        return Criterion.parse(self.success, "success")

    @property
    def failure_criterion(self) -> Criterion | None:
        return Criterion.parse(self.failure, "failure") if self.failure else None

    def content(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.CONTENT_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hypothesis:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        missing = [k for k in ("statement", "success", "metrics") if k not in known]
        if missing:
            raise HypothesisError(f"hypothesis record lacks {', '.join(missing)}")
        return cls(**known)

    def validate(self) -> Hypothesis:
        """Raise :class:`HypothesisError` saying what to fix; return self when registrable."""
        statement = " ".join(self.statement.split())
        if not statement:
            raise HypothesisError(
                "the hypothesis has no statement: write one testable claim on the first line, "
                "then 'success: METRIC OP NUMBER' and 'metrics: M1, M2'"
            )
        _check_single_claim(statement)
        if not self.metrics:
            raise HypothesisError(
                "no metrics listed: add a line 'metrics: M1, M2' naming what the runs log (primary first)"
            )
        if not self.success or not self.success.strip():
            raise HypothesisError(
                "no success criterion: add a line such as 'success: val_acc >= 0.95' "
                "so the outcome can be judged by a number"
            )
        for what, text in (("success", self.success), ("failure", self.failure)):
            if not text:
                continue
            crit = Criterion.parse(text, what)
            if crit.metric not in self.metrics:
                raise HypothesisError(
                    f"the {what} criterion names metric {crit.metric!r}, which is not listed under "
                    f"'metrics:' ({', '.join(self.metrics)}): add it there or fix the name"
                )
        if self.stage not in STAGES:
            raise HypothesisError(f"unknown stage {self.stage!r}: use one of {', '.join(STAGES)}")
        self.statement = statement
        return self


def _check_single_claim(statement: str) -> None:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", statement) if s.strip()]
    bullets = re.findall(r"(?:^|\s)(?:\d+[.)]|[-*•])\s+\w", statement)
    if len(sentences) > 1 or len(bullets) > 1 or ";" in statement or _BUNDLE_RE.search(statement):
        raise HypothesisError(
            "the statement bundles several claims; register one testable claim per hypothesis "
            f"(split {statement[:80]!r}… into separate experiments, or move context to the journal)"
        )


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\s]+", text) if p.strip()]


def parse_body(body: str) -> Hypothesis:
    """Parse a ``%%hypothesis`` body: free-text claim lines plus ``key: value`` lines.

    Raises :class:`HypothesisError` with what to fix when the body cannot be registered.
    """
    statement_lines: list[str] = []
    values: dict[str, str] = {}
    for line in (body or "").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _KEY_RE.match(line)
        if m:
            values[m["key"].lower()] = m["value"].strip()
        else:
            statement_lines.append(line.strip())
    seeds: list[int] = []
    if values.get("seeds"):
        try:
            seeds = [int(s) for s in _split_list(values["seeds"])]
        except ValueError:
            raise HypothesisError(f"seeds must be whole numbers separated by commas, got {values['seeds']!r}") from None
    hyp = Hypothesis(
        statement=" ".join(statement_lines),
        success=values.get("success", ""),
        failure=values.get("failure") or None,
        metrics=_split_list(values.get("metrics", "")),
        stage=(values.get("stage") or "implementation").lower(),
        baseline=values.get("baseline") or None,
        expected=values.get("expected") or None,
        data=_split_list(values.get("data", "")),
        seeds=seeds,
    )
    return hyp.validate()
