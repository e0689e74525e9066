"""With real-time collaboration on (jupyter-collaboration): the magics run in a shared notebook, and the
sidebar follows it, shows the experiment and opens the runs table."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_follow_kernel import notebook  # tests/browser is on sys.path (rootdir-relative)
from test_sidebar import make_record, open_sidebar

pytestmark = pytest.mark.browser

CELLS = [
    "%load_ext jupyter_mlexp",
    "%%hypothesis shared-idea\nA shared notebook registers like any other\nsuccess: loss <= 0.2\nmetrics: loss",
    "%%journal HUNCH\nwritten from a notebook two people have open",
]


def test_sidebar_and_magics_with_collaboration_on(page: Page, start_lab, tmp_path, artifacts):
    try:
        import jupyter_server_ydoc  # noqa: F401
    except ImportError:
        pytest.fail("jupyter-collaboration is not installed: pip install -e '.[dev]'")
    root = tmp_path / "root"
    root.mkdir()
    make_record(root)
    (root / "shared.ipynb").write_text(notebook(CELLS))
    lab = start_lab(root, collaboration=True)
    rooms: list[str] = []
    page.on("websocket", lambda ws: rooms.append(ws.url) if "api/collaboration/room" in ws.url else None)

    open_sidebar(page, lab)
    config = json.loads(page.locator("#jupyter-config-data").text_content() or "{}")
    assert config.get("disableRTC") is False, config.get("disableRTC")
    expect(page.locator("#jp-mlexp-experiment")).to_have_value("digits-smoothing")

    # A notebook opened as a shared document: its content comes over the collaboration room's websocket.
    page.goto(f"{lab.url}lab/tree/shared.ipynb?token={lab.token}")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible(timeout=60_000)
    choose = page.locator(".jp-Dialog", has_text="Select Kernel")
    try:
        choose.wait_for(timeout=15_000)
        choose.locator("button.jp-mod-accept").click()
    except PlaywrightTimeoutError:
        pass  # the kernel started without asking
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=60_000)
    assert any("shared.ipynb" in url or "json:notebook" in url for url in rooms), rooms

    # The magics run in it and write the record.
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    expect(page.locator(".jp-Notebook .jp-OutputArea-output").first).to_be_visible(timeout=60_000)
    journal = root / "experiments" / "shared-idea" / "JOURNAL.md"
    expect(page.locator(".jp-Notebook .jp-Cell").last).to_contain_text("journal", timeout=60_000)
    for _ in range(100):
        if journal.exists() and "two people have open" in journal.read_text():
            break
        page.wait_for_timeout(200)
    assert "two people have open" in journal.read_text()

    # The sidebar follows the shared notebook's kernel to its experiment and shows it.
    if not page.locator("#jp-mlexp-sidebar").is_visible():
        page.locator('.jp-SideBar li[data-id="jp-mlexp-sidebar"]').click()
    sidebar = page.locator("#jp-mlexp-sidebar")
    expect(page.locator("#jp-mlexp-experiment")).to_have_value("shared-idea", timeout=30_000)
    expect(sidebar.locator(".jp-mlexp-hypothesis")).to_contain_text("A shared notebook registers like any other")
    expect(sidebar.locator(".jp-mlexp-journal")).to_contain_text("two people have open", timeout=20_000)

    # Back to the experiment with runs: the runs table opens in the main area beside the shared notebook.
    page.locator("#jp-mlexp-experiment").select_option("digits-smoothing")
    expect(sidebar.locator(".jp-mlexp-hypothesis")).to_contain_text("Label smoothing 0.1")
    sidebar.locator("button", has_text="Open runs table").click()
    panel = page.locator("#jp-mlexp-runs")
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-mlexp-grid-run")).to_have_count(4, timeout=20_000)
    page.screenshot(path=str(artifacts / "collaboration-sidebar-runs.png"))
    print(f"screenshot: {artifacts / 'collaboration-sidebar-runs.png'}")
