"""Views of the record shared by the front doors: plain text and Markdown (the magics and the CLI),
and the dicts the REST API and ``mlexp status/runs --json`` send."""

from __future__ import annotations

import os
from typing import Any

from jupyter_mlexp.core.errors import MlexpError, NoHypothesisError, RecordError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.hypothesis import Criterion, Hypothesis, criterion_check
from jupyter_mlexp.core.record.journal import check_tags
from jupyter_mlexp.core.record.runinfo import RunInfo
from jupyter_mlexp.core.stats.forest import forest
from jupyter_mlexp.core.stats.headline import headline
from jupyter_mlexp.core.stats.observations import Observation, config_key
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.core.stats.verdict_arms import group_arms

RUN_COLUMNS = ("run_id", "mode", "stage", "status", "seed", "params", "duration_s", "primary", "ignored")


def run_rows(exp: Experiment) -> list[dict]:
    try:
        primary = exp.hypothesis.primary_metric
    except (NoHypothesisError, RecordError):  # a broken idea.json does not hide the runs
        primary = None
    rows = []
    for info in exp.runs():
        d = info.to_dict(primary)
        value = d["primary_value"]
        rows.append(
            {
                "run_id": d["run_id"],
                "mode": d["mode"],
                "stage": d["stage"] or "",
                "status": d["status"],
                "seed": "" if d["seed"] is None else str(d["seed"]),
                # the configuration as the report names it (a quick run's includes its %%run_quick overrides)
                "params": config_key(info.record.configuration),
                "duration_s": "" if d["duration_s"] is None else f"{d['duration_s']:.2f}",
                "primary": "" if value is None else f"{primary}={value:.6g}",
                "ignored": ("yes: " + d["ignored_reason"]) if d["ignored"] else "",
            }
        )
    return rows


def text_table(rows: list[dict], columns=RUN_COLUMNS) -> str:
    if not rows:
        return "(no runs)"
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    widths = {c: min(w, 60) for c, w in widths.items()}

    def fmt(values):
        return "  ".join(str(v)[: widths[c]].ljust(widths[c]) for c, v in zip(columns, values)).rstrip()

    lines = [fmt(columns), fmt(["-" * widths[c] for c in columns])]
    lines += [fmt([r.get(c, "") for c in columns]) for r in rows]
    return "\n".join(lines)


def markdown_table(rows: list[dict], columns=RUN_COLUMNS) -> str:
    if not rows:
        return "_(no runs)_"

    def esc(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(esc(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def status_text(exp: Experiment) -> str:

    try:
        h = exp.hypothesis
    except NoHypothesisError as err:
        return str(err)
    runs = exp.runs()
    counts: dict[str, int] = {}
    for r in runs:
        key = f"{r.mode} {r.status}" + (" (ignored)" if r.ignored else "")
        counts[key] = counts.get(key, 0) + 1
    journal = exp.journal()
    verdict = judge_experiment(exp)
    lines = [
        headline(verdict),  # the one line first; the reasoning below
        f"experiment {exp.name} — hypothesis v{h.version} (stage {h.stage})",
        f"  claim:    {h.statement}",
        f"  success:  {h.success}" + (f"   failure: {h.failure}" if h.failure else ""),
        f"  metrics:  {', '.join(h.metrics)}",
        "  runs:     " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none yet"),
        verdict.text(indent="  "),  # the experiment's one verdict, as the report and sidebar show it
        f"  journal:  {len(journal.entries)} entries",
        f"  record:   {exp.path}",
    ]
    for w in journal.warnings[:5]:
        lines.append(f"  warning:  {w}")
    return "\n".join(lines)


def journal_text(exp: Experiment, limit: int = 10, tag: str | None = None) -> str:
    if tag:
        tag = check_tags([tag])[0]  # an unknown tag is refused with the list, not answered with "no entries"
    read = exp.journal()
    entries = [e for e in read.entries if not tag or tag in e.tags]
    if not entries:
        return "(no journal entries" + (f" tagged [{tag.upper()}]" if tag else "") + ")"
    out = []
    for e in entries[-limit:][::-1]:
        tags = " ".join(f"[{t}]" for t in e.tags)
        out.append(f"{e.timestamp or '(no time)'} {tags}  (JOURNAL.md:{e.line})\n  " + e.text.replace("\n", "\n  "))
    for w in read.warnings[:5]:
        out.append(f"warning: {w}")
    return "\n".join(out)


def latest_criterion_check(hyp: Hypothesis | None, runs: list[RunInfo]) -> dict | None:
    """The per-run *criterion check* (met / not met / not measured) of the latest completed, counted run
    that logged the criterion's metric (full runs before quick ones), against the current success criterion.
    Not the verdict: that is judged over seeds and configurations (``verdict``)."""
    if hyp is None:
        return None
    try:
        crit = Criterion.parse(hyp.success)
    except MlexpError:
        return None
    counted = [r for r in runs if not r.ignored and r.status == "completed"]
    for mode in ("full", "quick"):
        for run in reversed([r for r in counted if r.mode == mode]):
            value = run.primary(crit.metric)
            if value is None:
                continue
            result = criterion_check(crit, value)
            return {"result": result, "run_id": run.run_id, "mode": run.mode, "metric": crit.metric, "value": value}
    return None


def _hypothesis(exp: Experiment) -> Hypothesis | None:
    try:
        return exp.hypothesis
    except NoHypothesisError:
        return None


def status_dict(exp: Experiment, runs: list[RunInfo] | None = None) -> dict[str, Any]:
    """The experiment at a glance: hypothesis, its history, the one verdict, the latest criterion check,
    counts (the sidebar's card; ``mlexp status --json``). ``runs``: :meth:`Experiment.runs`, if read."""

    runs = exp.runs() if runs is None else runs
    hyp = _hypothesis(exp)
    verdict = judge_experiment(exp) if hyp else None
    return {
        "name": exp.name,
        "hypothesis": hyp.to_dict() if hyp else None,
        "primary_metric": hyp.primary_metric if hyp else None,
        "history": exp.history(),
        # the experiment's one verdict (core.verdict.judge), the same the report, mlexp status and the panel show
        "verdict": verdict.to_dict() if verdict else None,
        "headline": headline(verdict) if verdict else None,  # core.headline: the one line every surface shows
        "forest": forest(verdict) if verdict else None,  # core.forest: the report's figure draws the same numbers
        "criterion_check": latest_criterion_check(hyp, runs),
        "counts": {
            "runs": len(runs),
            "quick": sum(r.mode == "quick" for r in runs),
            "full": sum(r.mode == "full" for r in runs),
            "ignored": sum(r.ignored for r in runs),
        },
    }


def runs_dict(exp: Experiment, runs: list[RunInfo] | None = None) -> dict[str, Any]:
    """Every run as a dict, its folder relative to the experiment and its configuration label
    (the sidebar's lists; ``mlexp runs --json``). ``runs``: :meth:`Experiment.runs`, if read."""
    try:
        primary = exp.hypothesis.primary_metric
    except MlexpError:
        primary = None
    out = []
    prefix = len(str(exp.path)) + 1
    for r in exp.runs() if runs is None else runs:
        d = r.to_dict(primary)
        d["path"] = d["path"][prefix:].replace(os.sep, "/")  # relative: no absolute server paths in answers
        d.setdefault("config", config_key(r.record.configuration))  # the one label (observations.config_key)
        out.append(d)
    return {"primary_metric": primary, "runs": out}


def config_groups(obs: list[Observation], metrics: list[str]) -> list[dict[str, Any]]:
    """The runs table's groups, counted as the verdict counts (``verdict_arms.group_arms``): per (mode,
    stage, configuration) each seed once, the earliest completed run of it that is not ignored; each
    metric's mean, sd and n over those runs. The frontend shows these numbers and computes none."""

    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for mode in sorted({o.mode for o in obs}):
        for metric in metrics or [""]:  # no metric at all: the groups and their counted runs still
            for a in group_arms(obs, mode, metric):
                g = out.setdefault(
                    (mode, a.stage, a.config),
                    {
                        "mode": mode,
                        "stage": a.stage,
                        "config": a.config,
                        "counted": [o.run_id for o in a.runs],
                        "duplicates": [d["run_id"] for d in a.duplicates],
                        "metrics": {},
                    },
                )
                if metric:
                    g["metrics"][metric] = {"mean": a.mean, "sd": a.sd, "n": a.n} if a.values else None
    return list(out.values())
