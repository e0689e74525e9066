"""``mlexp report``, ``mlexp conclude``, ``mlexp lesson``: thin CLI front doors."""

from __future__ import annotations

import argparse
import sys

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.lessons import add_lesson, lessons_path
from jupyter_mlexp.core.stats.headline import headline
from jupyter_mlexp.core.stats.verdict import judge_experiment
from jupyter_mlexp.frontdoors.cli.exits import EXIT_OK
from jupyter_mlexp.frontdoors.cli.experiment_cmds import add_experiment_argument, default_experiment, named


def cmd_report(args) -> int:
    from jupyter_mlexp.report.build import write_report

    exp = default_experiment(named(args))
    if args.table:  # the results table alone, on stdout: mlexp report --table latex > results.tex
        from jupyter_mlexp.report.export import results_table
        from jupyter_mlexp.report.load import load_experiment

        sys.stdout.write(results_table(load_experiment(exp), args.table))
        return EXIT_OK
    path, note = write_report(exp, html=args.html, baseline=args.baseline, force=args.force)
    print(f"{exp.name}: report written to {path}" + (f" and {path.with_suffix('.html')}" if args.html else ""))

    print(f"  verdict: {headline(judge_experiment(exp))}")
    if note:
        print(f"  note: {note}")
    return EXIT_OK


def cmd_conclude(args) -> int:
    from jupyter_mlexp.report.conclude import conclude

    exp = default_experiment(named(args))
    text = conclude(exp, args.learning, args.next, baseline=args.baseline)
    print(f"{exp.name}: COMPLETED entry added to {exp.journal_md}\n{text}")
    return EXIT_OK


def cmd_lesson(args) -> int:

    exp = Experiment(args.experiment).require() if args.experiment else None
    if args.run and exp is not None:
        exp.get_run(args.run)
    lesson = add_lesson(" ".join(args.text), experiment=exp, run_id=args.run)
    where = exp.base / "lessons.md" if exp is not None else lessons_path()
    print(f"lesson added to {where} ({lesson.timestamp})")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write experiments/NAME/report.ipynb from the logged runs (and --html)")
    add_experiment_argument(p)
    p.add_argument("--html", action="store_true", help="also render report.html through nbconvert")
    p.add_argument("--baseline", help="the baseline configuration as KEY=VALUE,... (default: stage `baselines`)")
    p.add_argument(
        "--force", action="store_true", help="rebuild over hand-edited generated cells (old file kept as .bak)"
    )
    p.add_argument(
        "--table",
        choices=("md", "csv", "latex"),
        help="print only the results table (mean ± sd (n) per configuration, the verdict's mark) in this format",
    )
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("conclude", help="close the experiment: a COMPLETED journal entry pairing the PLANNED one")
    add_experiment_argument(p)
    p.add_argument("--learning", required=True, help="what you learned, in one sentence (required)")
    p.add_argument("--next", help="the next step")
    p.add_argument("--baseline", help="the baseline configuration as KEY=VALUE,...")
    p.set_defaults(handler=cmd_conclude)

    p = sub.add_parser("lesson", help="record a lesson in experiments/lessons.md with date and source")
    p.add_argument("text", nargs="+")
    p.add_argument("--experiment")
    p.add_argument("--run", help="the run the lesson comes from")
    p.set_defaults(handler=cmd_lesson)
