"""Stage summaries written beside the report, every field computed from the runs.

``baseline_summary.json`` — methods (configurations of stage ``baselines``) →
metric → mean, std, n; the best method. ``research_summary.json`` — key findings
as numbers, the best configuration, the statistical tests. ``ablation_summary.json``
— each ablation: what changed against the reference and its effect on each metric, with sign.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_mlexp.report.groups import (
    BASELINE_STAGE,
    Group,
    baseline_group,
    best_group,
    comparisons,
    label,
    mode_groups,
)
from jupyter_mlexp.report.load import ReportData
from jupyter_mlexp.report.output import write_json
from jupyter_mlexp.report.report_verdict import Verdict

ABLATION_STAGE = "ablations"


def _metrics_table(data: ReportData, g: Group) -> dict:
    return {m: g.summary(m).to_dict() for m in data.logged_metrics(g.runs)}


def baseline_summary(data: ReportData) -> dict:
    mode = data.main_mode
    groups = [g for g in mode_groups(data, mode) if g.stage == BASELINE_STAGE]
    primary = data.hypothesis.primary_metric if data.hypothesis else None
    best = best_group(data, groups, primary) if primary else None
    return {
        "stage": BASELINE_STAGE,
        "mode": mode,
        "primary_metric": primary,
        "methods": {
            g.config: {
                "params": g.params,
                "seeds": g.seeds,
                "runs": [r.rel for r in g.runs],
                "metrics": _metrics_table(data, g),
            }
            for g in groups
        },
        "best_method": None
        if best is None or primary is None
        else {"configuration": best.config, "metric": primary, **best.summary(primary).to_dict()},
        "note": None if groups else f"no counted {mode} runs in stage `{BASELINE_STAGE}`",
    }


def research_summary(data: ReportData, verdict: Verdict) -> dict:
    mode = data.main_mode
    groups = mode_groups(data, mode)
    primary = data.hypothesis.primary_metric if data.hypothesis else None
    base, how = baseline_group(data, mode, groups)
    best = best_group(data, groups, primary) if primary else None
    tests = [c.to_dict() for c in comparisons(groups, base, primary, data.cache)] if primary else []
    findings = []
    if best is not None and primary is not None:
        s = best.summary(primary)
        findings.append(
            {
                "finding": "best configuration",
                "configuration": label(best),
                "metric": primary,
                "mean": s.mean,
                "std": s.std,
                "n": s.n,
                "sources": s.sources,
            }
        )
    if base is not None and primary:
        s = base.summary(primary)
        findings.append(
            {
                "finding": "baseline",
                "configuration": label(base),
                "chosen_as": how,
                "metric": primary,
                "mean": s.mean,
                "std": s.std,
                "n": s.n,
                "sources": s.sources,
            }
        )
    return {
        "hypothesis_version": data.hypothesis.version if data.hypothesis else None,
        "mode": mode,
        "primary_metric": primary,
        "runs": {
            "total": len(data.runs),
            "counted": len(data.counted),
            "ignored": sum(r.ignored for r in data.runs),
            "failed": sum(r.status == "failed" for r in data.runs),
            "timeout": sum(r.status == "timeout" for r in data.runs),
        },
        "key_findings": findings,
        "best_configuration": None
        if best is None
        else {"configuration": best.config, "stage": best.stage, "params": best.params, "seeds": best.seeds},
        "statistical_tests": tests,
        "verdict": verdict.to_dict(),
    }


def _changed(ref: dict, params: dict) -> dict:
    out = {}
    for k in sorted(set(ref) | set(params)):
        if ref.get(k, "(unset)") != params.get(k, "(unset)"):
            out[k] = {"from": ref.get(k, "(unset)"), "to": params.get(k, "(unset)")}
    return out


def ablation_summary(data: ReportData) -> dict:
    mode = data.main_mode
    groups = mode_groups(data, mode)
    ablations = [g for g in groups if g.stage == ABLATION_STAGE]
    primary = data.hypothesis.primary_metric if data.hypothesis else None
    # The reference an ablation removes something from: the best full-stage configuration, else the baseline.
    full = [g for g in groups if g.stage == "full"]
    ref = best_group(data, full, primary) if (primary and full) else None
    ref_how = "best configuration of stage `full`"
    if ref is None:
        ref, ref_how = baseline_group(data, mode, groups)
    out = []
    for g in ablations:
        if ref is None:
            break
        effects: dict[str, dict[str, Any]] = {}
        for m in data.logged_metrics(g.runs + ref.runs):
            a, b = g.summary(m), ref.summary(m)
            if a.mean is None or b.mean is None:
                effects[m] = {"delta": None, "sign": None, "note": "not measured on both sides"}
                continue
            d = a.mean - b.mean
            effects[m] = {
                "delta": d,
                "sign": "+" if d > 0 else "-" if d < 0 else "0",
                "mean": a.mean,
                "n": a.n,
                "reference_mean": b.mean,
                "reference_n": b.n,
                "sources": a.sources,
                "reference_sources": b.sources,
            }
        out.append({"configuration": g.config, "changed": _changed(ref.params, g.params), "effects": effects})
    return {
        "stage": ABLATION_STAGE,
        "mode": mode,
        "reference": None if ref is None else {"configuration": label(ref), "chosen_as": ref_how},
        "ablations": out,
        "note": None if ablations else f"no counted {mode} runs in stage `{ABLATION_STAGE}`",
    }


def write_summaries(data: ReportData, verdict: Verdict, folder: Path) -> dict[str, Path]:
    paths = {}
    for name, payload in (
        ("baseline_summary.json", baseline_summary(data)),
        ("research_summary.json", research_summary(data, verdict)),
        ("ablation_summary.json", ablation_summary(data)),
    ):
        path = Path(folder) / name
        write_json(path, payload)
        paths[name] = path
    return paths
