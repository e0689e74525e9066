"""What a run started: the processes below this one and the threads in it, to put down at a budget.

A ``%%run_quick`` cell runs in the kernel's own process, so its budget (``SIGALRM``) stops the
cell's Python code but not what the code started: a ``subprocess``, a ``multiprocessing`` pool,
threads. :func:`snapshot` before the cell and :func:`put_down_new` at the budget end every
process that appeared below the kernel since (wherever its process group or session), and name
the threads that are still alive (a thread cannot be killed).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlexp.core.execution import procs

GRACE_S = 1.0  # between SIGTERM and SIGKILL


@dataclass
class Snapshot:
    processes: set[tuple[int, int | None]] = field(default_factory=set)  # (pid, start time) of descendants
    threads: set[int] = field(default_factory=set)


def _children(pid: int | str) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except (OSError, ValueError):
        pass
    return out


def _descendant_pids() -> list[int]:
    """Every process below this one (Linux: read from /proc, only this tree, no scan of all)."""
    if not os.path.exists("/proc/self/task"):
        try:
            import psutil

            return [p.pid for p in psutil.Process().children(recursive=True)]
        except Exception:
            return []
    seen: list[int] = []
    todo = _children("self")
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo += _children(pid)
    return seen


def snapshot() -> Snapshot:
    """The descendants and threads alive now (what a cell did not start)."""
    return Snapshot(
        {(pid, procs.start_time(pid)) for pid in _descendant_pids()},
        {t.ident for t in threading.enumerate() if t.ident is not None},
    )


def end_processes(processes: list[Any], grace: float) -> list[dict[str, Any]]:
    """SIGTERM each of ``processes`` (psutil), SIGKILL those alive after ``grace`` s, reap them; one entry per
    process ended: ``pid``, ``name``, ``command`` (cut) and the ``signal`` that ended it."""
    import psutil

    out: dict[int, dict[str, Any]] = {}
    for p in processes:
        try:
            out[p.pid] = {"pid": p.pid, "name": p.name(), "command": " ".join(p.cmdline())[:200], "signal": "SIGTERM"}
            p.terminate()
        except psutil.Error:
            continue
    _, stubborn = psutil.wait_procs(processes, timeout=grace)
    for p in stubborn:
        try:
            p.kill()
        except psutil.Error:
            continue
        if p.pid in out:
            out[p.pid]["signal"] = "SIGKILL"
    psutil.wait_procs(stubborn, timeout=grace)
    return list(out.values())


def put_down_new(before: Snapshot) -> dict[str, list]:
    """End the processes started since ``before`` (SIGTERM, SIGKILL after :data:`GRACE_S`, reaped) and
    name the threads started since that are still alive: ``{"killed": [...], "threads_alive": [...]}``."""
    import psutil

    new = []
    for pid in _descendant_pids():
        if (pid, procs.start_time(pid)) in before.processes:
            continue
        try:
            new.append(psutil.Process(pid))
        except psutil.Error:
            continue
    killed = end_processes(new, GRACE_S)
    threads = [
        t.name
        for t in threading.enumerate()
        if t.ident not in before.threads and t.is_alive() and not t.name.startswith("mlexp-")
    ]
    return {"killed": killed, "threads_alive": threads}
