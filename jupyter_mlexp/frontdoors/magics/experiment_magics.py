"""IPython magics: thin front doors over the core library.

``%%hypothesis``, ``%%run_quick``, ``%%journal`` / ``%journal`` and ``%mlexp``.
Every :class:`~jupyter_mlexp.core.errors.MlexpError` becomes a ``UsageError``: the
user sees one message, not a traceback.
"""

from __future__ import annotations

import argparse
import functools
import os
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments, parse_argstring
from IPython.display import Markdown, display

from jupyter_mlexp.core import ignoring, journaling, registration, views
from jupyter_mlexp.core.errors import MlexpError, RunTimeoutError
from jupyter_mlexp.core.execution import tracking
from jupyter_mlexp.core.execution.lifecycle import never_logged
from jupyter_mlexp.core.execution.quickrun import DEFAULT_BUDGET, execute_run, parse_overrides
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.fsio import system_error
from jupyter_mlexp.core.record.parameters import names_from_history, names_from_notebook
from jupyter_mlexp.core.record.workspace import name_from_path
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.frontdoors.magics.follow import KernelAnnouncer

#: ``%mlexp <sub> ...`` handlers: ``fn(magics, argv) -> None``. Other modules add to it.
SUBCOMMANDS: dict = {}


def subcommand(name):
    def deco(fn):
        SUBCOMMANDS[name] = fn
        return fn

    return deco


def user_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MlexpError as err:
            raise UsageError(str(err)) from None
        except OSError as err:  # a full disk, a read-only folder, no permission, too many files: one line
            known = system_error(err)
            if known is None:
                raise
            raise UsageError(str(known)) from None

    return wrapper


@magics_class
class ExperimentMagics(Magics):
    """The kernel's current experiment and the magics that act on it."""

    def __init__(self, shell):
        super().__init__(shell)
        self.announcer = KernelAnnouncer()
        self.announcer.register()
        self._current: str | None = None

    @property
    def current(self) -> str | None:
        """The experiment the magics act on by default; the sidebar is told when it changes."""
        return self._current

    @current.setter
    def current(self, name: str | None) -> None:
        self._current = name
        self.announcer.announce(name)

    # -- helpers ----------------------------------------------------------------------------
    def experiment(self, name: str | None = None) -> Experiment:
        name = name or self.current or tracking.batch_experiment()
        if not name:
            raise UsageError(
                "no current experiment: register a hypothesis first with a %%hypothesis NAME cell "
                "(or pick an existing one with %mlexp use NAME)"
            )
        return Experiment(name)

    # -- %%hypothesis -------------------------------------------------------------------------
    @magic_arguments()
    @argument("name", nargs="?", help="experiment name (default: the current one, or $MLEXP_EXPERIMENT)")
    @argument("--reason", default=None, help="why the hypothesis changed (recorded in idea_evolution.md)")
    @argument("--force", action="store_true", help="change a hypothesis another user registered")
    @cell_magic
    @user_errors
    def hypothesis(self, line, cell):
        """Register one testable hypothesis (or a new version of it) and make it current.

        Body: the claim, then ``success: METRIC OP NUMBER`` (or ``METRIC OP baseline + NUMBER``),
        ``metrics: M1, M2`` and optionally ``failure:``, ``stage:``, ``baseline: NAME=VALUE, ...``,
        ``treatment: NAME=VALUE, ...`` (repeatable), ``seeds: N``, ``level: 0.95``, ``expected:``,
        ``data:`` and ``reason:`` (required to change a hypothesis that already has runs).
        """
        args = parse_argstring(self.hypothesis, line)
        name = args.name or self.current or tracking.batch_experiment() or _notebook_stem()
        if not name:
            raise UsageError("name the experiment: %%hypothesis NAME")
        exp = Experiment(name)
        reg = registration.register(exp, cell, reason=args.reason, force=args.force)
        self.current = exp.name
        h = reg.hypothesis
        if reg.created:
            print(f"registered hypothesis v{h.version} for experiment {exp.name!r} · success: {h.success}")
        elif reg.changed:
            print(f"hypothesis of {exp.name!r} updated to v{h.version} ({'; '.join(reg.changes)})")
        else:
            print(f"hypothesis of {exp.name!r} unchanged (v{h.version}); current experiment: {exp.name}")

    # -- %%run_quick ----------------------------------------------------------------------------
    @magic_arguments()
    @argument("overrides", nargs="*", help="NAME=VALUE overrides applied for this run only")
    @argument("--budget", type=float, default=DEFAULT_BUDGET, help="seconds before the run is interrupted (default 60)")
    @argument("--seed", type=int, default=None, help="seed for random, numpy and torch (default 0)")
    @argument("--data", action="append", default=[], help="data file whose sha256 goes in the manifest (repeatable)")
    @argument("--full", action="store_true", help="run as a full run: ignore overrides, record under full/")
    @argument("--experiment", default=None, help="experiment to record into (default: the current one)")
    @cell_magic
    @user_errors
    def run_quick(self, line, cell):
        """Run the cell as a quick run of the current experiment (needs a registered hypothesis)."""
        args = parse_argstring(self.run_quick, line)
        exp = self.experiment(args.experiment)
        overrides = parse_overrides(args.overrides)
        shell = self.shell
        if shell is None:  # a Magics object made outside a shell
            raise UsageError("%%run_quick runs inside an IPython shell")

        def execute():
            result = shell.run_cell(cell, store_history=False)
            return result.error_before_exec or result.error_in_exec

        previous_custom = (shell.custom_exceptions, getattr(shell, "CustomTB", None))
        shell.set_custom_exc((RunTimeoutError,), _short_timeout_tb)
        try:
            outcome = execute_run(
                exp,
                execute,
                full=args.full,
                overrides=overrides,
                seed=args.seed,
                budget=args.budget,
                data=args.data,
                command=cell,
                namespace=shell.user_ns,
                notebook=_notebook_path(shell),
                parameters=_parameter_names(shell),
                code=_python_source(shell, cell),
            )
        finally:
            shell.custom_exceptions = previous_custom[0]
            if previous_custom[1] is not None:
                shell.CustomTB = previous_custom[1]
        for note in outcome.notes:
            print(f"note: {note}")
        print(outcome.summary_line())
        unlogged = None if outcome.batch else never_logged([outcome])
        if unlogged:
            print(f"warning: {unlogged}")

    # -- journal ------------------------------------------------------------------------------
    @magic_arguments()
    @argument("tags", nargs="*", help="with a cell body: the entry's tags (e.g. BUG LESSON)")
    @argument("-n", "--limit", type=int, default=10, help="without a body: how many entries to show (default 10)")
    @argument("--tag", default=None, help="without a body: show only entries with this tag")
    @line_cell_magic
    @user_errors
    def journal(self, line, cell=None):
        """``%%journal [TAG ...]`` appends the body; ``%journal [-n N] [--tag TAG]`` shows entries."""
        args = parse_argstring(self.journal, line)
        exp = self.experiment()
        if cell is None:
            if args.tags:
                raise UsageError("usage: %journal [-n N] [--tag TAG]   (%%journal [TAG ...] to add an entry)")
            print(views.journal_text(exp, args.limit, args.tag))
            return
        if tracking.batch_context()[0] is not None:
            # Journal cells were written by a person at the keyboard; a batch re-run of the
            # notebook must not append them again once per run.
            print("journal cell skipped: this notebook is executed by the batch runner")
            return
        tags = [t.strip("[]").upper() for t in args.tags if t.strip("[]")]
        entry = journaling.add_entry(exp, cell, tags)  # a LESSON entry also goes to lessons.md (the core's rule)
        print(f"journal entry added to {exp.journal_md} " + entry.strip().splitlines()[0].removeprefix("## "))

    # -- %mlexp -------------------------------------------------------------------------------
    @line_magic
    @user_errors
    def mlexp(self, line):
        """``%mlexp status|use NAME|runs|ignore RUN_ID --reason TEXT|unignore RUN_ID|...``"""
        try:
            argv = shlex.split(line)
        except ValueError as err:  # an unclosed quote
            raise UsageError(f"%mlexp {line.strip()}: {err}") from None
        if not argv:
            argv = ["status"]
        sub = SUBCOMMANDS.get(argv[0])
        if sub is None:
            raise UsageError(f"unknown %mlexp command {argv[0]!r}; one of: {', '.join(sorted(SUBCOMMANDS))}")
        return sub(self, argv[1:])


def _short_timeout_tb(shell, etype, value, tb, tb_offset=None):
    print(f"RunTimeoutError: {value} — cell interrupted; the kernel is still usable.")
    return None


def _notebook_path(shell) -> str | None:
    """The notebook this cell came from: JupyterLab's ``JPY_SESSION_NAME``, VS Code's ``__vsc_ipynb_file__``."""
    found = os.environ.get("JPY_SESSION_NAME") or shell.user_ns.get("__vsc_ipynb_file__")
    return str(found) if found else None


def _parameter_names(shell) -> list[str]:
    """The notebook's parameters: named by the batch runner, found in the kernel's input history
    (papermill's injected cell and the parameters cell before it), or in the notebook's file."""
    names = tracking.batch_parameters()
    history = shell.user_ns.get("In")
    found = names_from_history(history if isinstance(history, list) else [])
    found += names_from_notebook(_notebook_file(shell))
    return names + [n for n in dict.fromkeys(found) if n not in names]


def _notebook_file(shell) -> str | None:
    path = _notebook_path(shell)
    if path and not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.basename(
            path
        )  # JupyterLab's path is relative to the server's root, the kernel's cwd is the notebook's folder
    return path


def _python_source(shell, cell: str) -> str | None:
    """The cell as Python (IPython's own transformation of its magics and ``!`` lines)."""
    try:
        return shell.transform_cell(cell)
    except Exception:  # a cell IPython cannot transform runs (and fails) as it would; not checked
        return None


def _notebook_stem() -> str | None:
    # JupyterLab sets JPY_SESSION_NAME to the notebook's path.
    path = os.environ.get("JPY_SESSION_NAME")
    return name_from_path(path) if path else None


class _Parser(MagicArgumentParser):
    def error(self, message):  # one line: what is wrong, then the usage
        raise UsageError(f"{message} — {self.format_usage().strip()}")


def parser(prog: str) -> MagicArgumentParser:
    """The argument parser of one ``%mlexp`` command (IPython's, as ``@magic_arguments`` uses):
    a bad argument is a one-line ``UsageError``."""
    return _Parser(prog=prog, formatter_class=argparse.HelpFormatter)


def _name_only(prog: str, argv, required: bool = False):
    p = parser(prog)
    p.add_argument("name", nargs=None if required else "?")
    return p.parse_args(argv).name


@subcommand("status")
def _status(m: ExperimentMagics, argv):
    print(views.status_text(m.experiment(_name_only("%mlexp status", argv))))


@subcommand("use")
def _use(m: ExperimentMagics, argv):
    exp = Experiment(_name_only("%mlexp use", argv, required=True)).require()
    _ = exp.hypothesis  # the gate: only an experiment with a hypothesis can be current
    m.current = exp.name
    print(f"current experiment: {exp.name}")


@subcommand("runs")
def _runs(m: ExperimentMagics, argv):
    exp = m.experiment(_name_only("%mlexp runs", argv))
    display(Markdown(views.markdown_table(views.run_rows(exp))))
    if exp.idea_json.exists():  # the experiment's one verdict under its runs (not a run's criterion check)
        print(judge_experiment(exp).text())


@subcommand("ignore")
def _ignore(m: ExperimentMagics, argv):
    p = parser("%mlexp ignore")
    p.add_argument("run_id")
    p.add_argument("--reason", nargs="+", required=True)
    p.add_argument("--replace", action="store_true", help="replace the reason of a run already ignored")
    args = p.parse_args(argv)
    reason = " ".join(args.reason)
    ignoring.ignore(m.experiment(), args.run_id, reason, replace=args.replace)
    print(f"run {args.run_id} ignored: {reason}")


@subcommand("unignore")
def _unignore(m: ExperimentMagics, argv):
    run_id = _name_only("%mlexp unignore", argv, required=True)
    ignoring.unignore(m.experiment(), run_id)
    print(f"run {run_id} counts again")


@subcommand("panel")
def _panel(m: ExperimentMagics, argv):
    from jupyter_mlexp.frontdoors.widgets import panel

    display(panel(m.experiment(_name_only("%mlexp panel", argv))))
