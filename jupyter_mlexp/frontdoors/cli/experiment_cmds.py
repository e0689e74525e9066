"""Core ``mlexp`` subcommands: hypothesis, status, runs, ignore, unignore, journal."""

from __future__ import annotations

import argparse
import json
import sys

from jupyter_mlexp.core import ignoring, journaling, registration, views
from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.execution import lifecycle
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record import authorship
from jupyter_mlexp.core.record.hypothesis import parse_body
from jupyter_mlexp.core.record.journal import TAGS
from jupyter_mlexp.core.record.workspace import experiments_dir
from jupyter_mlexp.core.stats.headline import headline
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.frontdoors.cli.exits import EXIT_OK


def default_experiment(name: str | None) -> Experiment:
    """The named experiment, else (no name given at all) the only one in the workspace."""
    if name is not None:  # an empty --experiment "" is refused by the name check, never "the only one"
        return Experiment(name)
    found = Experiment.all()
    if len(found) == 1:
        return found[0]
    if not found:
        raise MlexpError("no experiment in this workspace yet: register one with `mlexp hypothesis NAME ...`")
    names = ", ".join(e.name for e in found)
    raise MlexpError(f"several experiments here ({names}); name one with --experiment NAME")


def add_experiment_argument(p: argparse.ArgumentParser) -> None:
    """``[EXPERIMENT]``, also accepted as ``--experiment NAME`` like every other command takes it."""
    p.add_argument("experiment", nargs="?", help="experiment name (default: the only one in the workspace)")
    p.add_argument("--experiment", dest="experiment_flag", metavar="NAME", help="the same, as an option")


def named(args) -> str | None:
    """The experiment a command with :func:`add_experiment_argument` was given, either way."""
    if args.experiment is not None and getattr(args, "experiment_flag", None) not in (None, args.experiment):
        raise MlexpError(f"two experiments named: {args.experiment!r} and --experiment {args.experiment_flag!r}")
    return args.experiment if args.experiment is not None else getattr(args, "experiment_flag", None)


def read_user_file(path: str) -> str:
    """A UTF-8 text file the user named on the command line, or one line saying why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except UnicodeDecodeError as err:
        raise MlexpError(f"{path} is not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise MlexpError(f"{path} cannot be read: {err.strerror or type(err).__name__}") from None


def hypothesis_body(args) -> str:
    """The ``%%hypothesis`` body the flags describe: the CLI registers through the magic's parser."""
    if not (args.statement and args.success and args.metrics):
        raise MlexpError("give --statement, --success and --metrics, or -f hypothesis.md")
    lines = [" ".join(args.statement.split()), f"success: {args.success}", f"metrics: {args.metrics}"]
    keys = ("failure", "stage", "baseline", "expected", "seeds", "level")
    lines += [f"{k}: {getattr(args, k)}" for k in keys if getattr(args, k) not in (None, "")]
    lines += [f"treatment: {t}" for t in args.treatment or []]
    return "\n".join(lines) + "\n"


def cmd_hypothesis(args) -> int:
    if args.file:
        text = sys.stdin.read() if args.file == "-" else read_user_file(args.file)
    else:
        text = hypothesis_body(args)
    reg = registration.register(Experiment(args.name), parse_body(text), reason=args.reason, force=args.force)
    h = reg.hypothesis
    state = "registered" if reg.created else ("updated to" if reg.changed else "unchanged at")
    print(f"{args.name}: hypothesis {state} v{h.version} · success: {h.success}")
    return EXIT_OK


def cmd_status(args) -> int:
    exp = default_experiment(named(args)).require()
    _ = exp.hypothesis  # no hypothesis yet: the error says how to register one (stderr, exit 2)
    if args.json:
        print(json.dumps(views.status_dict(exp)))
        return EXIT_OK
    print(views.status_text(exp))
    return EXIT_OK


def cmd_runs(args) -> int:
    exp = default_experiment(named(args))
    exp.require()
    lifecycle.end_stale_runs(exp)  # runs whose process died are ended from what they left on disk
    verdict = None
    if exp.idea_json.exists():  # the experiment's one verdict under its runs (not a run's criterion check)
        verdict = judge_experiment(exp)

    if args.json:  # the runs as the sidebar gets them, and the verdict with its headline
        print(
            json.dumps(
                {
                    **views.runs_dict(exp),
                    "verdict": verdict.to_dict() if verdict else None,
                    "headline": headline(verdict) if verdict else None,
                }
            )
        )
    else:
        print(views.text_table(views.run_rows(exp)) + (f"\n\n{headline(verdict)}\n{verdict.text()}" if verdict else ""))
    return EXIT_OK


def cmd_ignore(args) -> int:
    exp = default_experiment(args.experiment)
    ignoring.ignore(exp, args.run_id, args.reason, replace=args.replace)
    print(f"{exp.name}: run {args.run_id} ignored: {args.reason}")
    return EXIT_OK


def cmd_unignore(args) -> int:
    exp = default_experiment(args.experiment)
    ignoring.unignore(exp, args.run_id)
    print(f"{exp.name}: run {args.run_id} counts again")
    return EXIT_OK


def cmd_journal(args) -> int:
    exp = default_experiment(args.experiment)
    _ = exp.hypothesis  # the journal belongs to a registered experiment
    if args.text:
        text = " ".join(args.text)
        if text == "-":
            text = sys.stdin.read()
        journaling.add_entry(exp, text, args.tag or [])
        print(f"{exp.name}: journal entry added")
    else:
        print(views.journal_text(exp, args.limit, (args.tag or [None])[0]))
    return EXIT_OK


def cmd_init(args) -> int:

    if not args.shared:
        raise MlexpError("mlexp init sets up a folder shared by a group: mlexp init --shared [--group GROUP]")
    folder = authorship.init_shared(experiments_dir(None).parent, args.group)
    print(f"{folder}: shared with its group (setgid, group-writable); every member's records stay writable to all")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="set up the workspace: --shared for a folder a Unix group shares")
    p.add_argument("--shared", action="store_true", help="setgid, group-writable experiments/ (JupyterHub courses)")
    p.add_argument("--group", help="the Unix group that shares it (default: the folder's group)")
    p.set_defaults(handler=cmd_init)
    p = sub.add_parser("hypothesis", help="register (or update) an experiment's hypothesis")
    p.add_argument("name")
    p.add_argument("-f", "--file", help="a file with the same body as a %%%%hypothesis cell ('-' for stdin)")
    p.add_argument("--statement")
    p.add_argument("--success", help="'METRIC OP VALUE', e.g. 'val_acc >= 0.95'")
    p.add_argument("--failure")
    p.add_argument("--metrics", help="comma-separated, primary first")
    p.add_argument("--stage", default="implementation")
    p.add_argument("--baseline", help="'NAME=VALUE,...' (a configuration), 'stage baselines', or a free-text note")
    p.add_argument(
        "--treatment", action="append", help="'NAME=VALUE,...': the configuration the claim is about (repeatable)"
    )
    p.add_argument("--seeds", help="seeds per configuration the verdict needs (default 3), or a list '0,1,2'")
    p.add_argument("--level", help="confidence level of the verdict (default 0.95)")
    p.add_argument("--expected")
    p.add_argument("--reason", help="why the hypothesis changed (required once it has runs)")
    p.add_argument("--force", action="store_true", help="change a hypothesis another user registered")
    p.set_defaults(handler=cmd_hypothesis)

    p = sub.add_parser("status", help="the experiment's hypothesis, runs and journal at a glance")
    add_experiment_argument(p)
    p.add_argument("--json", action="store_true", help="one JSON object: hypothesis, history, verdict, counts")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("runs", help="table of runs (ignored ones marked, dead 'running' ones shown as stale)")
    add_experiment_argument(p)
    p.add_argument("--json", action="store_true", help="one JSON object: every run, and the verdict")
    p.set_defaults(handler=cmd_runs)

    p = sub.add_parser("ignore", help="exclude a run from every statistic, with a reason")
    p.add_argument("run_id")
    p.add_argument("--reason", required=True)
    p.add_argument(
        "--replace", action="store_true", help="give an ignored run a new reason (the old one stays in the history)"
    )
    p.add_argument("--experiment")
    p.set_defaults(handler=cmd_ignore)

    p = sub.add_parser("unignore", help="count an ignored run again")
    p.add_argument("run_id")
    p.add_argument("--experiment")
    p.set_defaults(handler=cmd_unignore)

    p = sub.add_parser("journal", help="add a journal entry (TEXT) or show the latest entries")
    p.add_argument("text", nargs="*")
    p.add_argument("--tag", action="append", help=f"{', '.join(TAGS)} (repeatable; LESSON also writes lessons.md)")
    p.add_argument("--experiment")
    p.add_argument("-n", "--limit", type=int, default=10)
    p.set_defaults(handler=cmd_journal)
