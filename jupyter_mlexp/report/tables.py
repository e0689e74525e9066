"""Markdown tables of the report; the report's code cells call these to reproduce them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from jupyter_mlexp.core.record.run_record import RunRecord
from jupyter_mlexp.report.groups import (
    baseline_group,
    comparand,
    comparisons,
    counted_groups,
    earlier_groups,
    group_runs,
    label,
    mode_groups,
)
from jupyter_mlexp.report.load import ReportData, RunData
from jupyter_mlexp.report.safe import cell as safe_cell
from jupyter_mlexp.report.stats import (
    BOOTSTRAP_MIN_N,
    EFFECT_SIZE,
    TEST_BOOTSTRAP,
    TEST_WELCH,
    fmt_comparison_row,
    fmt_summary,
)


def esc(value) -> str:
    """A table cell: one line, and text from the record shown as text (see report.safe)."""
    return safe_cell(value)


def md_table(header: list[str], rows: list[list]) -> str:
    if not rows:
        return "_(none)_"
    out = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def cite(sources, limit: int | None = None) -> str:
    """``source: `a`; `b``` (relative paths, ``:line`` where a line is known)."""
    sources = list(dict.fromkeys(sources))
    if not sources:
        return "source: —"
    shown = sources if limit is None else sources[:limit]
    more = "" if len(shown) == len(sources) else f"; … {len(sources) - len(shown)} more"
    return "source: " + "; ".join(f"`{s}`" for s in shown) + more


def _files(runs: list[RunData]) -> list[str]:
    out = []
    for r in runs:
        used = {src.rsplit(":", 1)[0] for _, src in r.finals.values()}
        out += sorted(used) or [r.manifest_file]
    return out


def results_tables(data: ReportData) -> list[tuple[str, str]]:
    """``(title, markdown)`` per stage and mode: each configuration's metrics as mean ± std (n = seeds).

    The runs the verdict judges (current hypothesis version) first; runs under earlier versions
    follow in tables of their own, marked exploratory, and are never pooled with them."""
    out = _metric_tables(data, counted_groups(data), "")
    h = data.hypothesis
    version = f" (current: v{h.version})" if h is not None else ""
    tail = f" — under earlier hypothesis versions{version}: exploratory, not judged"
    return out + _metric_tables(data, earlier_groups(data), tail)


def _metric_tables(data: ReportData, grouped: dict, tail: str) -> list[tuple[str, str]]:
    out = []
    for (stage, mode), groups in grouped.items():
        metrics = data.logged_metrics([r for g in groups for r in g.runs])
        header = ["configuration", "seeds", *metrics, "sources (final value of each metric: last line logged)"]
        rows = []
        for g in groups:
            rows.append(
                [
                    g.config,
                    ", ".join(map(str, g.seeds)),
                    *(fmt_summary(g.summary(m)) for m in metrics),
                    "; ".join(f"`{f}`" for f in _files(g.runs)),
                ]
            )
        out.append((f"Stage `{stage}`, {mode} runs{tail}", md_table(header, rows)))
    return out


def comparison_table(data: ReportData, mode: str, metric: str | None = None) -> tuple[str, str]:
    """``(note, markdown)``: each configuration of ``mode`` against the baseline on ``metric``."""
    metric = metric or (data.hypothesis.primary_metric if data.hypothesis else None)
    groups = mode_groups(data, mode)
    base, how = baseline_group(data, mode, groups)
    if metric is None:
        return "no hypothesis, so no primary metric to compare on", ""
    word = comparand(data)
    if base is None:
        return f"no {word} for the {mode} runs: {how}", ""
    b = base.summary(metric)
    note = (
        f"{word.capitalize()} ({mode}): `{label(base)}` — {how}; {metric} = {fmt_summary(b)} ({cite(b.sources)}). "
        f"Descriptive statistics only, none of them decides: {TEST_WELCH}; {TEST_BOOTSTRAP} (2,000 resamples, "
        f"seed 0; only with n ≥ {BOOTSTRAP_MIN_N} per arm); effect size: {EFFECT_SIZE}. Δ = configuration − "
        f"{word}. The verdict's one decisive test, with its interval, is in the Conclusion."
    )
    rows = []
    for c in comparisons(groups, base, metric, data.cache):
        rows.append(
            [
                c.config,
                fmt_summary(c.a),
                *fmt_comparison_row(c),
                "; ".join(f"`{s}`" for s in c.a.sources),
            ]
        )
    header = [
        "configuration",
        metric,
        "Δ mean",
        TEST_WELCH,
        "bootstrap 95% CI of Δ",
        EFFECT_SIZE,
        "sources",
    ]
    return note, md_table(header, rows)


def _distinct(values) -> str:
    vals = [v for v in dict.fromkeys(values) if v not in (None, "")]
    return "; ".join(map(str, vals)) or "—"


def _env(r: RunRecord) -> str:
    e = r.environment
    if not e:
        return ""
    pk = e.get("packages") or {}
    keys = [k for k in ("numpy", "torch", "scikit-learn", "jupyter-mlexp") if k in pk]
    pkgs = ", ".join(f"{k} {pk[k]}" for k in keys)
    return (
        f"Python {e.get('python', '?')} · {e.get('platform', '?')}"
        + (f" · {pkgs}" if pkgs else "")
        + (f" · GPU {', '.join(e['gpu'])}" if e.get("gpu") else "")
        + (f" · installed packages sha256 {sha[:12]}" if isinstance(sha := e.get("packages_sha256"), str) else "")
    )


def _git(r: RunRecord) -> str:
    return r.git.describe() if r.git is not None else ""


def _data(r: RunRecord) -> str:
    return "; ".join(
        f"{p}: {str(v.get('sha256') or v.get('error') or '?')[:16]}" for p, v in r.data.items() if isinstance(v, dict)
    )


def _where(path: str, root: Path) -> str:
    """A recorded path as the report shows it: relative to the workspace, never this machine's absolute path."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return f"{p.name} (outside the workspace)"


def _command(r: RunRecord, root: Path) -> str:
    if r.notebook:
        return f"notebook {_where(r.notebook, root)}"
    cmd = (r.command or "").strip()
    if not cmd:
        return r.source or ""
    first = cmd.splitlines()[0]
    return first[:60] + ("…" if len(first) > 60 or "\n" in cmd else "")


def methods_table(data: ReportData) -> str:
    """Per configuration (stage, mode): parameters, seeds, runs, budget, git, data, command; then the
    environments in a table of their own (so the first fits a notebook's width)."""
    used = [r for r in data.runs if not r.ignored]
    root = data.experiment.base.parent
    rows = []
    for (stage, mode), groups in group_runs(used).items():
        for g in groups:
            ms = [r.info.record for r in g.runs]
            statuses = Counter(r.status for r in g.runs)
            rows.append(
                [
                    g.config,
                    stage,
                    mode,
                    ", ".join(map(str, g.seeds)),
                    ", ".join(f"{n} {s}" for s, n in statuses.items()),
                    _distinct(m.budget_s for m in ms),
                    _distinct(_git(m) for m in ms),
                    _distinct(_data(m) for m in ms),
                    _distinct(_command(m, root) for m in ms),
                    "; ".join(f"`{r.manifest_file}`" for r in g.runs),
                ]
            )
    header = [
        "configuration",
        "stage",
        "mode",
        "seeds",
        "runs",
        "budget (s)",
        "git commit",
        "data (sha256)",
        "command / notebook",
        "manifests",
    ]
    return md_table(header, rows) + "\n\n**Environments**\n\n" + environment_table(used)


def environment_table(runs: list[RunData]) -> str:
    """Each distinct environment (Python, platform, key packages, GPU) and the runs that used it."""
    by_env: dict[str, list[RunData]] = {}
    for r in runs:
        by_env.setdefault(_env(r.info.record) or "not recorded", []).append(r)
    rows = [[env, len(rs), ", ".join(dict.fromkeys(r.config for r in rs))] for env, rs in by_env.items()]
    return md_table(["environment", "runs", "configurations"], rows)
