"""Rules that hold whichever front door writes the record (issue 8: every rule once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlexp.core.experiment import RunInfo
from jupyter_mlexp.core.record import lessons
from jupyter_mlexp.core.record.journal import TAGS
from jupyter_mlexp.frontdoors.cli import main


def test_a_run_is_ignored_exactly_when_it_has_a_reason(tmp_path: Path) -> None:
    kept = RunInfo("r1", "quick", "completed", tmp_path, {})
    dropped = RunInfo("r2", "quick", "completed", tmp_path, {}, ignored_reason="data loader bug")
    assert not kept.ignored
    assert dropped.ignored
    assert dropped.to_dict()["ignored"] is True


def test_the_cli_offers_the_one_tag_list(capsys) -> None:
    assert TAGS == ("WEIRD", "HUNCH", "TODO", "RESOLVED", "LESSON")  # labextension/src/model.ts mirrors it
    with pytest.raises(SystemExit):
        main(["journal", "--help"])
    assert ", ".join(TAGS) in " ".join(capsys.readouterr().out.split())


def _lessons() -> list[tuple[str, str | None]]:
    return [(one.text, one.experiment) for one in lessons.read_lessons()]


def test_core_records_a_lesson_tagged_or_inline(experiment) -> None:
    experiment.add_journal("warm-up matters more than the peak lr", tags=["lesson"])
    experiment.add_journal("[LESSON] seeds before conclusions")
    experiment.add_journal("[WEIRD] loss spiked")
    assert _lessons() == [
        ("warm-up matters more than the peak lr", "digits"),
        ("seeds before conclusions", "digits"),
    ]
    assert "[LESSON]" in experiment.journal_md.read_text()


def test_cli_journal_tag_lesson_records_the_lesson(experiment) -> None:
    assert main(["journal", "--tag", "LESSON", "cache", "the", "dataset"]) == 0
    assert _lessons() == [("cache the dataset", "digits")]


def test_widget_lesson_entry_records_the_lesson(experiment) -> None:
    from jupyter_mlexp.frontdoors.widgets import panel

    p = panel(experiment)
    assert ("LESSON", "LESSON") in p.new_tag.options
    p.new_text.value = "smaller batches were not faster"
    p.new_tag.value = "LESSON"
    p.add_button.click()
    assert _lessons() == [("smaller batches were not faster", "digits")]


def test_magic_records_the_lesson_once(experiment) -> None:
    from IPython.testing.globalipapp import get_ipython

    from jupyter_mlexp import load_ipython_extension

    shell = get_ipython()  # the test session's one shell (started here if no test did before)
    load_ipython_extension(shell)
    try:
        shell.run_line_magic("mlexp", "use digits")
        shell.run_cell_magic("journal", "LESSON", "log the config with every run\n")
    finally:
        shell.run_line_magic("reset", "-f")
    assert _lessons() == [("log the config with every run", "digits")]


@pytest.mark.parametrize("tags", [["todo"], ["LESSON"]])
def test_journal_page_names_the_entry_tags(experiment, tags) -> None:
    from jupyter_mlexp.frontdoors.server import record_views as api

    page = api.add_journal_entry(experiment.base.parent, "digits", "check the loader", tags)
    assert page["entry_tags"] == list(TAGS)
    assert api.journal_page(experiment.base.parent, "digits")["entry_tags"] == list(TAGS)
    assert _lessons() == ([("check the loader", "digits")] if tags == ["LESSON"] else [])


def test_runs_table_and_report_name_a_configuration_alike(experiment) -> None:
    from jupyter_mlexp.core import views
    from jupyter_mlexp.report.load import load_experiment

    run = experiment.start_run("quick", params={"width": 64, "act": "relu", "seed": 3}, overrides={"lr": 0.1}, seed=3)
    experiment.finish_run(run, "completed")
    (row,) = views.run_rows(experiment)
    (loaded,) = load_experiment(experiment).runs
    assert row["params"] == loaded.config == "act=relu, lr=0.1, width=64"
