"""A course's locked fields: ``course.yaml``, shipped with an assignment, enforced where a hypothesis is registered.

The file (written by ``mlexp course init``)::

    course: ml101
    metric: val_acc              # every hypothesis's primary metric and criterion metric
    success: val_acc >= 0.9      # the success criterion, when the course fixes it
    baseline: lr=0.1             # the baseline configuration
    seeds: 3                     # seeds per configuration, or the seed list [0, 1, 2]
    budget: 60                   # the quick-run budget in seconds (checked by the class report)
    data:                        # data files and their SHA-256 (checked by the class report)
      data/digits.csv: 9f2c...

It is found next to the notebook (the working directory) or in a parent folder up to the
workspace root, or named by ``MLEXP_COURSE``. :meth:`Experiment.register
<jupyter_mlexp.core.experiment.Experiment.register>` refuses a hypothesis that contradicts it
(:func:`check_hypothesis`), so every front door (magic, CLI, REST, agents' tools) does, with the
course's value in the message; the registration event records the course file's hash.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jupyter_mlexp.core.errors import HypothesisError, MlexpError
from jupyter_mlexp.core.execution.provenance import file_sha256
from jupyter_mlexp.core.record.fsio import atomic_write_text
from jupyter_mlexp.core.record.hypothesis import Criterion, Hypothesis, parse_config

FILENAME = "course.yaml"
ENV_COURSE = "MLEXP_COURSE"


class CourseError(MlexpError):
    """A course file that cannot be read or written (the message names it and says why)."""


@dataclass
class Course:
    path: Path
    name: str = ""
    metric: str | None = None
    success: str | None = None
    baseline: str | None = None
    seeds: int | list[int] | None = None
    budget: float | None = None
    data: dict[str, str] = field(default_factory=dict)
    sha256: str = ""

    @property
    def label(self) -> str:
        return f"course {self.name!r} ({self.path.name})" if self.name else f"the course file {self.path}"

    @property
    def seeds_needed(self) -> int | None:
        if isinstance(self.seeds, list):
            return len(self.seeds)
        return self.seeds

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"course": self.name} if self.name else {}
        for key in ("metric", "success", "baseline", "seeds", "budget"):
            if getattr(self, key) not in (None, ""):
                out[key] = getattr(self, key)
        if self.data:
            out["data"] = dict(self.data)
        return out


def load(path: Path | str) -> Course:

    path = Path(path)
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except OSError as err:
        raise CourseError(f"{path} cannot be read ({err.strerror or type(err).__name__})") from None
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise CourseError(f"{path} is not valid YAML ({str(err).splitlines()[0]}); fix it") from None
    if not isinstance(data, dict):
        raise CourseError(f"{path} is not a mapping of fields (metric:, seeds:, ...)")
    known = {"course", "metric", "success", "baseline", "seeds", "budget", "data"}
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise CourseError(f"{path}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    course = Course(path, sha256=hashlib.sha256(raw).hexdigest())
    course.name = str(data.get("course") or "")
    for key in ("metric", "success", "baseline"):
        if data.get(key) not in (None, ""):
            setattr(course, key, str(data[key]).strip())
    seeds = data.get("seeds")
    if seeds is not None:
        if isinstance(seeds, list) and all(type(s) is int for s in seeds):
            course.seeds = seeds
        elif type(seeds) is int and seeds > 0:
            course.seeds = seeds
        else:
            raise CourseError(f"{path}: seeds must be a number of seeds or a list of integer seeds, not {seeds!r}")
    if data.get("budget") is not None:
        try:
            course.budget = float(data["budget"])
        except (TypeError, ValueError):
            raise CourseError(f"{path}: budget must be seconds, not {data['budget']!r}") from None
    if data.get("data") is not None:
        if not isinstance(data["data"], dict):
            raise CourseError(f"{path}: data must map each file to its SHA-256")
        course.data = {str(k): str(v) for k, v in data["data"].items()}
    if course.success:
        try:
            crit = Criterion.parse(course.success)
        except HypothesisError as err:
            raise CourseError(f"{path}: success: {err}") from None
        if course.metric and crit.metric != course.metric:
            raise CourseError(f"{path}: success judges {crit.metric}, but metric is {course.metric}")
    return course


def find(start: Path | str | None = None, root: Path | str | None = None) -> Course | None:
    """The course in force: ``$MLEXP_COURSE``, else ``course.yaml`` in ``start`` or a parent up to ``root``."""
    path = locate(start, root)
    return load(path) if path is not None else None


def locate(start: Path | str | None = None, root: Path | str | None = None) -> Path | None:
    """The file :func:`find` reads (stat calls only): for a reader that keeps the parsed course."""
    named = os.environ.get(ENV_COURSE)
    if named:
        return Path(named).expanduser()
    here = Path(start or os.getcwd()).resolve()
    top = Path(root).resolve() if root is not None else None
    if top is not None and here != top and top not in here.parents:
        here = top  # working elsewhere: only the workspace root's own file
    for folder in (here, *here.parents):
        candidate = folder / FILENAME
        if candidate.is_file():
            return candidate
        if top is None or folder == top:
            break
    return None


def contradictions(h: Hypothesis, course: Course) -> list[str]:
    """How ``h`` contradicts ``course``'s locked fields, one phrase each (empty: it does not)."""
    out = []
    if course.metric:
        if h.primary_metric != course.metric:
            out.append(
                f"the metric is locked to {course.metric} (this hypothesis's primary metric is {h.primary_metric})"
            )
        elif h.success_criterion.metric != course.metric:
            out.append(f"the criterion must judge {course.metric}, not {h.success_criterion.metric}")
    if course.success and Criterion.parse(course.success) != h.success_criterion:
        out.append(f"the success criterion is locked to `{course.success}` (this one: `{h.success}`)")
    if course.baseline and h.baseline:
        locked, given = parse_config(course.baseline), parse_config(h.baseline)
        if locked is not None and locked != given:
            out.append(f"the baseline is locked to `{course.baseline}` (this one: `{h.baseline}`)")
    if course.seeds is not None:
        if isinstance(course.seeds, list) and h.seeds and list(h.seeds) != course.seeds:
            out.append(f"the seeds are locked to {course.seeds} (this one: {list(h.seeds)})")
        needed = course.seeds_needed
        given_n = h.n_seeds or len(h.seeds) or None
        if given_n is not None and needed is not None and given_n != needed:
            out.append(f"the seeds per configuration are locked to {needed} (this one: {given_n})")
    return out


def check_hypothesis(h: Hypothesis, course: Course | None) -> None:
    """Raise :class:`HypothesisError` when ``h`` contradicts ``course`` (the course's value in the message)."""
    if course is None:
        return
    found = contradictions(h, course)
    if found:
        raise HypothesisError(
            f"{course.label} locks this assignment's fields: {'; '.join(found)}; "
            "register a hypothesis that keeps them (nothing was registered)"
        )


def init_course(
    folder: str | os.PathLike,
    *,
    metric: str,
    success: str | None = None,
    baseline: str | None = None,
    seeds: str | None = None,
    budget: float | None = None,
    data: list[str] | None = None,
    name: str | None = None,
    force: bool = False,
) -> Path:
    """Write ``folder/course.yaml`` (data files hashed now); refuses to replace one unless ``force``."""

    path = Path(folder) / FILENAME
    if path.exists() and not force:
        raise CourseError(f"{path} exists; pass --force to replace it")
    parsed_seeds: int | list[int] | None = None
    if seeds:
        try:
            parts = [int(s) for s in seeds.replace(" ", "").split(",") if s]
        except ValueError:
            raise CourseError(f"--seeds takes a number or a list '0,1,2', not {seeds!r}") from None
        parsed_seeds = parts[0] if len(parts) == 1 and "," not in seeds else parts
    hashes = {}
    for item in data or []:
        p = Path(item)
        try:
            hashes[item] = file_sha256(p)
        except OSError as err:
            raise CourseError(f"{item} cannot be hashed ({err.strerror or type(err).__name__})") from None
    course = Course(
        path,
        name=name or Path(folder).resolve().name,
        metric=metric,
        success=success,
        baseline=baseline,
        seeds=parsed_seeds,
        budget=budget,
        data=hashes,
    )
    text = "# mlexp course file: the fields every student's hypothesis must keep (mlexp course init)\n"
    text += yaml.safe_dump(course.to_dict(), sort_keys=False, allow_unicode=True)
    atomic_write_text(path, text)
    load(path)  # what was written reads back
    return path
