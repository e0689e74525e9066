"""A real ``jupyter lab`` on a loopback port, and Playwright driving Debian's Chromium.

Run alone: ``pytest tests/browser -m browser`` (``.ci/browser.sh``). pytest-jupyter's
event loop and Playwright's clash at teardown when they share a process.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("MLEXP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HUB_PREFIX = "/user/alice/"  # a JupyterHub-style base URL: the sidebar must honour it
# Another environment's python to run `jupyter lab` from, e.g. a fresh venv where only the
# built wheel was installed; it then runs with neither this checkout nor Node.js on its path.
LAB_PYTHON = os.environ.get("MLEXP_LAB_PYTHON")


def pytest_configure(config):
    # pytest-base-url (pulled in by pytest-playwright) trips a pytest deprecation; not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore:Session-scoped fixtures defined as instance methods")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/browser.sh (it installs Debian's chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 1400}}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running ``jupyter lab``: its URL, token, root folder and log."""

    def __init__(
        self,
        root: Path,
        home: Path,
        extra_args: list[str] = (),
        theme: str = "JupyterLab Light",
        collaboration: bool = False,
    ):
        self.root = root
        # No news prompt over the screenshot; the theme under test.
        settings = home / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}{HUB_PREFIX}"
        self.log_path = home / "lab.log"
        env = {
            **os.environ,
            "MLEXP_ROOT": str(root),
            "HOME": str(home),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        }
        env.pop("JUPYTER_TOKEN", None)
        if LAB_PYTHON:
            env.pop("PYTHONPATH", None)
            env["PATH"] = str(Path(LAB_PYTHON).parent)
        cmd = [
            LAB_PYTHON or sys.executable,
            "-m",
            "jupyterlab",
            "--allow-root",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={root}",
            f"--ServerApp.base_url={HUB_PREFIX}",
            f"--LabApp.workspaces_dir={home / 'workspaces'}",
            f"--LabApp.user_settings_dir={home / 'settings'}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # jupyter-collaboration (a dev dependency) turns real-time collaboration on wherever it is
            # installed; the tests run without it unless they ask (test_collaboration.py)
            *([] if collaboration else ["--YDocExtension.disable_rtc=True"]),
            *extra_args,
        ]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=root)

    def get(self, path: str) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({self.proc.returncode}):\n{self.log_path.read_text()}")
            try:
                if self.get("api/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"jupyter lab did not answer in {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _labextension_installed() -> bool:
    from jupyter_core.paths import jupyter_path

    return any((Path(p) / "jupyter-mlexp" / "package.json").exists() for p in jupyter_path("labextensions"))


@pytest.fixture
def start_lab(tmp_path):
    """Factory: start ``jupyter lab`` on a free loopback port in ``tmp_path/root``; stopped after the test."""
    if not LAB_PYTHON and not _labextension_installed():
        pytest.fail(
            "the jupyter-mlexp labextension is not installed in this environment: "
            "run `bash .ci/frontend.sh` then `pip install --no-build-isolation -e .` (or `make setup`)"
        )
    labs: list[Lab] = []

    def start(
        root: Path, extra_args: list[str] = (), theme: str = "JupyterLab Light", collaboration: bool = False
    ) -> Lab:
        home = tmp_path / f"home{len(labs)}"
        home.mkdir()
        lab = Lab(root, home, list(extra_args), theme, collaboration)
        labs.append(lab)
        lab.wait_ready()
        return lab

    yield start
    for lab in labs:
        lab.stop()
