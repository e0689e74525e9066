"""``mlexp verify``, ``mlexp class collect|report``, ``mlexp course init``: thin CLI front doors."""

from __future__ import annotations

import argparse
import json

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.course import init_course
from jupyter_mlexp.core.record.verification import verify_experiment
from jupyter_mlexp.frontdoors.cli.exits import EXIT_OK

EXIT_FINDINGS = 1  # mlexp verify: the record does not match itself (the findings are printed)


def cmd_verify(args) -> int:

    if args.experiment:
        exps = [Experiment(args.experiment).require()]
    else:
        exps = Experiment.all()
        if not exps:
            raise MlexpError("no experiment in this workspace to verify")
    results = [verify_experiment(e) for e in exps]
    if args.json:
        print(json.dumps([r.to_dict() for r in results]))
    else:
        for r in results:
            print("\n".join(r.lines()))
    return EXIT_OK if all(r.ok for r in results) else EXIT_FINDINGS


def cmd_collect(args) -> int:
    from jupyter_mlexp.classroom.collect import collect

    result = collect(args.sources, args.out, layout=args.layout, max_file_mb=args.max_file_mb)
    print("\n".join(result.lines()))
    return EXIT_OK


def cmd_class_report(args) -> int:
    from jupyter_mlexp.classroom.class_report import write_class_report

    written = write_class_report(args.dir, html=not args.no_html, course_path=args.course)
    print("class report written: " + ", ".join(str(p) for p in written))
    return EXIT_OK


def cmd_course_init(args) -> int:

    path = init_course(
        args.path,
        metric=args.metric,
        success=args.success,
        baseline=args.baseline,
        seeds=args.seeds,
        budget=args.budget,
        data=args.data or [],
        name=args.name,
        force=args.force,
    )
    print(f"course file written to {path}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check the research log's hash chain, its anchors and the run folders")
    p.add_argument("experiment", nargs="?", help="default: every experiment of the workspace")
    p.add_argument("--json", action="store_true", help="one JSON list: each experiment's findings")
    p.set_defaults(handler=cmd_verify)

    cls = sub.add_parser("class", help="an instructor's commands: collect students' experiments, report on them")
    csub = cls.add_subparsers(dest="class_command", metavar="COMMAND")
    p = csub.add_parser("collect", help="copy students' experiments/ folders into a class workspace (read-only)")
    p.add_argument("sources", nargs="+", help="home folders (globs allowed), an nbgrader exchange, or a shared folder")
    p.add_argument("--out", required=True, help="the class workspace: the only place collect writes")
    p.add_argument(
        "--layout", choices=("auto", "homes", "nbgrader", "submitted", "shared"), default="auto", help="default: auto"
    )
    p.add_argument("--max-file-mb", type=float, default=50.0, help="files larger than this are skipped (default 50)")
    p.set_defaults(handler=cmd_collect)
    p = csub.add_parser("report", help="write class_report.ipynb (+ .html, .csv) in a class workspace")
    p.add_argument("dir")
    p.add_argument("--no-html", action="store_true")
    p.add_argument("--course", help="the course file to check every student against (default: DIR/course.yaml)")
    p.set_defaults(handler=cmd_class_report)

    course = sub.add_parser("course", help="a course's locked fields (course.yaml)")
    osub = course.add_subparsers(dest="course_command", metavar="COMMAND")
    p = osub.add_parser("init", help="write course.yaml: the locked metric, baseline, seeds, budget, data hash")
    p.add_argument("path", nargs="?", default=".", help="the folder to write course.yaml in (default .)")
    p.add_argument("--name", help="the course's name")
    p.add_argument("--metric", required=True, help="the metric every hypothesis must judge (its primary metric)")
    p.add_argument("--success", help="the locked success criterion, e.g. 'val_acc >= 0.9'")
    p.add_argument("--baseline", help="the baseline configuration 'NAME=VALUE,...'")
    p.add_argument("--seeds", help="seeds per configuration (a number) or the seed list '0,1,2'")
    p.add_argument("--budget", type=float, help="quick-run budget in seconds")
    p.add_argument("--data", action="append", help="a data file whose SHA-256 is locked (repeatable)")
    p.add_argument("--force", action="store_true", help="overwrite an existing course.yaml")
    p.set_defaults(handler=cmd_course_init)
