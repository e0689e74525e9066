"""``%mlexp report [--html] [--baseline K=V,...] [--force]`` and ``%mlexp conclude --learning TEXT [--next TEXT]``."""

from __future__ import annotations

from IPython.core.magic_arguments import MagicArgumentParser

from jupyter_mlexp.frontdoors.magics.experiment_magics import parser, subcommand


def _report_parser() -> MagicArgumentParser:
    p = parser("%mlexp report")
    p.add_argument("experiment", nargs="?")
    p.add_argument("--html", action="store_true")
    p.add_argument("--baseline")
    p.add_argument("--force", action="store_true")
    return p


def _conclude_parser() -> MagicArgumentParser:
    p = parser("%mlexp conclude")
    p.add_argument("experiment", nargs="?")
    p.add_argument("--learning", nargs="+", required=True)
    p.add_argument("--next", nargs="+")
    p.add_argument("--baseline")
    return p


@subcommand("report")
def _report(m, argv):
    from jupyter_mlexp.report.build import write_report

    args = _report_parser().parse_args(argv)
    path, note = write_report(m.experiment(args.experiment), html=args.html, baseline=args.baseline, force=args.force)
    print(f"report written to {path}" + (f" and {path.with_suffix('.html')}" if args.html else ""))
    if note:
        print(f"note: {note}")


@subcommand("conclude")
def _conclude(m, argv):
    from jupyter_mlexp.report.conclude import conclude

    args = _conclude_parser().parse_args(argv)
    text = conclude(
        m.experiment(args.experiment),
        " ".join(args.learning),
        " ".join(args.next) if args.next else None,
        baseline=args.baseline,
    )
    print("COMPLETED entry added:\n" + text)
