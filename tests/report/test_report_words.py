"""The report's words say one thing each: "baseline" only for what the hypothesis calls its baseline,
"reference" for the stage's best it compares against otherwise; counts name the mode they count; a
registered failure criterion is discussed."""

from __future__ import annotations

import nbformat
from report_factory import make_experiment, seeds

from jupyter_mlexp.report.build import build_report


def _text(exp) -> str:
    nb = nbformat.read(build_report(exp), as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _demo_like(ws, baseline: str | None):
    """The example's shape: a free-text baseline note, stage `baselines`, a quick run and full runs."""
    kw = {"baseline": baseline} if baseline else {}
    exp = make_experiment(
        ws, name="words", success="val_acc >= 0.95", failure="val_acc < 0.90", stage="baselines", **kw
    )
    seeds(exp, "q", [0.85], mode="quick", stage="baselines", params={"alpha": 0.0001, "epochs": 3})
    seeds(exp, "a", [0.96, 0.955, 0.962], stage="baselines", params={"alpha": 0.0001})
    seeds(exp, "b", [0.93, 0.94, 0.935], stage="baselines", params={"alpha": 0.01})
    return exp


def test_a_free_text_baseline_note_makes_the_compared_configuration_a_reference(workspace):
    text = _text(_demo_like(workspace, "majority class, val_acc about 0.10"))
    assert "Comparison against the reference (full runs)" in text and "Reference (full):" in text
    assert "Comparison against the baseline" not in text and "Baseline (full):" not in text
    assert "**Highest mean (full runs, descriptive; the verdict is below):** `alpha=0.0001" in text
    assert "**Baseline to beat:** majority class, val_acc about 0.10" in text  # the hypothesis' own word, kept


def test_a_registered_baseline_configuration_is_called_the_baseline(workspace):
    text = _text(_demo_like(workspace, "alpha=0.01"))
    assert "Comparison against the baseline (full runs)" in text and "Baseline (full):" in text
    assert "Comparison against the reference" not in text


def test_the_abstract_counts_configurations_per_mode(workspace):
    text = _text(_demo_like(workspace, None))
    assert "configurations: 1 in quick runs and 2 in full runs" in text
    # a total is only given as the verdict's family, with what it counts
    for line in text.splitlines():
        if "3 configurations" in line:
            assert "family size k = 3 configurations run under v1, quick runs and failed ones included" in line


def test_a_registered_failure_criterion_is_discussed(workspace):
    text = _text(_demo_like(workspace, None))
    conclusion = text[text.index("## Conclusion") :]
    assert "**Failure criterion** `val_acc < 0.90` (registered before the runs)" in conclusion
    assert "not met by the mean" in conclusion and "it did not decide this verdict" in conclusion
