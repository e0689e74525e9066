"""``mlexp agent-setup``: the AGENTS.md section, the skill files and the MCP config, written once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from jupyter_mlexp.frontdoors.cli import main


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_text(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and ".git/" not in p.as_posix()
    }


def test_agent_setup_twice_in_a_fresh_repo_changes_nothing_the_second_time(tmp_path, capsys):
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "AGENTS.md").write_text("# Project rules\n\nRun the tests before committing.\n")
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {"other": {"command": "other-server"}}}))

    assert main(["agent-setup", str(root)]) == 0
    first = capsys.readouterr().out
    assert "AGENTS.md: updated" in first and ".mcp.json: updated" in first and '"mlexp"' in first
    files = snapshot(root)
    assert set(files) == {
        "AGENTS.md",
        ".mcp.json",
        ".claude/skills/mlexp-experiments/SKILL.md",
        ".agents/skills/mlexp-experiments/SKILL.md",
    }
    agents = files["AGENTS.md"][0]
    assert agents.startswith("# Project rules\n\nRun the tests before committing.\n")  # the user's text stays
    assert (
        agents.count("jupyter-mlexp:begin") == 1 and "hypothesis_register" in agents and "mlexp runs --json" in agents
    )
    skill = files[".claude/skills/mlexp-experiments/SKILL.md"][0]
    assert skill.startswith("---\nname: mlexp-experiments\ndescription: ") and "jupyter-mlexp:begin" not in skill
    config = json.loads(files[".mcp.json"][0])
    assert config["mcpServers"] == {
        "other": {"command": "other-server"},
        "mlexp": {"command": "mlexp", "args": ["mcp"]},
    }

    assert main(["agent-setup", str(root)]) == 0
    second = capsys.readouterr().out
    assert second.count(": unchanged") == 4 and "updated" not in second and "written" not in second
    assert snapshot(root) == files  # the same bytes, not even rewritten


def test_a_changed_section_is_replaced_in_place(tmp_path, capsys):
    assert main(["agent-setup", str(tmp_path)]) == 0
    path = tmp_path / "AGENTS.md"
    path.write_text(path.read_text().replace("One hypothesis first", "Whatever") + "\n## After\nkept\n")
    assert main(["agent-setup", str(tmp_path)]) == 0
    text = path.read_text()
    assert "One hypothesis first" in text and "Whatever" not in text and text.endswith("## After\nkept\n")
    assert text.count("jupyter-mlexp:end") == 1
