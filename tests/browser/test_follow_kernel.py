"""The sidebar follows the active notebook's kernel: registering a new hypothesis there switches the panel to it."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_sidebar import make_record, open_sidebar  # tests/browser is on sys.path (rootdir-relative)

pytestmark = pytest.mark.browser

CELLS = [
    "%load_ext jupyter_mlexp",
    "%%hypothesis wider-layers\nWider layers reduce loss on digits\nsuccess: loss <= 0.2\nmetrics: loss",
]


def notebook(cells: list[str]) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                for c in cells
            ],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_sidebar_follows_the_kernel_experiment(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_record(root)
    (root / "follow.ipynb").write_text(notebook(CELLS))
    lab = start_lab(root)
    open_sidebar(page, lab)
    picker = page.locator("#jp-mlexp-experiment")
    expect(picker).to_have_value("digits-smoothing")

    page.goto(f"{lab.url}lab/tree/follow.ipynb?token={lab.token}")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
    choose = page.locator(".jp-Dialog", has_text="Select Kernel")
    try:
        choose.wait_for(timeout=15_000)
        choose.locator("button.jp-mod-accept").click()
    except PlaywrightTimeoutError:
        pass  # the kernel started without asking
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    expect(page.locator(".jp-Notebook .jp-OutputArea-output").last).to_contain_text("wider-layers", timeout=60_000)

    # The page load may restore the sidebar open (a click on its tab would then close it): open it only if hidden.
    if not page.locator("#jp-mlexp-sidebar").is_visible():
        page.locator('.jp-SideBar li[data-id="jp-mlexp-sidebar"]').click()
    expect(picker).to_have_value("wider-layers", timeout=30_000)
    expect(page.locator("#jp-mlexp-sidebar .jp-mlexp-hypothesis")).to_contain_text("Wider layers reduce loss")
    # The picker still works, and the pick holds while the kernel stays on its experiment.
    picker.select_option("digits-smoothing")
    page.wait_for_timeout(6000)
    expect(picker).to_have_value("digits-smoothing")
    expect(page.locator("#jp-mlexp-sidebar .jp-mlexp-kernel-note")).to_contain_text("wider-layers")
    page.screenshot(path=str(artifacts / "sidebar-follows-kernel.png"))
