"""A verdict on quick runs alone, in the sidebar, in pictures (light and dark).

Quick, scaled-down runs cannot decide the claim (docs/report.md, step 1): however well they do, the
card must read INCONCLUSIVE, say it is quick runs only, and show in plain view, as a secondary line,
what the quick runs suggest and what would decide it (the full run on fresh seeds). The pictures go to
test-artifacts/ (their paths are printed) to be looked at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from test_sidebar import open_sidebar  # tests/browser is on sys.path (rootdir-relative)
from test_verdict_pictures import make_record  # the same experiment, in quick mode

pytestmark = pytest.mark.browser

# On quick runs lr=0.1 clears 0.95 with room (97.5% lower bound 0.9529): they would support the claim.
VALUES = {0.1: (0.962, 0.958, 0.965), 0.05: (0.941, 0.952, 0.934)}


def test_quick_only_card_reads_inconclusive_with_the_suggestion_aside(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_record(root, VALUES, mode="quick")
    lab = start_lab(root)
    open_sidebar(page, lab, width=380)
    block = page.locator("#jp-mlexp-sidebar .jp-mlexp-verdict-block")
    expect(block).to_be_visible(timeout=30_000)
    headline = block.locator(".jp-mlexp-headline")
    # the decision: inconclusive, and the headline says why at a glance
    expect(headline.locator(".jp-mlexp-verdict")).to_have_text(re.compile(r"^\s*inconclusive\s*$", re.I))
    expect(headline).to_contain_text("quick runs only")
    # what the quick runs suggest: in view without opening "Why", a secondary line, not a verdict badge
    suggests = block.locator(".jp-mlexp-quick-suggests")
    expect(suggests).to_be_visible()
    expect(suggests).to_contain_text(re.compile(r"Quick runs suggest:\s*supported"))
    expect(suggests.locator(".jp-mlexp-verdict")).to_have_count(0)
    expect(block.locator(".jp-mlexp-verdict")).to_have_count(1)  # one decision on the card: inconclusive
    # what would decide it: the full run on fresh seeds, in view too
    decide = block.locator(".jp-mlexp-quick-decide")
    expect(decide).to_be_visible()
    expect(decide).to_contain_text("--full")
    expect(decide).to_contain_text("fresh")
    # nothing cut off: each line fits the sidebar's width (wrapped, not clipped)
    for line in (headline, suggests, decide):
        assert line.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), line.inner_text()

    shots = []
    card = page.locator("#jp-mlexp-sidebar .jp-mlexp-hypothesis")
    for theme in ("light", "dark"):
        if theme == "dark":
            page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
            page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
            expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=20_000)
            page.wait_for_timeout(500)  # let the theme's CSS settle before the picture
        path = artifacts / f"verdict-quick-only-card-{theme}.png"
        card.screenshot(path=str(path))
        shots.append(path)
    for path in shots:
        assert path.stat().st_size > 1000
        print(f"screenshot: {path}")
