"""The sidebar in a real browser: what the kernel writes shows up, and ignoring a run from the UI lands on disk."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
HYPOTHESIS = """Label smoothing 0.1 improves validation accuracy on digits
success: val_acc >= 0.95
metrics: val_acc, loss
"""


def kernel_side(root: Path, code: str) -> None:
    """Run core calls in another process, as a notebook kernel would."""
    script = "from jupyter_mlexp.core.experiment import Experiment\n" + textwrap.dedent(code)
    env = {"MLEXP_ROOT": str(root), "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=root, timeout=60)


def make_record(root: Path) -> None:
    kernel_side(
        root,
        f"""
        exp = Experiment("digits-smoothing")
        exp.register({HYPOTHESIS!r})
        exp.add_journal("val loss jumps at epoch 3 on every seed", tags=["WEIRD"])
        exp.add_journal("[HUNCH] the augmentation flips digits 6 and 9")
        for mode, rid, acc in [("quick", "q-001", 0.91), ("quick", "q-002", 0.12), ("full", "f-001", 0.962), ("full", "f-002", 0.958)]:
            run = exp.start_run(mode, run_id=rid, params={{"smoothing": 0.1, "lr": 0.05}}, seed=int(rid[-1]))
            run.log_metric("val_acc", acc)
            exp.finish_run(run, "completed")
        exp.ignore("q-002", "loader returned an empty validation split")
        Experiment("other-idea").register("Wider layers reduce loss on digits\\nsuccess: loss <= 0.2\\nmetrics: loss")
    """,
    )


def open_sidebar(page: Page, lab, width: int = 440) -> None:
    page.goto(f"{lab.url}lab?token={lab.token}")
    tab = page.locator('.jp-SideBar li[data-id="jp-mlexp-sidebar"]')
    expect(tab).to_be_visible(timeout=60_000)
    tab.click()
    sidebar = page.locator("#jp-mlexp-sidebar")
    expect(sidebar).to_be_visible()
    # Widen the left area as a user would, by dragging the split handle.
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    if box:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 200)
        page.mouse.down()
        page.mouse.move(width, box["y"] + 200, steps=5)
        page.mouse.up()


def test_sidebar_shows_record_and_ignores_a_run(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_record(root)
    lab = start_lab(root)
    status, body = lab.get("mlexp/api/experiments")
    assert status == 200 and "digits-smoothing" in body.decode()

    open_sidebar(page, lab)
    sidebar = page.locator("#jp-mlexp-sidebar")

    # The hypothesis card, the journal, the runs (quick and full apart) and the ignored run.
    card = sidebar.locator(".jp-mlexp-hypothesis")
    expect(card).to_contain_text("Label smoothing 0.1 improves validation accuracy on digits")
    expect(card).to_contain_text("val_acc >= 0.95")
    expect(card.locator(".jp-mlexp-version")).to_have_text("v1")
    # The one verdict engine's decision (two full seeds are too few to decide) and its reason.
    expect(card.locator(".jp-mlexp-verdict").first).to_have_text("inconclusive")
    expect(card.locator(".jp-mlexp-verdict-reason")).not_to_be_empty()
    # The latest counted run against the criterion: a check, not the verdict.
    expect(card.locator(".jp-mlexp-criterion-check")).to_contain_text("met")
    expect(card.locator(".jp-mlexp-criterion-check")).to_contain_text("f-002")
    journal = sidebar.locator(".jp-mlexp-journal")
    expect(journal).to_contain_text("val loss jumps at epoch 3 on every seed")
    expect(journal).to_contain_text("the augmentation flips digits 6 and 9")
    expect(sidebar.locator('.jp-mlexp-runs-full [data-run-id="f-001"]')).to_contain_text("0.962")
    expect(sidebar.locator('.jp-mlexp-runs-quick [data-run-id="q-001"]')).to_contain_text("completed")
    ignored = sidebar.locator(".jp-mlexp-ignored")
    expect(ignored.locator('[data-run-id="q-002"]')).to_contain_text("loader returned an empty validation split")

    # Filter the journal by tag.
    journal.locator('select[aria-label="Filter by tag"]').select_option("WEIRD")
    expect(journal.locator(".jp-mlexp-entry")).to_have_count(1)
    journal.locator('select[aria-label="Filter by tag"]').select_option("")
    expect(journal.locator(".jp-mlexp-entry")).to_have_count(3)

    # Ignore a run from the UI: the dialog asks for a reason, and IGNORED_RUNS.md gets it.
    sidebar.locator('.jp-mlexp-runs-quick [data-run-id="q-001"] button', has_text="Ignore").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Ignore run q-001")
    dialog.locator("input").fill("seed 1 used the old tokenizer")
    dialog.locator("button.jp-mod-accept").click()
    expect(ignored.locator('[data-run-id="q-001"]')).to_contain_text("seed 1 used the old tokenizer")
    expect(sidebar.locator('.jp-mlexp-runs-quick [data-run-id="q-001"]')).to_have_class(
        re.compile("jp-mlexp-run-ignored")
    )
    ignored_md = (root / "experiments" / "digits-smoothing" / "IGNORED_RUNS.md").read_text()
    assert "- `q-001`: seed 1 used the old tokenizer" in ignored_md
    assert "- `q-002`: loader returned an empty validation split" in ignored_md

    # An entry the kernel writes now shows up by itself (polling).
    kernel_side(root, 'Experiment("digits-smoothing").add_journal("seed 2 diverged after warmup", tags=["TODO"])')
    expect(journal).to_contain_text("seed 2 diverged after warmup", timeout=20_000)

    # An entry added in the sidebar lands in JOURNAL.md.
    journal.locator("textarea").fill("checked the tokenizer: old vocab in seed 1")
    journal.locator("button", has_text="Add entry").click()
    expect(journal.locator(".jp-mlexp-entry").first).to_contain_text("checked the tokenizer")
    journal_md = (root / "experiments" / "digits-smoothing" / "JOURNAL.md").read_text()
    assert "checked the tokenizer: old vocab in seed 1" in journal_md

    page.screenshot(path=str(artifacts / "sidebar.png"))
    sidebar.screenshot(path=str(artifacts / "sidebar-panel.png"))

    # The same panel in the dark theme, switched from the menu as a user would.
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
    expect(card).to_be_visible()
    page.wait_for_timeout(500)  # let the theme's CSS settle before the picture
    sidebar.screenshot(path=str(artifacts / "sidebar-panel-dark.png"))


def test_sidebar_says_when_the_server_extension_is_missing(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    lab = start_lab(root, ['--ServerApp.jpserver_extensions={"jupyter_mlexp": False}'], theme="JupyterLab Dark")
    assert lab.get("mlexp/api/experiments")[0] == 404
    open_sidebar(page, lab)
    alert = page.locator("#jp-mlexp-sidebar [role=alert]")
    expect(alert).to_contain_text("Server extension not found", timeout=20_000)
    expect(alert).to_contain_text("jupyter server extension list")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    page.locator("#jp-mlexp-sidebar").screenshot(path=str(artifacts / "sidebar-missing-extension-dark.png"))
