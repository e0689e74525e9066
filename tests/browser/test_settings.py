"""The extension's settings: listed in JupyterLab's Settings Editor, and applied (hidden columns, default experiment)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect
from test_runs_table import make_record, open_runs_table  # tests/browser is on sys.path (rootdir-relative)
from test_sidebar import kernel_side

pytestmark = pytest.mark.browser


def test_settings_hide_columns_and_pick_the_default_experiment(page: Page, start_lab, tmp_path, artifacts):
    root = tmp_path / "root"
    root.mkdir()
    make_record(root)
    kernel_side(root, 'Experiment("aa-first").register("Another idea\\nsuccess: acc >= 0.5\\nmetrics: acc\\n")')
    lab = start_lab(root)
    home = lab.log_path.parent
    # What the Settings Editor writes: the user's values for the plugin jupyter-mlexp:sidebar.
    settings = home / "settings" / "jupyter-mlexp"
    settings.mkdir(parents=True)
    (settings / "sidebar.jupyterlab-settings").write_text(
        json.dumps({"hiddenColumns": ["lr", "seed"], "defaultExperiment": "digits-momentum"})
    )
    status, body = lab.get("lab/api/settings/jupyter-mlexp:sidebar")
    assert status == 200, body
    schema = json.loads(body)["schema"]
    assert set(schema["properties"]) == {"pollInterval", "defaultExperiment", "hiddenColumns"}

    status, body = lab.get("mlexp/api/experiments")
    names = [e["name"] for e in json.loads(body)["experiments"]]
    assert names[0] == "aa-first" and "digits-momentum" in names  # without the setting the sidebar shows aa-first

    panel = open_runs_table(page, lab)
    expect(page.locator("#jp-mlexp-experiment")).to_have_value("digits-momentum")
    header = panel.locator("[role=columnheader]")
    expect(header.filter(has_text="momentum")).to_have_count(1)
    expect(header.filter(has_text="val_loss")).to_have_count(1)
    expect(header.filter(has_text="lr")).to_have_count(0)
    expect(header.filter(has_text="seed")).to_have_count(0)
    page.screenshot(path=str(artifacts / "settings-hidden-columns.png"))

    # The Settings Editor lists the extension's page with its three settings.
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Settings Editor", exact=True).click()
    entry = page.locator(".jp-PluginList-entry", has_text="Experiments")
    expect(entry).to_be_visible(timeout=30_000)
    entry.click()
    expect(page.get_by_text("Refresh interval (seconds)")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Hidden runs table columns")).to_be_visible()
    page.screenshot(path=str(artifacts / "settings-editor.png"))

    # Live: remove "seed" from the hidden columns in the editor; the open runs table shows it again.
    page.locator("[title='Remove item']").nth(1).click()
    page.locator(".lm-TabBar-tab", has_text="Runs: digits-momentum").click()
    expect(header.filter(has_text="seed")).to_have_count(1, timeout=30_000)
    expect(header.filter(has_text="lr")).to_have_count(0)
