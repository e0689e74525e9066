"""The verdict's headline: one line under 120 characters, built by core.headline from the verdict's own
numbers, and the same line on `mlexp status`, `mlexp runs`, their `--json` and the report."""

from __future__ import annotations

import json

import nbformat
import pytest
from report_factory import make_experiment, seeds

from jupyter_mlexp.core.stats.headline import MAX_CHARS, headline
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.frontdoors.cli import main
from jupyter_mlexp.report.build import build_report
from jupyter_mlexp.report.safe import text


def _absolute(ws, values, name="demo"):
    exp = make_experiment(ws, name=name, success="val_acc >= 0.95")
    seeds(exp, "mlp", values, params={"model": "mlp"})
    return exp


def _relative(ws):
    exp = make_experiment(
        ws, name="relative", success="val_acc >= baseline + 0.01", baseline="warmup=0", treatments=[{"warmup": 5}]
    )
    seeds(exp, "b", [0.80, 0.83, 0.81], params={"warmup": 0})
    seeds(exp, "t", [0.83, 0.87, 0.84], params={"warmup": 5})
    return exp


def _many(ws):
    """Ten long-named configurations, one registered: the line is about the registered one, its label cut."""
    long = "a_rather_long_parameter_name"
    exp = make_experiment(ws, name="many", success="val_acc >= 0.9", treatments=[{long: 7, "width": 512}])
    for c in range(10):
        values = [0.93, 0.92, 0.935] if c == 7 else [0.85, 0.86, 0.84]
        seeds(exp, f"c{c}", values, params={long: c, "width": 512})
    return exp


CASES = {
    "supported": (lambda ws: _absolute(ws, [0.97, 0.968, 0.972]), "SUPPORTED", "val_acc 0.97, 95% CI [0.9"),
    "inconclusive": (lambda ws: _absolute(ws, [0.9644, 0.9622, 0.9489]), "INCONCLUSIVE", "vs >= 0.95 · n = 3"),
    "refuted": (lambda ws: _absolute(ws, [0.80, 0.81, 0.79]), "NOT SUPPORTED", "val_acc 0.8, 95% CI [0.7"),
    "too few": (lambda ws: _absolute(ws, [0.97]), "INCONCLUSIVE", "val_acc 0.97 (too few seeds) · n = 1"),
    "relative": (_relative, "SUPPORTED", "Δ val_acc +0.03333, 95% CI ["),
    "registered of many": (_many, "SUPPORTED", "val_acc 0.9283, 95% CI ["),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_headline_under_120_characters_on_every_surface(workspace, capsys, case):
    build, word, piece = CASES[case]
    exp = build(workspace)
    v = judge_experiment(exp)
    line = headline(v)
    assert len(line) <= MAX_CHARS and "\n" not in line
    assert line.startswith(word + " · ") and piece in line, line
    judged = v.judged[0] if v.judged else None
    if judged is not None:
        assert f"n = {judged.n}" in line
        if judged.bound is not None:  # the interval is the verdict's own bound, at the level it was tested
            assert f"{judged.bound_level * 100:.4g}% CI" in line
            assert f"{judged.bound:.4g}" in line

    assert main(["status", exp.name]) == 0
    assert capsys.readouterr().out.splitlines()[0] == line  # the first thing `mlexp status` says
    assert main(["status", exp.name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["headline"] == line
    assert main(["runs", exp.name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["headline"] == line
    nb = nbformat.read(build_report(exp), as_version=4)
    abstract = next(c.source for c in nb.cells if c.source.startswith("## Abstract"))
    assert abstract.splitlines()[2] == f"**At a glance:** {text(line)} (source: the files the verdict below cites)"


def test_the_registered_treatment_leads_and_a_long_label_is_shortened(workspace):
    v = judge_experiment(_many(workspace))
    line = headline(v)
    label = line.split(" · ")[-1]
    assert v.confirmatory and label.startswith("a_rather_long_parameter_name=7") and label.endswith("…")


def test_an_experiment_without_runs_says_why_in_the_line(workspace):
    exp = make_experiment(workspace, name="fresh", success="val_acc >= 0.95")
    assert headline(judge_experiment(exp)) == "INCONCLUSIVE · criterion not measured: no run was made"


@pytest.mark.parametrize("case", ["inconclusive", "relative", "registered of many"])
def test_the_forest_plot_draws_the_verdicts_own_numbers(workspace, case):
    """Figure 1 is the verdict's: each interval is the bound the verdict tested, at its level, and
    the configuration the headline is about is marked."""
    exp = CASES[case][0](workspace)
    v = judge_experiment(exp)
    nb = nbformat.read(build_report(exp), as_version=4)
    first = next(c for c in nb.cells if c.get("attachments"))
    assert first.source.startswith("**Figure 1.** the verdict") and "forest.webp" in first.attachments
    drawn = json.loads((exp.path / "figures" / "forest.json").read_text())
    assert drawn["criterion"] == v.criterion and drawn["relative"] == v.relative
    arms = {a.label: a for a in v.candidates}
    for row in drawn["configurations"]:
        a = arms[row["configuration"]]
        assert (row["bound"], row["bound_level"], row["n"]) == (a.bound, a.bound_level, a.n)
        assert row["estimate"] == (a.estimate if a.estimate is not None else a.mean)
        level = f"{a.bound_level * 100:.4g}%"
        assert level in first.source  # the caption names the level the text's bound is at
    (lead,) = [r for r in drawn["configurations"] if r["subject"]]
    assert f"n = {lead['n']}" in headline(v) and lead["configuration"].split(" [")[0][:20] in headline(v)
    assert (exp.path / "figures" / "forest.webp").read_bytes()[8:12] == b"WEBP"


def test_no_forest_plot_without_a_value_and_the_report_says_why(workspace):
    exp = make_experiment(workspace, name="fresh", success="val_acc >= 0.95")
    nb = nbformat.read(build_report(exp), as_version=4)
    assert not (exp.path / "figures" / "forest.webp").exists()
    assert not any(c.get("attachments") for c in nb.cells)
