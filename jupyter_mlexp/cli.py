"""``mlexp`` (also ``jupyter mlexp``): the command-line front door.

Each command module registers its subcommands with ``register(subparsers)``;
a subcommand's handler takes the parsed args and returns an exit code. Library
errors become one line on stderr and exit code 2; nothing prints a traceback
for a user's mistake.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import MlexpError

COMMAND_MODULES = (
    "jupyter_mlexp.commands",
    "jupyter_mlexp.runner.commands",
    "jupyter_mlexp.report.commands",
)

EXIT_OK, EXIT_RUNS_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlexp",
        description="Hypothesis-driven ML experiments: register, run quick and full, journal, report.",
    )
    parser.add_argument("--root", default=None, help="workspace root (default: $MLEXP_ROOT, else the git root, else .)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if not err.name or not (name == err.name or name.startswith(err.name + ".")):
                # a real missing dependency inside the module, not the module itself
                raise
            continue
        module.register(sub)
    return parser


def _skip_slow_optional_imports() -> None:
    """Keep jsonschema's optional ``rfc3987_syntax`` out of this process.

    nbformat imports jsonschema, which imports ``rfc3987_syntax`` eagerly when it is installed
    (it comes with jupyter_server's ``jsonschema[format-nongpl]``); that module builds a Lark
    grammar at import, 1.4 s of every ``mlexp`` command on these machines
    (python-jsonschema/jsonschema#1428). It only validates the ``iri`` string formats, which
    nbformat's schemas do not use, so the CLI's own process marks it absent. Library users'
    processes are left alone.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def main(argv: list[str] | None = None) -> int:
    _skip_slow_optional_imports()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:  # `mlexp run [OPTIONS] -- CMD ...`: everything after -- is the command to run
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1:]
    args = parser.parse_args(argv)
    args.command_argv = command
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    if args.root:
        import os

        os.environ["MLEXP_ROOT"] = args.root
    try:
        return int(args.handler(args) or 0)
    except MlexpError as err:
        print(f"mlexp: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlexp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
