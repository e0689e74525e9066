"""``%mlexp panel``'s ipywidgets view: shows the record and acts through the core."""

from __future__ import annotations

import pytest

from jupyter_mlexp.core.errors import ExperimentNotFoundError, InvalidNameError
from jupyter_mlexp.frontdoors.widgets import JOURNAL_PAGE, ExperimentPanel, panel


def add_run(exp, mode, acc, run_id):
    run = exp.start_run(mode, run_id=run_id, params={"lr": 0.1}, seed=0)
    run.log_metric("val_acc", acc)
    exp.finish_run(run, "completed")


@pytest.fixture
def filled(experiment):
    experiment.add_journal("loss spiked at step 40", tags=["WEIRD"])
    experiment.add_journal("[HUNCH] warmup too short")
    add_run(experiment, "quick", 0.71, "q-1")
    add_run(experiment, "full", 0.93, "f-1")
    experiment.ignore("q-1", "loader bug")
    return experiment


def test_panel_shows_hypothesis_journal_runs_and_ignored(filled):
    p = panel(filled)
    assert isinstance(p, ExperimentPanel)
    assert "Dropout 0.2 improves validation accuracy on digits." in p.hypothesis.value
    assert "val_acc &gt;= 0.9" in p.hypothesis.value
    assert "loss spiked at step 40" in p.entries.value
    assert p.entries.value.index("warmup too short") < p.entries.value.index("loss spiked")  # newest first
    assert "q-1" in p.runs_table.value and "f-1" in p.runs_table.value and "0.93" in p.runs_table.value
    assert "Full runs (1)" in p.runs_table.value and "Quick runs (1)" in p.runs_table.value
    assert "loader bug" in p.ignored_list.value
    assert set(p.run_picker.options) == {"q-1", "f-1"}


def test_panel_by_name_and_errors(filled):
    assert panel("digits").experiment.name == "digits"
    with pytest.raises(ExperimentNotFoundError):
        panel("nope")
    with pytest.raises(InvalidNameError):
        panel("../up")


def test_filter_search_and_pages(filled):
    for i in range(JOURNAL_PAGE + 5):
        filled.add_journal(f"note number {i}")
    p = panel(filled)
    assert "note number 24" in p.entries.value and "note number 0" not in p.entries.value
    assert p.newer.disabled and not p.older.disabled
    p.older.click()
    assert "note number 0" in p.entries.value
    p.tag_filter.value = "WEIRD"
    assert "loss spiked" in p.entries.value and "note number" not in p.entries.value
    assert p.page_label.value == "1–1 of 1"
    p.tag_filter.value = ""
    p.search.value = "WARMUP"
    assert "warmup too short" in p.entries.value and "loss spiked" not in p.entries.value


def test_add_entry_writes_the_journal(filled):
    p = panel(filled)
    p.new_text.value = "val loss flat after epoch 5"
    p.new_tag.value = "TODO"
    p.add_button.click()
    text = filled.journal_md.read_text()
    assert "[TODO]" in text and "val loss flat after epoch 5" in text
    assert p.new_text.value == ""
    assert "val loss flat after epoch 5" in p.entries.value


def test_empty_entry_shows_an_error(filled):
    p = panel(filled)
    p.new_text.value = "  "
    p.add_button.click()
    assert "empty journal entry" in p.status.value


def test_ignore_needs_a_reason_then_writes_ignored_runs(filled):
    p = panel(filled)
    p.run_picker.value = "f-1"
    p.reason.value = ""
    p.ignore_button.click()
    assert "reason is required" in p.status.value
    assert "f-1" not in filled.ignored_md.read_text()
    p.reason.value = "wrong split"
    p.ignore_button.click()
    assert "- `f-1`: wrong split" in filled.ignored_md.read_text()
    assert "wrong split" in p.ignored_list.value


def test_unignore_counts_the_run_again(filled):
    p = panel(filled)
    p.run_picker.value = "q-1"
    p.unignore_button.click()
    assert "q-1" not in filled.ignored_md.read_text()
    assert "No run is ignored" in p.ignored_list.value
    p.unignore_button.click()
    assert "not ignored" in p.status.value


def test_refresh_sees_what_the_kernel_wrote(filled):
    p = panel(filled)
    filled.add_journal("written elsewhere")
    assert "written elsewhere" not in p.entries.value
    p.refresh_button.click()
    assert "written elsewhere" in p.entries.value


def test_text_is_escaped(experiment):
    experiment.add_journal("<script>alert(1)</script>")
    p = panel(experiment)
    assert "<script>" not in p.entries.value and "&lt;script&gt;" in p.entries.value
