"""``python -m jupyter_mlexp.loop SPEC``: one arm of a parallel loop attempt, run in a process of its own.

The loop's batch (:mod:`.batch`) starts one such process per arm, in the arm's worktree, so
the loop starts its own arms, not a front door. ``SPEC`` is one JSON object: ``experiment``,
``seeds``, ``params``, ``budget``, ``scheduler`` and ``command`` (a notebook's path, or a
command's argv). The runs land in the record (``MLEXP_ROOT``); nothing is printed. Exit codes:
0 every run completed, 1 one did not, 2 the runs could not start (one line on stderr), 130 Ctrl-C.
"""

from __future__ import annotations

import json
import sys

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.loop import attempt_run as loop_run
from jupyter_mlexp.runner.run_api import SweepInterrupted, run_sweep
from jupyter_mlexp.runner.script import QUIET, ScriptInterrupted, run_script


def main(argv: list[str] | None = None) -> int:

    spec = json.loads((sys.argv[1:] if argv is None else argv)[0])
    command, seeds = list(spec["command"]), [int(s) for s in spec["seeds"]]
    try:
        if loop_run.is_notebook(command):
            try:
                result = run_sweep(
                    command[0],
                    seeds=seeds,
                    params=spec.get("params") or None,
                    budget=spec.get("budget"),
                    scheduler=spec.get("scheduler"),
                    experiment=spec["experiment"],
                    progress=False,
                    command=spec.get("label", ""),
                )
            except SweepInterrupted:
                return 130
            return 0 if result.ok else 1

        try:
            runs = run_script(
                command,
                Experiment(spec["experiment"]),
                seeds=seeds,
                params=spec.get("params") or {},
                budget=spec.get("budget"),
                echo=QUIET,
            )
        except ScriptInterrupted:
            return 130
        return 0 if all(r.ok for r in runs) else 1
    except MlexpError as err:
        print(f"mlexp: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
