"""A relative ``MLEXP_ROOT`` means one folder for the server, its kernels and the CLI (issue 10, item 14).

``MLEXP_ROOT=build/demo jupyter lab``: the server resolves it once against its own working
directory and hands it on absolute, so a kernel whose notebook sits in ``notebooks/`` writes
to the folder the sidebar shows, not to ``notebooks/build/demo``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

API = ("mlexp", "api")


@pytest.fixture
def relative_root(jp_root_dir, monkeypatch):
    """The server process's cwd is its root; MLEXP_ROOT relative to it, as the README's command gives it."""
    monkeypatch.chdir(jp_root_dir)
    monkeypatch.setenv("MLEXP_ROOT", "build/demo")
    (Path(jp_root_dir) / "notebooks").mkdir()
    return Path(jp_root_dir).resolve() / "build" / "demo"


def _kernel_root(cwd: Path) -> str:
    """What a real kernel started in ``cwd`` (inheriting this process's environment) takes as the root."""
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=dict(os.environ))
    try:
        out: list[str] = []
        kc.execute_interactive(
            "from jupyter_mlexp.core.record.workspace import find_root; print(find_root())",
            output_hook=lambda msg: out.append(msg["content"].get("text", "")),
            timeout=60,
        )
        return "".join(out).strip()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


async def test_server_pins_a_relative_root_for_itself_and_its_kernels(relative_root, jp_fetch, jp_root_dir):
    assert os.environ["MLEXP_ROOT"] == str(relative_root)  # pinned when the extension loaded
    r = await jp_fetch(*API, "experiments")
    assert json.loads(r.body)["root"] == str(relative_root)
    assert _kernel_root(Path(jp_root_dir) / "notebooks") == str(relative_root)


def test_the_cli_resolves_a_relative_root_against_its_own_folder(tmp_path, monkeypatch):
    from jupyter_mlexp.frontdoors.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLEXP_ROOT", "rec")
    assert main(["hypothesis", "e", "--statement", "Warmup helps.", "--success", "acc >= 0.9", "--metrics", "acc"]) == 0
    assert os.environ["MLEXP_ROOT"] == str(tmp_path.resolve() / "rec")
    assert (tmp_path / "rec" / "experiments" / "e" / "idea.json").is_file()
    assert (
        sys.modules["jupyter_mlexp.core.record.workspace"].find_root(tmp_path / "elsewhere")
        == tmp_path.resolve() / "rec"
    )
