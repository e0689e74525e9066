"""Under JupyterLite (no Jupyter server at all) the panel says so, with what to do, and sends no request.

A real JupyterLite site built with jupyterlite-core from this environment's labextensions (ours
included), served as static files and opened in Chromium.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def lite_site(tmp_path):
    jupyter = Path(sys.executable).parent / "jupyter"
    if not (Path(sys.executable).parent / "jupyter-lite").exists() and shutil.which("jupyter-lite") is None:
        pytest.fail("jupyterlite-core is not installed: pip install -e '.[dev]' brings it")
    out = tmp_path / "site"
    build = subprocess.run(
        [str(jupyter), "lite", "build", "--output-dir", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert (out / "extensions" / "jupyter-mlexp" / "package.json").exists(), "our labextension is not in the site"
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port NNNN ..."
        port = int(line.split(" port ")[1].split()[0])
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_panel_says_there_is_no_server_under_jupyterlite(page: Page, lite_site, artifacts):
    api_requests: list[str] = []
    page.on("request", lambda r: api_requests.append(r.url) if "/mlexp/api/" in r.url else None)
    page.goto(lite_site + "lab/index.html")
    tab = page.locator('.jp-SideBar li[data-id="jp-mlexp-sidebar"]')
    expect(tab).to_be_visible(timeout=90_000)
    page.wait_for_timeout(1000)  # the layout restore settles; a click on an open panel's tab would close it
    if not page.locator("#jp-mlexp-sidebar").is_visible():
        tab.click()
    expect(page.locator("#jp-mlexp-sidebar")).to_be_visible()
    banner = page.locator("#jp-mlexp-sidebar [role=status]")
    expect(banner).to_contain_text("No Jupyter server", timeout=60_000)
    expect(banner).to_contain_text("jupyter lab")
    expect(page.locator("#jp-mlexp-sidebar")).not_to_contain_text("Server extension not found")
    page.screenshot(path=str(artifacts / "jupyterlite-no-server.png"))
    assert api_requests == []
