"""A real git repository with a tiny training script, and an experiment whose hypothesis names val_loss."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jupyter_mlexp import Experiment
from jupyter_mlexp.frontdoors.cli import main

# val_loss = 0.5 - SHIFT + noise; the noise depends on the seed and on the code (as a change to
# real training code changes its random stream), so identical seeds do not cancel it.
TRAIN = textwrap.dedent("""
    import os, random, sys, time
    SHIFT = 0.0
    NOISE = 0.01
    SLEEP = 0.0
    seed = int(os.environ.get("MLEXP_SEED", "0"))
    rng = random.Random(f"{seed}-{SHIFT}")
    for step in range(3):
        print(f"step {step} loss {1.0 / (step + 1):.3f}")
    time.sleep(SLEEP)
    print(f"val_loss: {0.5 - SHIFT + NOISE * rng.gauss(0, 1):.6f}")
""")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(workspace, monkeypatch):
    root = Path(workspace)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "loop@example.com")
    git(root, "config", "user.name", "Loop Test")
    (root / "train.py").write_text(TRAIN)
    git(root, "add", "train.py")
    git(root, "commit", "-q", "-m", "the code under study")
    Experiment("tune").register(
        "A change to the training script lowers val_loss.\nsuccess: val_loss < 0.45\nmetrics: val_loss\n"
    )
    monkeypatch.chdir(root)
    return root


def edit(root: Path, **values) -> None:
    """Set module constants of train.py (SHIFT=0.05 ...)."""
    path = root / "train.py"
    text = path.read_text()
    for name, value in values.items():
        lines = [f"{name} = {value!r}" if line.startswith(f"{name} = ") else line for line in text.splitlines()]
        text = "\n".join(lines) + "\n"
    path.write_text(text)


def mlexp(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def attempt(capsys, message: str, *extra: str, command=(sys.executable, "train.py")) -> dict:
    code, out, err = mlexp(capsys, "loop", "try", "-m", message, "--json", *extra, "--", *command)
    assert code in (0, 1), err
    return json.loads(out)


@pytest.fixture
def started(repo, capsys):
    code, _, err = mlexp(capsys, "loop", "start", "t1", "--experiment", "tune", "--seeds", "0,1,2")
    assert code == 0, err
    return repo


PYTHON = sys.executable


def write_notebook(root: Path, shift: float) -> None:
    """``train.ipynb``: a parameters cell with ``seed``, then val_loss = 0.5 - SHIFT + 0.001 * seed."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    params = new_code_cell("seed = 0")
    params.metadata["tags"] = ["parameters"]
    body = f"SHIFT = {shift}\nprint(f'val_loss: {{0.5 - SHIFT + 0.001 * seed:.4f}}')"
    nb.cells = [params, new_code_cell(body)]
    nbformat.write(nb, str(root / "train.ipynb"))
