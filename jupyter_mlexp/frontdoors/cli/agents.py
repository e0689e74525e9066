"""``mlexp mcp`` (the agents' MCP server over stdio) and ``mlexp agent-setup`` (what teaches an agent to use it)."""

from __future__ import annotations

import argparse
import os

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.frontdoors.cli.exits import EXIT_OK


def cmd_mcp(args) -> int:
    try:
        from jupyter_mlexp.frontdoors.mcp.server import main
    except ImportError as err:
        if "mcp" not in str(err):
            raise
        raise MlexpError("the MCP server needs the agents extra: pip install 'jupyter-mlexp[agents]'") from None
    root = args.mcp_root or os.environ.get("MLEXP_ROOT") or os.getcwd()
    return main(root, read_only=args.read_only, max_chars=args.max_chars)


def cmd_agent_setup(args) -> int:
    from jupyter_mlexp.frontdoors.mcp.agent_setup import setup

    for line in setup(args.dir or os.getcwd(), read_only=args.read_only):
        print(line)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mcp", help="serve the experiment tools to an agent (Model Context Protocol over stdio)")
    p.add_argument("--root", dest="mcp_root", help="the workspace the tools are confined to (default: this folder)")
    p.add_argument("--read-only", action="store_true", help="only the reading tools (a reviewer, an instructor)")
    p.add_argument("--max-chars", type=int, help="bound on one answer's text (default 2000)")
    p.set_defaults(handler=cmd_mcp)

    p = sub.add_parser("agent-setup", help="write AGENTS.md's section, the skill file and the MCP client config")
    p.add_argument("dir", nargs="?", help="the project folder (default: this folder)")
    p.add_argument("--read-only", action="store_true", help="configure the server with --read-only")
    p.set_defaults(handler=cmd_agent_setup)
