"""``mlexp agent-setup``: teach a coding agent this project's experiment protocol.

Writes, in the project folder: a section of ``AGENTS.md`` between markers (the rest of the file is
left as it is), a skill file in the layout agent tools read (``.claude/skills/…/SKILL.md`` and
``.agents/skills/…/SKILL.md``), and the ``mlexp`` server in ``.mcp.json`` (other servers kept).
Idempotent: a second run finds everything in place and writes nothing. Needs no MCP SDK.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.fsio import atomic_write_text
from jupyter_mlexp.frontdoors.mcp.protocol import PROTOCOL

BEGIN = "<!-- jupyter-mlexp:begin (written by mlexp agent-setup; edits inside are replaced on the next run) -->"
END = "<!-- jupyter-mlexp:end -->"
SKILL_NAME = "mlexp-experiments"
SKILL_DIRS = (".claude/skills", ".agents/skills")

TOOLS = """\
| step | MCP tool | the same from a shell |
|---|---|---|
| register the claim and its criterion | `hypothesis_register` | `mlexp hypothesis NAME --statement … --success … --metrics …` |
| quick run (de-risk) | `run` with `mode="quick"` | `mlexp run --experiment NAME --json -- python train.py` |
| full runs over seeds | `run` with `mode="full"`, `seeds=[0,1,2]` | `mlexp run --full --seeds 0,1,2 --json …` |
| a long sweep | `run_start`, `run_status`, `run_cancel` | |
| read runs, grouped by configuration | `runs` (`group_by_config=true`) | `mlexp runs --json` |
| one run: parameters, metrics, log tail | `run_show` | |
| the verdict | `verdict` | `mlexp status --json` |
| the journal | `journal_add`, `journal` | `mlexp journal --tag WEIRD "…"` |
| exclude a run, with its reason | `ignore_run` | `mlexp ignore RUN_ID --reason …` |
| the report notebook | `report` | `mlexp report` |
| keep/discard loop | `loop_start`, `loop_try`, `loop_status` | `mlexp loop start TAG`, `mlexp loop try -m … --json -- …` |
"""


def section(read_only: bool = False) -> str:
    mode = " (this project's server is read-only: it reads the record, it runs nothing)" if read_only else ""
    return (
        f"{BEGIN}\n## Experiments: jupyter-mlexp\n\n"
        f"Experiments in this project are recorded under `experiments/` by jupyter-mlexp{mode}. "
        "Use its MCP server `mlexp` (configured in `.mcp.json`), or the `mlexp` command with `--json`; "
        "do not write into `experiments/` by hand.\n\n"
        f"{PROTOCOL}\n{TOOLS}{END}\n"
    )


def skill(read_only: bool = False) -> str:
    front = (
        "---\n"
        f"name: {SKILL_NAME}\n"
        "description: Run and judge ML experiments in this project with jupyter-mlexp (MCP server `mlexp` or "
        "the mlexp CLI): register a hypothesis first, quick then full runs over seeds, the computed verdict, "
        "the journal, the keep/discard loop.\n"
        "---\n\n"
    )
    return front + section(read_only).replace(BEGIN + "\n", "").replace(END + "\n", "")


def server_config(read_only: bool = False) -> dict:
    return {"command": "mlexp", "args": ["mcp"] + (["--read-only"] if read_only else [])}


def _write(path: Path, text: str) -> str:
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    if old == text:
        return "unchanged"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return "written" if old is None else "updated"


def _agents_md(path: Path, read_only: bool) -> str:
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    new_section = section(read_only)
    start, end = old.find(BEGIN), old.find(END)
    if start >= 0 and end > start:
        text = old[:start] + new_section + old[end + len(END) :].removeprefix("\n")
    elif start >= 0 or end >= 0:
        raise MlexpError(f"{path} has one jupyter-mlexp marker without the other: fix it by hand, then run again")
    else:
        text = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "") + new_section
    return _write(path, text)


def _mcp_json(path: Path, read_only: bool) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except ValueError as err:
        raise MlexpError(f"{path} is not valid JSON ({err}); fix it, then run again") from None
    if not isinstance(data, dict) or not isinstance(data.setdefault("mcpServers", {}), dict):
        raise MlexpError(f"{path}: expected an object with an 'mcpServers' object")
    data["mcpServers"]["mlexp"] = server_config(read_only)
    return _write(path, json.dumps(data, indent=2) + "\n")


def setup(folder: str | os.PathLike, read_only: bool = False) -> list[str]:
    """Write (or leave as they are) the files; one line per file, then the client config snippet."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise MlexpError(f"{folder} is not a folder")
    done = [f"AGENTS.md: {_agents_md(root / 'AGENTS.md', read_only)}"]
    for base in SKILL_DIRS:
        rel = f"{base}/{SKILL_NAME}/SKILL.md"
        done.append(f"{rel}: {_write(root / rel, skill(read_only))}")
    done.append(f".mcp.json: {_mcp_json(root / '.mcp.json', read_only)}")
    snippet = json.dumps({"mcpServers": {"mlexp": server_config(read_only)}}, indent=2)
    done += ["", "MCP client configuration (for a client that does not read .mcp.json):", snippet]
    return done
