"""The sidebar's verdict at a glance, in pictures: the headline and the forest, light and dark.

The pictures go to test-artifacts/ (their paths are printed) to be looked at; the test checks what
they must show: one headline line, a forest row per configuration, the one the verdict is about marked
(exploratory, no treatment registered: the best).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from test_sidebar import kernel_side, open_sidebar  # tests/browser is on sys.path (rootdir-relative)

pytestmark = pytest.mark.browser

HYPOTHESIS = """A learning rate of 0.1 reaches 0.95 validation accuracy on digits
success: val_acc >= 0.95
metrics: val_acc
seeds: 0, 1, 2
"""
VALUES = {0.1: (0.962, 0.958, 0.965), 0.05: (0.941, 0.952, 0.934), 0.01: (0.902, 0.911, 0.893)}


def make_record(root, values: dict = VALUES, mode: str = "full") -> None:
    """The digits-lr experiment: ``values[lr]`` are the seeds' val_acc, every run in ``mode``."""
    kernel_side(
        root,
        f"""
        exp = Experiment("digits-lr")
        exp.register({HYPOTHESIS!r})
        for lr, values in {values!r}.items():
            for seed, value in enumerate(values):
                run = exp.start_run({mode!r}, params={{"lr": lr}}, seed=seed)
                run.log_metric("val_acc", value)
                exp.finish_run(run, "completed")
        """,
    )


def test_headline_and_forest_light_and_dark(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_record(root)
    lab = start_lab(root)
    open_sidebar(page, lab, width=380)
    block = page.locator("#jp-mlexp-sidebar .jp-mlexp-verdict-block")
    expect(block).to_be_visible(timeout=30_000)
    headline = block.locator(".jp-mlexp-headline")
    expect(headline.locator(".jp-mlexp-verdict")).to_have_text(re.compile("supported", re.I))
    expect(headline).to_contain_text("n = 3")
    forest = block.locator(".jp-mlexp-forest")
    expect(forest.locator("g")).to_have_count(3)
    expect(forest.locator("g.jp-mlexp-forest-subject")).to_have_count(1)
    expect(forest.locator("g.jp-mlexp-forest-subject text")).to_contain_text("lr=0.1")
    # one line: the headline is as tall as one line of its text
    line = headline.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 20")
    assert headline.bounding_box()["height"] <= 2.2 * line, headline.bounding_box()

    shots = []
    card = page.locator("#jp-mlexp-sidebar .jp-mlexp-hypothesis")
    for theme in ("light", "dark"):
        if theme == "dark":
            page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
            page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
            expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
            page.wait_for_timeout(500)  # let the theme's CSS settle before the picture
        for name, where in (("headline-forest", block), ("card", card)):
            path = artifacts / f"verdict-{name}-{theme}.png"
            where.screenshot(path=str(path))
            shots.append(path)
    for path in shots:
        assert path.stat().st_size > 1000
        print(f"screenshot: {path}")
