"""IPython magics: thin front doors over the core library.

``%%hypothesis``, ``%%run_quick``, ``%%journal`` / ``%journal`` and ``%mlexp``.
Every :class:`~jupyter_mlexp.core.errors.MlexpError` becomes a ``UsageError``: the
user sees one message, not a traceback.
"""

from __future__ import annotations

import functools
import os
import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import Markdown, display

from jupyter_mlexp.core import tracking, views
from jupyter_mlexp.core.errors import MlexpError, RunTimeoutError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.fsio import system_error
from jupyter_mlexp.core.quickrun import DEFAULT_BUDGET, execute_run, parse_overrides
from jupyter_mlexp.core.workspace import name_from_path

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
        self.current: str | None = None

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
        reg = exp.register(cell, reason=args.reason, force=args.force)
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
            )
        finally:
            shell.custom_exceptions = previous_custom[0]
            if previous_custom[1] is not None:
                shell.CustomTB = previous_custom[1]
        for note in outcome.notes:
            print(f"note: {note}")
        print(outcome.summary_line())

    # -- journal ------------------------------------------------------------------------------
    @line_cell_magic
    @user_errors
    def journal(self, line, cell=None):
        """``%%journal [TAG ...]`` appends the body; ``%journal [-n N] [--tag TAG]`` shows entries."""
        exp = self.experiment()
        if cell is None:
            argv = shlex.split(line)
            limit, tag = 10, None
            while argv:
                a = argv.pop(0)
                if a in ("-n", "--limit") and argv:
                    limit = int(argv.pop(0))
                elif a == "--tag" and argv:
                    tag = argv.pop(0)
                else:
                    raise UsageError("usage: %journal [-n N] [--tag TAG]   (%%journal [TAG ...] to add an entry)")
            print(views.journal_text(exp, limit, tag))
            return
        if tracking.batch_context()[0] is not None:
            # Journal cells were written by a person at the keyboard; a batch re-run of the
            # notebook must not append them again once per run.
            print("journal cell skipped: this notebook is executed by the batch runner")
            return
        tags = [t.strip("[]").upper() for t in shlex.split(line) if t.strip("[]")]
        entry = exp.add_journal(cell, tags)  # a LESSON entry also goes to lessons.md (the core's rule)
        print(f"journal entry added to {exp.journal_md} " + entry.strip().splitlines()[0].removeprefix("## "))

    # -- %mlexp -------------------------------------------------------------------------------
    @line_magic
    @user_errors
    def mlexp(self, line):
        """``%mlexp status|use NAME|runs|ignore RUN_ID --reason TEXT|unignore RUN_ID|...``"""
        argv = shlex.split(line)
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


def _notebook_stem() -> str | None:
    # JupyterLab sets JPY_SESSION_NAME to the notebook's path.
    path = os.environ.get("JPY_SESSION_NAME")
    return name_from_path(path) if path else None


@subcommand("status")
def _status(m: ExperimentMagics, argv):
    print(views.status_text(m.experiment(argv[0] if argv else None)))


@subcommand("use")
def _use(m: ExperimentMagics, argv):
    if len(argv) != 1:
        raise UsageError("usage: %mlexp use NAME")
    exp = Experiment(argv[0]).require()
    _ = exp.hypothesis  # the gate: only an experiment with a hypothesis can be current
    m.current = exp.name
    print(f"current experiment: {exp.name}")


@subcommand("runs")
def _runs(m: ExperimentMagics, argv):
    exp = m.experiment(argv[0] if argv else None)
    display(Markdown(views.markdown_table(views.run_rows(exp))))
    if exp.idea_json.exists():  # the experiment's one verdict under its runs (not a run's criterion check)
        from jupyter_mlexp.core.verdict import judge_experiment  # scipy: loaded only when asked

        print(judge_experiment(exp).text())


@subcommand("ignore")
def _ignore(m: ExperimentMagics, argv):
    if not argv or "--reason" not in argv:
        raise UsageError("usage: %mlexp ignore RUN_ID --reason TEXT")
    i = argv.index("--reason")
    reason = " ".join(argv[i + 1 :])
    run_ids = argv[:i]
    if len(run_ids) != 1 or not reason:
        raise UsageError("usage: %mlexp ignore RUN_ID --reason TEXT")
    m.experiment().ignore(run_ids[0], reason)
    print(f"run {run_ids[0]} ignored: {reason}")


@subcommand("unignore")
def _unignore(m: ExperimentMagics, argv):
    if len(argv) != 1:
        raise UsageError("usage: %mlexp unignore RUN_ID")
    m.experiment().unignore(argv[0])
    print(f"run {argv[0]} counts again")


@subcommand("panel")
def _panel(m: ExperimentMagics, argv):
    from jupyter_mlexp.frontdoors.widgets import panel

    display(panel(m.experiment(argv[0] if argv else None)))
