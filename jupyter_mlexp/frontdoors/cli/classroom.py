"""``mlexp verify``: a thin CLI front door."""

from __future__ import annotations

import argparse
import json

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.frontdoors.cli.exits import EXIT_OK

EXIT_FINDINGS = 1  # mlexp verify: the record does not match itself (the findings are printed)


def cmd_verify(args) -> int:
    from jupyter_mlexp.core.errors import MlexpError
    from jupyter_mlexp.core.verification import verify_experiment

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


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check the research log's hash chain, its anchors and the run folders")
    p.add_argument("experiment", nargs="?", help="default: every experiment of the workspace")
    p.add_argument("--json", action="store_true", help="one JSON list: each experiment's findings")
    p.set_defaults(handler=cmd_verify)
