"""``mlexp`` (also ``jupyter mlexp``): the command-line front door.

Each command module (``experiment``, ``run``, ``report``) registers its subcommands with ``register(subparsers)``;
a subcommand's handler takes the parsed args and returns an exit code. Library
errors become one line on stderr and exit code 2; nothing prints a traceback
for a user's mistake.
"""

from __future__ import annotations

import argparse
import os
import sys

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record.fsio import system_error
from jupyter_mlexp.core.record.workspace import pin_root
from jupyter_mlexp.frontdoors.cli import (
    agents,
    classroom,
)
from jupyter_mlexp.frontdoors.cli import (
    experiment_cmds as experiment,
)
from jupyter_mlexp.frontdoors.cli import (
    loop_cmds as loop,
)
from jupyter_mlexp.frontdoors.cli import (
    report_cmds as report,
)
from jupyter_mlexp.frontdoors.cli import (
    run_cmds as run,
)
from jupyter_mlexp.frontdoors.cli.exits import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlexp",
        description="Hypothesis-driven ML experiments: register, run quick and full, journal, report.",
    )
    parser.add_argument("--root", default=None, help="workspace root (default: $MLEXP_ROOT, else the git root, else .)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (experiment, run, loop, report, agents, classroom):
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
        # None in sys.modules makes `import rfc3987_syntax` raise ImportError (the import system's own rule).
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    _skip_slow_optional_imports()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:  # `mlexp run [OPTIONS] -- CMD ...`: everything after -- is the command to run
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1 :]
    args = parser.parse_args(argv)
    args.command_argv = command
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    if args.root:
        os.environ["MLEXP_ROOT"] = args.root
    pin_root()  # a relative root is this command's folder, for the kernels and scripts it starts too
    try:
        return int(args.handler(args) or 0)
    except MlexpError as err:
        print(f"mlexp: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlexp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `mlexp runs | head`: the reader has gone; say nothing more
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as err:  # a full disk, a read-only folder, no permission, too many files: one line
        known = system_error(err)
        if known is None:
            raise
        print(f"mlexp: error: {known}", file=sys.stderr)
        return EXIT_USAGE


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
