"""docs/first-experiment.md is a real session: its commands, run in an empty folder, print what it shows
(run ids, times and the folder's path aside)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "first-experiment.md"
SHOWN_ROOT = "/home/me/first-experiment"


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def _normal(text: str, folder: Path) -> list[str]:
    text = text.replace(str(folder), SHOWN_ROOT)
    text = re.sub(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b", "RUN_ID", text)  # run ids carry the time
    text = re.sub(r"\b\d+\.\d\d s\b", "T s", text)  # a run's duration
    return [" ".join(line.split()) for line in text.strip().splitlines()]


def test_the_tutorial_prints_what_it_shows(tmp_path):
    doc = DOC.read_text(encoding="utf-8")
    (train,) = _blocks(doc, "python")
    (tmp_path / "train.py").write_text(train)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLEXP_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # mlexp and python of this env
    sessions = _blocks(doc, "console")
    assert len(sessions) == 7
    for block in sessions:
        command, _, shown = block.partition("\n")
        assert command.startswith("$ "), block
        done = subprocess.run(
            command[2:], shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert _normal(done.stdout, tmp_path) == _normal(shown, tmp_path), command
