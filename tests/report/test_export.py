"""`mlexp report --table md|csv|latex`: the results table, mean ± sd (n) per configuration, the
configuration the verdict supports marked, nothing bolded on a raw maximum."""

from __future__ import annotations

import csv
import io

import pytest
from report_factory import make_experiment, seeds

from jupyter_mlexp.frontdoors.cli import main


@pytest.fixture
def exp(workspace):
    e = make_experiment(workspace, name="tab", success="val_acc >= 0.9", treatments=[{"lr": 0.1}])
    seeds(e, "a", [0.95, 0.96, 0.94], params={"lr": 0.1})
    seeds(e, "b", [0.97, 0.80, 0.99], params={"lr": 0.5})  # the higher raw maximum, not supported
    return e


def _table(capsys, fmt):
    assert main(["report", "tab", "--table", fmt]) == 0
    return capsys.readouterr().out


def test_markdown_table_marks_the_supported_configuration(exp, capsys):
    out = _table(capsys, "md")
    rows = {line.split(" | ")[2]: line for line in out.splitlines() if line.startswith("| full")}
    assert "0.95 ± 0.01 (n = 3)" in rows["lr=0.1"] and rows["lr=0.1"].endswith("| supports the claim |")
    assert not rows["lr=0.5"].endswith("supports the claim |")
    assert "**" not in out
    assert not (exp.path / "report.ipynb").exists()  # the table alone: no notebook written


def test_csv_has_mean_sd_n_per_metric(exp, capsys):
    rows = list(csv.DictReader(io.StringIO(_table(capsys, "csv"))))
    by = {r["configuration"]: r for r in rows}
    assert float(by["lr=0.1"]["val_acc_mean"]) == pytest.approx(0.95)
    assert float(by["lr=0.1"]["val_acc_sd"]) == pytest.approx(0.01)
    assert by["lr=0.1"]["val_acc_n"] == "3" and by["lr=0.1"]["verdict"] == "supports the claim"
    assert by["lr=0.5"]["verdict"] == ""


def test_latex_table_is_escaped_booktabs(exp, capsys):
    out = _table(capsys, "latex")
    assert out.count(r"\begin{tabular}") == 1 and r"\toprule" in out and r"\bottomrule" in out
    assert r"$0.95 \pm 0.01$ (3)" in out and r"val\_acc" in out
    assert r"\textbf" not in out
    line = next(line for line in out.splitlines() if line.startswith("full & full & lr=0.1"))
    assert line.endswith(r"supports the claim \\")


def test_unknown_format_is_a_usage_error(exp, capsys):
    with pytest.raises(SystemExit):
        main(["report", "tab", "--table", "xlsx"])
    assert "invalid choice" in capsys.readouterr().err
