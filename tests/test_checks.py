"""The static checks CI runs: ruff lint, ruff format and mypy over the package, each must exit 0.

The tools come with the ``dev`` extra; a test is skipped (with the reason) only when its tool is missing.
Configuration: ``ruff.toml`` and ``[tool.mypy]`` in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name  # the venv running the tests first
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]' brings it)")
    return found


def _check(*argv: str) -> None:
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=600)
    command = " ".join([Path(argv[0]).name, *argv[1:]])
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, f"`{command}` exited {proc.returncode}:\n{output}"


def test_ruff_lint() -> None:
    _check(_tool("ruff"), "check", ".")


def test_ruff_format() -> None:
    _check(_tool("ruff"), "format", "--check", ".")


def test_mypy() -> None:
    _check(_tool("mypy"), "jupyter_mlexp")
