"""The keep/discard loop through the MCP tools: five attempts on a real git repository."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
from mcp_client import call, session

pytestmark = pytest.mark.slow

TRAIN = textwrap.dedent("""
    import os, random
    SHIFT = 0.0
    seed = int(os.environ.get("MLEXP_SEED", "0"))
    rng = random.Random(f"{seed}-{SHIFT}")
    print(f"val_loss: {0.5 - SHIFT + 0.01 * rng.gauss(0, 1):.6f}")
""")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def set_shift(root: Path, value: float) -> None:
    path = root / "train.py"
    lines = [f"SHIFT = {value!r}" if line.startswith("SHIFT = ") else line for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


def test_five_attempts_through_the_tools(workspace):
    root = Path(workspace)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "loop@example.com")
    git(root, "config", "user.name", "Loop Test")
    (root / "train.py").write_text(TRAIN)
    git(root, "add", "train.py")
    git(root, "commit", "-q", "-m", "the code under study")

    async def scenario() -> list[dict]:
        async with session(root) as s:
            refused = await call(s, "loop_try", description="baseline", command=[sys.executable, "train.py"])
            assert refused.error and "call loop_start" in refused.text, refused.text
            reg = await call(
                s,
                "hypothesis_register",
                name="tune",
                statement="A change to the training script lowers val_loss.",
                success="val_loss < 0.45",
                metrics="val_loss",
            )
            assert not reg.error, reg.text
            started = await call(s, "loop_start", tag="t1", seeds=[0, 1, 2])
            assert not started.error and started.data["branch"] == "autoresearch/t1", started.text
            attempts = []
            for n, (shift, what) in enumerate(
                [(0.0, "baseline"), (0.001, "a hair"), (0.05, "a lot"), (0.049, "a hair back"), (0.1, "twice as much")]
            ):
                if n:
                    set_shift(root, shift)
                progress: list = []
                a = await call(s, "loop_try", progress, description=what, command=[sys.executable, "train.py"])
                assert not a.error, a.text
                assert len(progress) >= 3, progress
                attempts.append(a.data["attempt"])
            status = await call(s, "loop_status")
            assert status.data["attempts"] == 5 and status.data["page"]["total"] == 5
            assert status.data["best"]["attempt"] == 4
            listed, page = status.data["attempts_list"], status.data["page"]
            while "next" in page:  # newest first, paged within the bound
                more = await call(s, "loop_status", offset=page["offset"] + page["shown"])
                listed, page = listed + more.data["attempts_list"], more.data["page"]
            assert [r["attempt"] for r in listed] == [4, 3, 2, 1, 0]
            return attempts

    attempts = anyio.run(scenario)
    assert [a["status"] for a in attempts] == ["keep", "discard", "keep", "discard", "keep"], attempts
    assert "SHIFT = 0.1\n" in (root / "train.py").read_text()
    assert git(root, "log", "-1", "--format=%s") == "attempt 4: twice as much"
