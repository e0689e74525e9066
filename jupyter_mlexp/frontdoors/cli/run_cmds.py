"""``mlexp run``: parse the command line, call :func:`~.api.run_sweep`, map the outcome to an exit code.

Exit codes: 0 every run completed; 1 a run failed or timed out (listed on
stderr); 2 a usage error (one line, from :mod:`jupyter_mlexp.frontdoors.cli`); 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.execution.lifecycle import never_logged
from jupyter_mlexp.core.stats.fresh import fresh_seeds, parse_fresh, rerun_note
from jupyter_mlexp.frontdoors.cli.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNS_FAILED
from jupyter_mlexp.frontdoors.cli.experiment_cmds import default_experiment


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
        return f"mlexp: {level}{record.getMessage()}"


class _StderrHandler(logging.StreamHandler):
    """The CLI's own handler, so a second call does not add another."""


def _warnings_to_stderr() -> None:
    log = logging.getLogger("jupyter_mlexp.runner")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler(sys.stderr)
        handler.setFormatter(_Formatter())
        handler.setLevel(logging.INFO)
        log.addHandler(handler)
        if log.level == logging.NOTSET or log.level > logging.INFO:
            log.setLevel(logging.INFO)


def cmd_run(args) -> int:
    if getattr(args, "command_argv", None):
        return cmd_run_script(args)
    if not args.notebook:
        raise MlexpError("give a NOTEBOOK, or a command after '--' (mlexp run --experiment NAME -- python train.py)")
    if args.jobs is not None and args.jobs < 1:
        raise MlexpError(f"--jobs must be at least 1, got {args.jobs}")
    if args.jobs and (args.scheduler or args.cluster):
        raise MlexpError("--jobs is for this machine; on a cluster its workers set the parallelism")
    if args.scheduler and args.cluster:
        raise MlexpError("give --scheduler ADDRESS (a running cluster) or --cluster FILE.yaml (one to start), not both")
    _warnings_to_stderr()
    if args.cluster:
        from jupyter_mlexp.runner.cluster import open_cluster

        with open_cluster(args.cluster) as address:
            args.scheduler = address
            return _sweep(args)
    return _sweep(args)


def _sweep(args) -> int:
    """The sweep itself, its lines and its exit code (on this machine or the cluster at ``args.scheduler``)."""
    from jupyter_mlexp.runner.run_api import SweepInterrupted, run_sweep

    try:
        result = run_sweep(
            args.notebook,
            mode="full" if args.full else "quick",
            params=args.param or None,
            params_file=args.params_file,
            grid=args.grid or None,
            seeds=args.seeds,
            budget=args.budget,
            jobs=args.jobs or 1,
            scheduler=args.scheduler,
            experiment=args.experiment,
            stage=args.stage,
            fresh_kernel=args.fresh_kernel,
            data=args.data or (),
            command="mlexp " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else "",
            progress=False if args.json else None,
        )
    except SweepInterrupted as stop:
        ids = stop.result.interrupted
        print(f"mlexp: interrupted; runs marked interrupted: {', '.join(ids) if ids else 'none'}", file=sys.stderr)
        return EXIT_INTERRUPTED

    unlogged = never_logged(result.runs)
    if args.json:
        summary = {"experiment": result.experiment, "mode": result.mode, "sweep_id": result.sweep_id}
        warnings = list(result.warnings) + ([unlogged] if unlogged else [])
        _print_json(summary, result.runs, warnings, wall_s=round(result.wall_s, 3))
        return EXIT_RUNS_FAILED if result.failed else EXIT_OK
    ok = [r for r in result.runs if r.ok]
    print(f"{result.experiment}: {len(ok)}/{len(result.runs)} {result.mode} run(s) completed in {result.wall_s:.1f} s")
    for r in result.runs:
        value = "" if r.primary_value is None else f" · {r.primary_metric} = {r.primary_value:.6g}"
        print(
            f"  {r.run_id}  {r.status:<10} {r.duration_s:7.2f} s  {' '.join(f'{k}={v!r}' for k, v in r.params.items() if k != 'seed')}"
            f" seed={r.seed}{value}"
        )
    for r in result.runs:
        for note in r.notes:
            print(f"mlexp: warning: run {r.run_id}: {note}", file=sys.stderr)
    if unlogged:
        print(f"mlexp: warning: {unlogged}", file=sys.stderr)
    if result.failed:
        print(f"mlexp: {len(result.failed)} run(s) did not complete:", file=sys.stderr)
        for r in result.failed:
            where = (r.error or {}).get("cell_index")
            cell = "" if where is None else f" (cell {where})"
            print(f"  {r.run_id} {r.status}{cell}: {(r.error or {}).get('message', '')}  -> {r.path}", file=sys.stderr)
        return EXIT_RUNS_FAILED
    return EXIT_OK


def cmd_run_script(args) -> int:
    from jupyter_mlexp.runner.script import QUIET, ScriptInterrupted, run_script
    from jupyter_mlexp.runner.sweep import expand, parse_grid, parse_params, parse_seeds

    if args.notebook:
        raise MlexpError(f"give either a notebook or a command after '--', not both ({args.notebook!r})")
    for flag, value in (
        ("--jobs", args.jobs),
        ("--scheduler", args.scheduler),
        ("--cluster", args.cluster),
        ("--fresh-kernel", args.fresh_kernel),
        ("-f", args.params_file),
    ):
        if value:
            raise MlexpError(f"{flag} is for notebooks; a command runs once per --grid point and seed (--seeds)")
    exp = default_experiment(args.experiment)
    params = parse_params(args.param) if args.param else {}
    grid = parse_grid(args.grid) if args.grid else {}
    # the configurations this command runs, as run_script records them (a script's arguments included)
    argv = args.command_argv
    words = {"args": shlex.join(argv[1:])} if len(argv) > 1 else {}
    configs = [{**spec.params, **words} for spec in expand("full", params, grid, [0], {})]
    fresh = parse_fresh(args.seeds)
    if fresh is not None:
        seeds = fresh_seeds(exp, configs, fresh)
    else:
        seeds = (parse_seeds(args.seeds) if args.seeds else None) or [0]
        note = rerun_note(exp, configs, seeds) if args.seeds else None
        if note:
            print(f"mlexp: {note}", file=sys.stderr)
    try:
        runs = run_script(
            args.command_argv,
            exp,
            mode="full" if args.full else "quick",
            seeds=seeds,
            params=params,
            grid=grid,
            substitute=bool(params or grid),  # {name} in the command's words; {{ a literal brace
            budget=args.budget,
            stage=args.stage,
            data=args.data or (),
            # with --json stdout is the JSON alone: the command's output stays in each run's stdout.txt
            echo=QUIET if args.json else None,
        )
    except ScriptInterrupted as stop:
        ids = [r.run_id for r in stop.runs if r.status == "interrupted" and r.run_id]
        print(f"mlexp: interrupted; runs marked interrupted: {', '.join(ids) or 'none'}", file=sys.stderr)
        return EXIT_INTERRUPTED
    bad = [r for r in runs if not r.ok]

    unlogged = never_logged(runs)
    if args.json:
        _print_json(
            {"experiment": exp.name, "mode": "full" if args.full else "quick"}, runs, [unlogged] if unlogged else []
        )
        return EXIT_RUNS_FAILED if bad else EXIT_OK
    for r in runs:
        value = "" if r.primary_value is None else f" · {r.primary_metric} = {r.primary_value:.6g}"
        config = " ".join(f"{k}={v!r}" for k, v in r.params.items() if k not in ("seed", "args"))
        print(
            f"  {r.run_id}  {r.status:<10} {r.duration_s:7.2f} s  {config + ' ' if config else ''}seed={r.seed}{value}"
        )
    if unlogged:
        print(f"mlexp: warning: {unlogged}", file=sys.stderr)
    if bad:
        print(f"mlexp: {len(bad)} run(s) did not complete:", file=sys.stderr)
        for r in bad:
            print(f"  {r.run_id} {r.status}: {(r.error or {}).get('message', '')}  -> {r.path}", file=sys.stderr)
        return EXIT_RUNS_FAILED
    return EXIT_OK


def _print_json(summary: dict, runs: list, warnings: list[str], **extra) -> None:
    """One JSON object on stdout: what ran, each run's result, what did not complete (the exit code says it too)."""
    failed = [r.run_id for r in runs if not r.ok]
    print(json.dumps({**summary, **extra, "runs": [r.to_dict() for r in runs], "failed": failed, "warnings": warnings}))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a notebook as quick or full runs (papermill parameters, sweeps, local or Dask)",
        description="Execute NOTEBOOK once per point of the sweep (grid x seeds); each run lands in "
        "experiments/<name>/quick|full/<run_id>/ with output.ipynb beside run.json.",
    )
    p.add_argument("notebook", nargs="?", help="the notebook; or give a command after '--' to run a script")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="quick runs (default): %%%%run_quick overrides apply")
    mode.add_argument("--full", action="store_true", help="full runs: overrides ignored, recorded under full/")
    p.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a parameter for the notebook's parameters cell (repeatable; papermill's typing)",
    )
    p.add_argument("-f", "--params-file", metavar="PARAMS.yaml", help="parameters from a YAML mapping")
    p.add_argument("--grid", action="append", metavar="NAME=V1,V2", help="a sweep axis (repeatable: cross product)")
    p.add_argument(
        "--seeds",
        metavar="0,1,2",
        help="one run per seed (times every grid point); fresh:N picks N seeds this configuration never ran",
    )
    p.add_argument("--budget", type=float, metavar="SECONDS", help="whole-notebook time limit per run")
    p.add_argument("--jobs", type=int, metavar="N", help="runs at a time on this machine (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)")
    p.add_argument(
        "--cluster",
        metavar="FILE.yaml",
        help="start a Dask cluster for this sweep: 'class: MODULE.CLASS' (SLURMCluster, GatewayCluster, "
        "LocalCluster...) and 'kwargs: {...}' (docs/scaling.md); closed at the end",
    )
    p.add_argument("--experiment", help="experiment name (default: the notebook's %%%%hypothesis NAME cell)")
    p.add_argument("--stage", help="stage recorded with the runs (default: the hypothesis' stage)")
    p.add_argument("--fresh-kernel", action="store_true", help="a new kernel for every run (full isolation, slower)")
    p.add_argument("--data", action="append", metavar="PATH", help="data file whose sha256 goes in each run.json")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout at the end, no progress lines")
    p.set_defaults(handler=cmd_run)
