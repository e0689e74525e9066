"""``mlexp loop``: the keep/discard loop from the command line (a thin layer over :mod:`~.runner.loop`).

``start TAG``, ``try -m DESC -- CMD`` (or ``try -m DESC NOTEBOOK``), ``batch REF ... -- CMD``,
``status``, ``show N``, ``revive N``. Each prints a few lines (``--json``: one JSON object, for agents); the
training log stays in the runs' files. ``try`` exits 0 on keep or discard, 1 on crash.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.stats.verdict_arms import fmt_spread
from jupyter_mlexp.frontdoors.cli.exits import EXIT_OK, EXIT_RUNS_FAILED
from jupyter_mlexp.frontdoors.cli.experiment_cmds import default_experiment
from jupyter_mlexp.loop.loop_state import CRASH, Attempt

TAIL_SHOWN = 3


def _seeds(text: str | None) -> list[int] | None:
    if not text:
        return None
    from jupyter_mlexp.runner.sweep import parse_seeds

    return list(parse_seeds(text) or []) or None


def cmd_start(args) -> int:
    from jupyter_mlexp.loop import driver as loop

    state = loop.start(
        args.tag,
        default_experiment(args.experiment),
        seeds=_seeds(args.seeds),
        budget=args.budget,
        level=args.level,
        min_delta=args.min_delta,
        confirm=args.confirm,
        simplicity_lines=args.simplicity_lines,
        simplicity_gain=args.simplicity_gain,
        margin=args.margin,
        track_results=args.track_results,
    )
    s = state.settings
    if args.json:
        print(json.dumps(state.to_dict()["settings"]))
        return EXIT_OK
    direction = "higher" if s.higher_is_better else "lower"
    print(f"loop {s.tag}: branch {s.branch} at {s.start_commit[:12]} · experiment {s.experiment}")
    print(f"  metric {s.metric} ({direction} is better) · seeds {s.seeds} · level {s.level:g} · budget {s.budget}")
    print(f"  keep rule: {_rule_line(s.level, s.confirm_n)}")
    print("  next: the unmodified baseline, e.g. mlexp loop try -m baseline --seeds 0,1,2 -- python train.py")
    return EXIT_OK


def _rule_line(level: float, confirm: int) -> str:
    from jupyter_mlexp.loop.keep_rule import alphas, false_keep_bound

    screen, conf = alphas(level, confirm > 0)
    per = false_keep_bound(level, confirm > 0)
    if conf is None:
        return f"one test at {screen:.3g} (no confirmation): a null change is kept with probability {per:.3g}"
    return (
        f"screen at {screen:.3g}, then {confirm} fresh seeds beside the best re-run at {conf:.3g}: "
        f"a null change is kept with probability ≤ {per:.3g} ({30 * per:.2g} per 30 attempts)"
    )


def _describe(a: Attempt, metric: str) -> list[str]:
    head = f"attempt {a.n} {a.status} · {metric} {a.spread} (seeds {','.join(map(str, a.seeds)) or '-'})"
    head += f" · +{a.lines_added}/-{a.lines_removed} lines · {a.duration_s:.1f} s · commit {a.commit[:12]}"
    lines = [head, f"  {a.reason}"]
    if a.kept_aside:
        lines.append(f"  your uncommitted edits to its files were kept aside, not lost: git stash apply {a.kept_aside}")
    if a.status == CRASH and a.log_tail:
        lines += ["  log tail:"] + [f"    {line}" for line in a.log_tail.splitlines()[-TAIL_SHOWN:]]
    return lines


def _report(a: Attempt, args, metric: str) -> int:
    if args.json:
        print(json.dumps({**asdict(a), "mean": a.mean, "sd": a.sd}))
    else:
        print("\n".join(_describe(a, metric)))
    return EXIT_RUNS_FAILED if a.status == CRASH else EXIT_OK


def cmd_try(args) -> int:
    from jupyter_mlexp.loop import driver as loop
    from jupyter_mlexp.loop.session import open_loop

    command = list(args.command_argv or [])
    if args.notebook and command:
        raise MlexpError(f"give either a NOTEBOOK or a command after '--', not both ({args.notebook!r})")
    if args.notebook:
        if not args.notebook.endswith(".ipynb"):
            raise MlexpError(f"{args.notebook!r} is not a notebook: put a command after '--'")
        command = [args.notebook]
    opened = open_loop()
    if args.worktree:
        from jupyter_mlexp.loop.batch import try_worktree

        run: Callable[..., Attempt] = try_worktree
    else:
        run = loop.try_attempt
    a = run(opened, args.message, command, seeds=_seeds(args.seeds), budget=args.budget, scheduler=args.scheduler)
    return _report(a, args, opened.load().settings.metric)


def cmd_revive(args) -> int:
    from jupyter_mlexp.loop import driver as loop
    from jupyter_mlexp.loop.session import open_loop

    opened = open_loop()
    a = loop.revive(
        opened,
        args.attempt,
        args.command_argv or None,
        seeds=_seeds(args.seeds),
        budget=args.budget,
        scheduler=args.scheduler,
    )
    return _report(a, args, opened.load().settings.metric)


def cmd_batch(args) -> int:
    from jupyter_mlexp.loop.batch import try_batch
    from jupyter_mlexp.loop.session import open_loop

    refs, command = list(args.refs), list(args.command_argv or [])
    if not command and refs and refs[-1].endswith(".ipynb"):
        refs, command = refs[:-1], [refs[-1]]  # mlexp loop batch REF ... NOTEBOOK
    opened = open_loop()
    done = try_batch(
        opened, refs, command, jobs=args.jobs, seeds=_seeds(args.seeds), budget=args.budget, scheduler=args.scheduler
    )
    metric = opened.load().settings.metric
    if args.json:
        print(json.dumps([{**asdict(a), "mean": a.mean, "sd": a.sd} for a in done]))
    else:
        for a in done:
            print("\n".join(_describe(a, metric)))
    return EXIT_RUNS_FAILED if any(a.status == CRASH for a in done) else EXIT_OK


def cmd_status(args) -> int:
    from jupyter_mlexp.loop import driver as loop
    from jupyter_mlexp.loop.session import open_loop

    out = loop.status(open_loop(), figure=not args.no_figure)
    if args.json:
        print(json.dumps(out))
        return EXIT_OK
    c, best, floor = out["counts"], out["best"], out["noise_floor"]
    print(f"loop {out['tag']} ({out['branch']}) · {out['metric']}, {out['direction']} · {out['attempts']} attempts")
    print(f"  keep {c.get('keep', 0)} · discard {c.get('discard', 0)} · crash {c.get('crash', 0)}")
    if best is None:
        print("  best: none yet; next: the unmodified baseline")
    else:
        spread = fmt_spread(best["mean"], best["sd"], len(best["seeds"]))
        print(f"  best: attempt {best['attempt']} {spread} at {best['commit'][:12]} ({best['description']})")
    least = out["least_improvement"]
    sd = "" if out["noise_sd"] is None else f" (seed sd {out['noise_sd']:.4g}, df {out['noise_df']})"
    print(
        f"  noise floor: {'unknown until the baseline ran' if floor is None else f'{floor:.4g}'}{sd}"
        + ("" if least is None else f" · least improvement the screen needs now: {least:.4g}")
    )
    r = out["rule"]
    print(f"  keep rule: {_rule_line(r['level'], r['confirm_seeds'])}")
    if out["busy"]:
        print("  an attempt is running now")
    if out["recovered"]:
        which = ", ".join(map(str, out["recovered"]))
        print(f"  recovered attempt {which}: recorded as crash, branch back on the best kept commit")
    for n, ref in out["kept_aside"].items():
        print(f"  attempt {n}: your uncommitted edits to its files were kept aside, not lost: git stash apply {ref}")
    for w in out["warnings"]:
        print(f"  warning: {w}")
    if out["figure"]:
        print(f"  figure: {out['figure']}")
    return EXIT_OK


def cmd_show(args) -> int:
    from jupyter_mlexp.loop import driver as loop
    from jupyter_mlexp.loop.session import open_loop

    text, recovered = loop.show(open_loop(), args.attempt)
    for a in recovered:
        print(
            f"mlexp: recovered attempt {a.n}: recorded as crash, branch back on the best kept commit", file=sys.stderr
        )
    print(text)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("loop", help="the keep/discard loop: one committed change per attempt, judged over seeds")
    lsub = p.add_subparsers(dest="loop_command", metavar="LOOP_COMMAND")

    s = lsub.add_parser("start", help="create branch autoresearch/TAG and fix the loop's rules")
    s.add_argument("tag")
    s.add_argument("--experiment", help="experiment whose hypothesis names the metric (default: the only one)")
    s.add_argument("--seeds", metavar="0,1,2", help="seeds per attempt (default: the hypothesis' seeds)")
    s.add_argument("--budget", type=float, metavar="SECONDS", help="time budget per run (past it: crash)")
    s.add_argument("--level", type=float, help="confidence level of the keep rule (default: the hypothesis')")
    s.add_argument("--min-delta", type=float, help="least improvement that counts, beside the test (default: 0)")
    s.add_argument(
        "--confirm",
        type=int,
        metavar="N",
        help="fresh seeds a screened win and the best are re-run on (default: twice the seeds, at least 4; 0: off)",
    )
    s.add_argument("--margin", type=float, help="harm a simpler change may have and count as equal (default: sd/2)")
    s.add_argument("--simplicity-lines", type=int, default=20, metavar="N", help="lines a small gain may add (0: off)")
    s.add_argument("--simplicity-gain", type=float, help="gain that justifies more lines (default: noise floor)")
    s.add_argument(
        "--track-results", action="store_true", help="let git see results.tsv (default: in .git/info/exclude)"
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=cmd_start)

    t = lsub.add_parser("try", help="commit the change, run it per seed, keep / discard / crash")
    t.add_argument("notebook", nargs="?", help="a notebook to run; or give a command after '--'")
    t.add_argument("-m", "--message", required=True, help="what this attempt changes")
    t.add_argument("--seeds", metavar="0,1,2", help="seeds for this attempt (default: the loop's)")
    t.add_argument("--budget", type=float, metavar="SECONDS", help="time budget per run (default: the loop's)")
    t.add_argument("--scheduler", metavar="ADDRESS", help="the seeds' runs at once on a Dask cluster (notebooks)")
    t.add_argument(
        "--worktree", action="store_true", help="run it in a git worktree of its own; the tree is free meanwhile"
    )
    t.add_argument("--json", action="store_true")
    t.set_defaults(handler=cmd_try)

    b = lsub.add_parser(
        "batch", help="try prepared commits in parallel worktrees, the best kept commit re-run alongside"
    )
    b.add_argument(
        "refs",
        nargs="+",
        metavar="REF",
        help="commits (branches, shas) on top of the best kept one; then NOTEBOOK or -- CMD",
    )
    b.add_argument("--jobs", type=int, metavar="N", help="arms at a time (default 2; all with --scheduler)")
    b.add_argument("--scheduler", metavar="ADDRESS", help="the arms' runs on an existing Dask cluster (notebooks)")
    b.add_argument("--seeds", metavar="0,1,2", help="seeds for every arm (default: the loop's)")
    b.add_argument("--budget", type=float, metavar="SECONDS", help="time budget per run (default: the loop's)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(handler=cmd_batch)

    st = lsub.add_parser("status", help="best so far, counts, noise floor, figure")
    st.add_argument("--json", action="store_true")
    st.add_argument("--no-figure", action="store_true", help="do not write the figure")
    st.set_defaults(handler=cmd_status)

    sh = lsub.add_parser("show", help="print attempt N's commit and diff")
    sh.add_argument("attempt", type=int)
    sh.set_defaults(handler=cmd_show)

    r = lsub.add_parser("revive", help="put attempt N's change back and try it again (command: N's, or after '--')")
    r.add_argument("attempt", type=int)
    r.add_argument("--seeds", metavar="0,1,2")
    r.add_argument("--budget", type=float, metavar="SECONDS")
    r.add_argument("--scheduler", metavar="ADDRESS", help="the seeds' runs at once on a Dask cluster (notebooks)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=cmd_revive)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])
