"""Student records built through the product itself: the core API registers, runs, ignores and journals.

Runs go through ``core.lifecycle.start`` / ``finish`` with the run's printed output (what a
script run passes), no kernel and no subprocess, so thirty students take a second. A
:class:`Clock` stands in for the record's clock (its times have one-second resolution) so
"after the runs" is after the runs however fast the test is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jupyter_mlexp.core.execution import lifecycle
from jupyter_mlexp.core.experiment import Experiment

HYPOTHESIS = """Warm-up raises validation accuracy on digits.
success: val_acc >= {threshold}
metrics: val_acc, loss
stage: full
seeds: 3
"""


class Clock:
    """The record's clock in a test: each reading is one minute after the last."""

    def __init__(self, monkeypatch, start: str = "2026-11-20T10:00:00+00:00"):
        self.now = dt.datetime.fromisoformat(start)
        monkeypatch.setattr("jupyter_mlexp.core.experiment.now_iso", self.iso_seconds)
        from jupyter_mlexp.core.execution import run_folder as run_module

        # a run's start and end too (``Run.create`` passes the time it read: the clock replaces it)
        monkeypatch.setattr(run_module, "iso", lambda ts=None: self.iso_ms())

    def tick(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now

    def iso_seconds(self) -> str:
        return self.tick().isoformat(timespec="seconds")

    def iso_ms(self) -> str:
        return self.tick().isoformat(timespec="milliseconds")


def register(
    exp: Experiment, threshold: float = 0.9, reason: str | None = None, extra: str = "", seeds: int = 3
) -> None:
    text = HYPOTHESIS.format(threshold=threshold).replace("seeds: 3", f"seeds: {seeds}")
    exp.register(text + extra, reason=reason)


def run(
    exp: Experiment,
    value: float | None,
    *,
    mode: str = "full",
    seed: int = 0,
    params: dict | None = None,
    status: str = "completed",
) -> str:
    """One run that printed ``val_acc: VALUE`` (nothing when None); its id."""
    r = lifecycle.start(exp, mode, source="train.py", seed=seed, params=params or {}, git={}, data={})
    printed = "" if value is None else f"val_acc: {value}\nloss: {1 - value:.3f}\n"
    error = {"name": "RuntimeError", "message": "diverged"} if status == "failed" else None
    lifecycle.finish(exp, r, status, printed=printed, error=error)
    return str(r.run_id)


def seeds(exp: Experiment, values: list[float], mode: str = "full", params: dict | None = None) -> list[str]:
    return [run(exp, v, mode=mode, seed=i, params=params) for i, v in enumerate(values)]


def log_lines(exp: Experiment) -> list[str]:
    return exp.log_jsonl.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- the cases a course grades, each built the way a student would build it -------------------------
def proper(exp: Experiment) -> None:
    """Registered first, three full seeds, supported."""
    register(exp, 0.9)
    run(exp, 0.93, mode="quick")
    seeds(exp, [0.95, 0.96, 0.97])
    exp.add_journal("first full sweep done", tags=["PLANNED"])


def loosened(exp: Experiment) -> None:
    """Criterion 0.99 registered, missed, then loosened to 0.9 after the runs, and the runs re-made."""
    register(exp, 0.99)
    seeds(exp, [0.95, 0.96, 0.97])
    register(exp, 0.9, reason="0.99 was too ambitious")
    seeds(exp, [0.95, 0.96, 0.97])


def ignored_flip(exp: Experiment) -> None:
    """A bad seed of the plan ignored after its value was seen: the verdict calls it out (inconclusive),
    and with it counted the verdict is not supported either."""
    register(exp, 0.9)
    ids = seeds(exp, [0.55, 0.95, 0.96, 0.97], params={"data": "/home/ignored/ml101/digits.csv"})
    exp.ignore(ids[0], "looked like a bad GPU")
    exp.add_journal("seed 0 was weird", tags=["WEIRD"])


def quick_only(exp: Experiment) -> None:
    register(exp, 0.9)
    for s in range(3):
        run(exp, 0.95 + s / 100, mode="quick", seed=s)
    run(exp, None, mode="quick", seed=3, status="failed")


def reordered(exp: Experiment) -> None:
    """Proper, then the log re-ordered by hand: a run moved before the registration."""
    proper(exp)
    lines = log_lines(exp)
    lines.insert(0, lines.pop(1))
    write_lines(exp.log_jsonl, lines)


def recomputed(exp: Experiment) -> None:
    """Loosened after runs, then the log "fixed" by hand: v1's criterion edited to 0.9 and the chain recomputed."""
    import hashlib
    import json

    from jupyter_mlexp.core.record import logchain

    loosened(exp)
    out, prev = [], None
    for n, line in enumerate(log_lines(exp), 1):
        rec = json.loads(line)
        if rec.get("event") == "hypothesis_registered":
            rec["hypothesis"]["success"] = "val_acc >= 0.9"
        rec.update(seq=n, prev_sha256=prev)
        text = json.dumps(rec)
        prev = hashlib.sha256(logchain.canonical(json.loads(text))).hexdigest()
        out.append(text)
    write_lines(exp.log_jsonl, out)


def reused(exp: Experiment) -> None:
    """Two configurations explored on seeds 0-2, the best named the treatment, then "confirmed" on the same seeds."""
    register(exp, 0.9)
    seeds(exp, [0.95, 0.96, 0.97], params={"lr": 0.1})
    seeds(exp, [0.85, 0.86, 0.84], params={"lr": 0.2})
    register(exp, 0.9, reason="lr=0.1 was the best: confirm it", extra="treatment: lr=0.1\n")
    seeds(exp, [0.95, 0.96, 0.97], params={"lr": 0.1})


def off_course(exp: Experiment) -> None:
    """Judges a metric the course did not fix (registered where no course file was in force)."""
    exp.register(
        "Warm-up lowers the training loss on digits.\nsuccess: loss <= 0.1\nmetrics: loss, val_acc\nstage: full\n"
    )
    seeds(exp, [0.95, 0.96, 0.97])


CASES = {
    "proper": proper,
    "loosened": loosened,
    "ignored": ignored_flip,
    "quickonly": quick_only,
    "reordered": reordered,
    "recomputed": recomputed,
    "reused": reused,
    "offcourse": off_course,
}


def build_student(root: Path, case: str, name: str = "warmup") -> Experiment:
    """A student's workspace at ``root`` with one experiment built as ``case`` says."""
    exp = Experiment(name, root=root)
    CASES[case](exp)
    return exp
