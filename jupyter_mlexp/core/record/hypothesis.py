"""The hypothesis: one testable claim, registered before anything runs.

Parsing a ``%%hypothesis`` body (or ``mlexp hypothesis -f``) lives here, apart
from storing it, so the magic, the CLI and the server share one parser.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import re
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from jupyter_mlexp.core.errors import HypothesisError
from jupyter_mlexp.core.record.assignments import AssignmentError, looks_like_assignments, parse_assignments

STAGES = ("implementation", "baselines", "full", "ablations")
BASELINE_STAGE = "baselines"
KEYS = (
    "success",
    "failure",
    "metrics",
    "stage",
    "baseline",
    "expected",
    "data",
    "seeds",
    "treatment",
    "level",
    "reason",
    "looks",
    "transform",
    "scale",
)
#: ``transform:`` values: the scale the verdict's t test is computed on (``docs/report.md``, step 4b)
TRANSFORMS = ("logit", "log")
DEFAULT_SEEDS = 3
DEFAULT_LEVEL = 0.95
MIN_LEVEL = 0.8  # a lower confidence level is not a verdict worth the name

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
_RELATIVE_RE = re.compile(
    rf"^\s*(?P<metric>[A-Za-z_][\w.\-/]*)\s*(?P<op>>=|<=|==|>|<|=)\s*baseline\s*"
    rf"(?:(?P<sign>[-+])\s*(?P<value>{_NUMBER}))?\s*$",
    re.IGNORECASE,
)
_STAGE_BASELINE_RE = re.compile(r"^\s*stage\s+(?P<stage>[\w-]+)\s*$", re.IGNORECASE)
_KEY_RE = re.compile(rf"^\s*(?P<key>{'|'.join(KEYS)})\s*:\s*(?P<value>.*)$", re.IGNORECASE)
_CLAIM_VERBS = (
    r"improv\w*|increas\w*|reduc\w*|decreas\w*|lower\w*|rais\w*|beat\w*|outperform\w*|"
    r"speed\w*|slow\w*|hurt\w*|help\w*|boost\w*|cut\w*|match\w*"
)
_BUNDLE_RE = re.compile(rf"\b(?:{_CLAIM_VERBS})\b.*\b(?:and|while|but)\b.*\b(?:{_CLAIM_VERBS})\b", re.I)
# two quantities claimed on either side of a conjunction: "reaches 0.95 accuracy and trains in under 1 second"
_BOUND = (
    r"\b(?:reach\w*|at\s+least|at\s+most|under|below|above|over|less\s+than|more\s+than|fewer\s+than|"
    r"within|exceed\w*|beyond|to|by)\s+~?[-+]?\.?\d"
)
_NUMBERS_BUNDLE_RE = re.compile(rf"{_BOUND}.*\b(?:and|while|whilst|but)\b.*{_BOUND}", re.I)


@dataclass(frozen=True)
class Criterion:
    """``METRIC OP VALUE`` (``val_acc >= 0.95``) or, relative, ``METRIC OP baseline [± DELTA]``.

    A relative criterion's ``value`` is the margin over the baseline's mean
    (``val_acc >= baseline + 0.01`` has ``value == 0.01``, ``relative == True``).
    """

    metric: str
    op: str
    value: float
    relative: bool = False

    @classmethod
    def parse(cls, text: str, what: str = "success") -> Criterion:
        rel = _RELATIVE_RE.match(text or "")
        if rel:
            delta = _number(rel["value"]) if rel["value"] else 0.0
            op = "==" if rel["op"] == "=" else rel["op"]
            return cls(rel["metric"], op, -delta if rel["sign"] == "-" else delta, relative=True)
        m = _CRITERION_RE.match(text or "")
        if not m:
            raise HypothesisError(
                f"the {what} criterion {text!r} is not measurable: write it as "
                f"'METRIC OP NUMBER' or 'METRIC OP baseline + NUMBER', for example '{what}: val_acc >= 0.95' "
                f"or '{what}: val_acc >= baseline + 0.01' (OP is one of >=, >, <=, <, ==)"
            )
        op = "==" if m["op"] == "=" else m["op"]
        return cls(m["metric"], op, _number(m["value"]))

    @property
    def higher_is_better(self) -> bool:
        return self.op not in ("<", "<=")

    def holds(self, observed: float | None) -> bool | None:
        """True/False against ``observed``; None when it was not measured (missing or NaN) or when the
        criterion is relative (one run alone cannot be held against the baseline's mean)."""
        if self.relative or observed is None or (isinstance(observed, float) and math.isnan(observed)):
            return None
        return bool(_OPS[self.op](float(observed), self.value))

    def __str__(self) -> str:
        if self.relative:
            margin = "" if self.value == 0 else f" {'-' if self.value < 0 else '+'} {abs(self.value):g}"
            return f"{self.metric} {self.op} baseline{margin}"
        return f"{self.metric} {self.op} {self.value:g}"


def _number(raw: str) -> float:
    return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)


NOT_MEASURED = "not measured"
#: a relative criterion's check: one run alone is not held against the baseline's mean over seeds
VERSUS_BASELINE = "compared with the baseline by the verdict"


def criterion_check(criterion: Criterion, observed: float | None) -> str:
    """One run's *criterion check*: ``met``, ``not met``, ``not measured`` (no finite value), or, for a
    relative criterion that was measured, :data:`VERSUS_BASELINE` (never the verdict)."""
    if observed is None or (isinstance(observed, float) and math.isnan(observed)):
        return NOT_MEASURED
    held = criterion.holds(observed)
    return VERSUS_BASELINE if held is None else ("met" if held else "not met")


def parse_config(text: str) -> dict[str, Any] | None:
    """``NAME=VALUE, ...`` (the one grammar of :mod:`.assignments`) to a dict; None when ``text`` is
    not of that form (free text such as ``majority class, about 0.10``). Text of that form with a
    value that cannot be read is an error, not free text."""
    if not looks_like_assignments(text or ""):
        return None
    if any(p.partition("=")[0].strip() == "baseline" for p in (text or "").split(",")):
        return None  # 'baseline=...' is not a parameter
    try:
        return parse_assignments(text)
    except AssignmentError as err:
        raise HypothesisError(f"configuration {text.strip()!r}: {err}") from None


@dataclass(frozen=True)
class BaselineSpec:
    """What ``baseline:`` names: a configuration, a stage, or only a free-text note."""

    params: dict[str, Any] | None = None
    stage: str | None = None
    note: str | None = None

    def __str__(self) -> str:
        if self.params is not None:
            return ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"stage {self.stage}" if self.stage else (self.note or "none")


def baseline_spec(text: str | None) -> BaselineSpec:
    if not text or not text.strip():
        return BaselineSpec()
    m = _STAGE_BASELINE_RE.match(text)
    if m:
        return BaselineSpec(stage=m["stage"].lower())
    params = parse_config(text)
    return BaselineSpec(params=params) if params is not None else BaselineSpec(note=text.strip())


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
    treatments: list[dict[str, Any]] = field(default_factory=list)
    n_seeds: int | None = None  # ``seeds: N``: seeds per configuration the verdict needs
    level: float = DEFAULT_LEVEL  # confidence level of the verdict's one-sided bound
    transform: str | None = None  # ``transform: logit|log``: the t test is on that scale of the primary criterion
    looks: list[int] = field(default_factory=list)  # ``looks: 3, 5, 10``: a group-sequential plan
    scale: list[str] = field(default_factory=list)  # ``scale: epochs, frac``: parameters that only scale the budget
    # Set by the experiment when stored.
    version: int = 0
    created: str | None = None
    last_updated: str | None = None
    update_reason: str | None = None
    content_sha256: str | None = None  # of content() when registered: a hand edit of idea.json shows

    #: Fields whose change makes a new version.
    CONTENT_FIELDS = (
        "statement",
        "success",
        "failure",
        "metrics",
        "stage",
        "baseline",
        "expected",
        "data",
        "seeds",
        "treatments",
        "n_seeds",
        "level",
        "transform",
        "looks",
        "scale",
    )
    #: Content fields added later: left out of :meth:`content` at their default, so the hash of every
    #: hypothesis registered before they existed is unchanged.
    OPTIONAL_FIELDS: ClassVar[dict[str, Any]] = {"transform": None, "looks": [], "scale": []}

    @property
    def seeds_needed(self) -> int:
        """The plan: seeds per configuration the verdict judges (``seeds: N``, else the planned seeds, else 3);
        seeds beyond it are reported, not pooled (``docs/report.md``, step 2b)."""
        if self.looks:
            return self.looks[-1]
        return self.n_seeds or len(self.seeds) or DEFAULT_SEEDS

    @property
    def baseline_spec(self) -> BaselineSpec:
        return baseline_spec(self.baseline)

    def content_hash(self) -> str:
        blob = json.dumps(self.content(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    @property
    def edited_by_hand(self) -> bool:
        """idea.json no longer matches the hash stored when it was registered (or the hash was removed).

        The full check, against the last registration in ``research_log.jsonl``, is
        :func:`jupyter_mlexp.core.record.idea_files.registration_problem`.
        """
        if self.version < 1:  # not registered yet: nothing to match
            return False
        return self.content_sha256 is None or self.content_sha256 != self.content_hash()

    def covers(self, version: int | None, sha256: str | None) -> bool:
        """A run that recorded ``version`` and ``sha256`` when it started was made under this hypothesis.

        Matched by the version *and* the content hash the run recorded, so a version number moved by
        hand, or a version re-used for other content, does not make an old run current. A run that
        recorded neither (written before versions were recorded) counts as current.
        """
        if version is not None and version != self.version:
            return False
        if sha256 is None:
            return True
        return sha256 == self.content_sha256

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
        out = {k: getattr(self, k) for k in self.CONTENT_FIELDS}
        for key, default in self.OPTIONAL_FIELDS.items():
            if out[key] == default:
                del out[key]
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hypothesis:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        missing = [k for k in ("statement", "success", "metrics") if k not in known]
        if missing:
            raise HypothesisError(f"hypothesis record lacks {', '.join(missing)}")
        for key, value in known.items():
            _check_field(key, value)
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
        _check_criteria_exclusive(self.success, self.failure)
        if self.stage not in STAGES:
            raise HypothesisError(f"unknown stage {self.stage!r}: use one of {', '.join(STAGES)}")
        if not 0 < self.level < 1:
            raise HypothesisError(f"level {self.level!r} is not a confidence level: use e.g. 'level: 0.95'")
        if self.level < MIN_LEVEL:
            raise HypothesisError(
                f"level {self.level:g} is too low to decide anything: a verdict at that level says 'supported' by "
                f"chance {1 - self.level:.0%} of the time; use a level of at least {MIN_LEVEL:g} (0.95 is the default)"
            )
        if self.n_seeds is not None and self.n_seeds < 2:
            raise HypothesisError("seeds: N needs N ≥ 2: one seed has no spread to judge")
        _check_transform(self.transform, Criterion.parse(self.success, "success"))
        _check_looks(self.looks, self.n_seeds, self.seeds)
        self.statement = statement
        return self


#: Stored fields and the JSON type each must hold (None allowed for the optional ones).
_FIELD_TYPES = {
    "statement": (str,),
    "success": (str,),
    "metrics": (list,),
    "failure": (str, type(None)),
    "stage": (str,),
    "baseline": (str, type(None)),
    "expected": (str, type(None)),
    "data": (list,),
    "seeds": (list,),
    "version": (int,),
    "created": (str, type(None)),
    "last_updated": (str, type(None)),
    "update_reason": (str, type(None)),
    "transform": (str, type(None)),
    "looks": (list,),
    "scale": (list,),
}


def _check_field(key: str, value: Any) -> None:
    """Refuse a stored field of the wrong JSON type: ``"metrics": "acc"`` must not become ``a, c, c``."""
    types = _FIELD_TYPES.get(key)
    if types is None:
        return
    bad = not isinstance(value, types) or isinstance(value, bool)
    if not bad and key in ("metrics", "data", "scale"):
        bad = not all(isinstance(x, str) for x in value) or (key == "metrics" and not value)
    if not bad and key in ("seeds", "looks"):
        bad = not all(isinstance(x, int) and not isinstance(x, bool) for x in value)
    if bad:
        want = {
            "metrics": "a list of names",
            "data": "a list of paths",
            "seeds": "a list of whole numbers",
            "looks": "a list of whole numbers",
            "scale": "a list of parameter names",
        }
        expected = want.get(key, "a string" if str in types else "a whole number")
        raise HypothesisError(f"field {key!r} must be {expected}, not {type(value).__name__} {value!r:.40}")


def _region(c: Criterion) -> tuple[float, float, bool, bool]:
    """The values ``c`` holds for: (low, high, low included, high included)."""
    inf = float("inf")
    if c.op in (">=", ">"):
        return c.value, inf, c.op == ">=", False
    if c.op in ("<=", "<"):
        return -inf, c.value, False, c.op == "<="
    return c.value, c.value, True, True


def _check_criteria_exclusive(success: str, failure: str | None) -> None:
    """Success and failure criteria on one metric (both absolute or both relative) that can both hold are
    refused: a value meeting both would be a success and a failure at once."""
    if not success or not failure:
        return
    a, b = Criterion.parse(success, "success"), Criterion.parse(failure, "failure")
    if a.metric != b.metric or a.relative != b.relative:
        return
    (lo1, hi1, il1, ih1), (lo2, hi2, il2, ih2) = _region(a), _region(b)
    lo, hi = max(lo1, lo2), min(hi1, hi2)
    inc_lo = (il1 if lo1 == lo else True) and (il2 if lo2 == lo else True)
    inc_hi = (ih1 if hi1 == hi else True) and (ih2 if hi2 == hi else True)
    overlap = lo < hi or (lo == hi and inc_lo and inc_hi)
    if overlap:
        raise HypothesisError(
            f"the success criterion `{a}` and the failure criterion `{b}` can both hold (for example "
            f"{a.metric} = {lo if lo != float('-inf') else hi:g}): make them exclusive, for example "
            f"'failure: {a.metric} {'<' if a.higher_is_better else '>'} {a.value:g}' or a threshold further away"
        )


def _check_single_claim(statement: str) -> None:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", statement) if s.strip()]
    bullets = re.findall(r"(?:^|\s)(?:\d+[.)]|[-*•])\s+\w", statement)
    if (
        len(sentences) > 1
        or len(bullets) > 1
        or ";" in statement
        or _BUNDLE_RE.search(statement)
        or _NUMBERS_BUNDLE_RE.search(statement)
    ):
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
    treatments: list[dict[str, Any]] = []
    for line in (body or "").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _KEY_RE.match(line)
        if m and m["key"].lower() == "treatment":
            treatments.append(parse_treatment(m["value"]))
        elif m:
            key = m["key"].lower()
            if key in values:
                raise HypothesisError(
                    f"two '{key}:' lines ({values[key]!r} and {m['value'].strip()!r}): one hypothesis has one "
                    f"{key}; keep one line{' (register a second claim as its own experiment)' if key == 'success' else ''}"
                )
            values[key] = m["value"].strip()
        else:
            statement_lines.append(line.strip())
    seeds, n_seeds = parse_seeds(values.get("seeds", ""))
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
        treatments=treatments,
        n_seeds=n_seeds,
        level=parse_level(values.get("level", "")),
        transform=parse_transform(values.get("transform", "")),
        looks=parse_looks(values.get("looks", "")),
        scale=parse_scale(values.get("scale", "")),
        update_reason=values.get("reason") or None,
    )
    return hyp.validate()


def parse_treatment(text: str) -> dict[str, Any]:
    try:
        params = parse_assignments(text) if text.strip() else None
    except AssignmentError as err:
        raise HypothesisError(
            f"treatment {text.strip()!r} names no configuration ({err}): write 'treatment: NAME=VALUE, ...' "
            "with the parameters of the configuration the claim is about (one line per treatment)"
        ) from None
    if not params:
        raise HypothesisError(
            f"treatment {text.strip()!r} names no configuration: write 'treatment: NAME=VALUE, ...' "
            "with the parameters of the configuration the claim is about (one line per treatment)"
        )
    return params


def parse_seeds(text: str) -> tuple[list[int], int | None]:
    """``seeds: N`` (one number: seeds per configuration) or ``seeds: 0, 1, 2`` (the planned seeds)."""
    if not text.strip():
        return [], None
    try:
        numbers = [int(s) for s in _split_list(text)]
    except ValueError:
        raise HypothesisError(
            f"seeds must be a number of seeds ('seeds: 5') or whole numbers separated by commas, got {text!r}"
        ) from None
    return ([], numbers[0]) if len(numbers) == 1 else (numbers, None)


def parse_level(text: str) -> float:
    if not text.strip():
        return DEFAULT_LEVEL
    try:
        return _number(text.strip())
    except ValueError:
        raise HypothesisError(f"level must be a confidence level such as 0.95 or 95%, got {text!r}") from None


def parse_transform(text: str) -> str | None:
    """``transform: logit`` / ``log`` (``none``, or no line: the raw scale)."""
    name = text.strip().lower()
    if name in ("", "none"):
        return None
    if name not in TRANSFORMS:
        raise HypothesisError(
            f"transform {text.strip()!r} is not one the verdict knows: use 'transform: logit' (a proportion such as "
            "an accuracy, values in (0, 1)), 'transform: log' (a positive value such as a loss) or 'transform: none'"
        )
    return name


def parse_scale(text: str) -> list[str]:
    """``scale: epochs, frac``: parameters whose ``%%run_quick`` overrides only scale the budget."""
    names = [p.strip() for p in text.split(",") if p.strip()]
    bad = [n for n in names if not re.fullmatch(r"[A-Za-z_]\w*", n)]
    if bad:
        raise HypothesisError(
            f"scale: {bad[0]!r} is not a parameter name: list the parameters that only scale a run's budget, "
            "for example 'scale: epochs, frac'"
        )
    return names


def parse_looks(text: str) -> list[int]:
    """``looks: 3, 5, 10``: the numbers of seeds per configuration at which the verdict may be looked at."""
    if not text.strip():
        return []
    try:
        return [int(s) for s in _split_list(text)]
    except ValueError:
        raise HypothesisError(
            f"looks must be increasing numbers of seeds separated by commas ('looks: 3, 5, 10'), got {text!r}"
        ) from None


def _check_transform(transform: str | None, crit: Criterion) -> None:
    if transform is None:
        return
    if transform not in TRANSFORMS:
        raise HypothesisError(f"transform {transform!r} is not one of {', '.join(TRANSFORMS)} (or none)")
    if crit.relative:
        if crit.value != 0:
            raise HypothesisError(
                f"transform: {transform} with the relative criterion `{crit}`: a margin on the raw scale has no "
                f"meaning on the {transform} scale; register the margin as 0 ('{crit.metric} {crit.op} baseline') "
                "or drop the transform"
            )
        return
    if transform == "logit" and not 0 < crit.value < 1:
        raise HypothesisError(
            f"transform: logit needs a threshold in (0, 1) (a proportion such as an accuracy); `{crit}` is not"
        )
    if transform == "log" and not crit.value > 0:
        raise HypothesisError(f"transform: log needs a positive threshold (a loss, a time); `{crit}` is not")


def _check_looks(looks: list[int], n_seeds: int | None, seeds: list[int]) -> None:
    if not looks:
        return
    if len(looks) < 2 or looks[0] < 2 or any(b <= a for a, b in zip(looks, looks[1:])):
        raise HypothesisError(
            f"looks {', '.join(map(str, looks))}: a sequential plan needs at least two increasing numbers of "
            "seeds, the first at least 2 (for example 'looks: 3, 5, 10')"
        )
    planned = n_seeds or len(seeds) or None
    if planned is not None and planned != looks[-1]:
        raise HypothesisError(
            f"seeds: {planned} and looks: {', '.join(map(str, looks))} disagree: with a sequential plan the last "
            f"look is the plan's number of seeds (drop the seeds line, or make it {looks[-1]})"
        )
