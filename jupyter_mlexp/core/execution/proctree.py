"""What a run started: the processes below this one and the threads in it, to put down at a budget.

A ``%%run_quick`` cell runs in the kernel's own process, so its budget (``SIGALRM``) stops the
cell's Python code but not what the code started: a ``subprocess``, a ``multiprocessing`` pool,
threads. :func:`snapshot` before the cell and :func:`put_down_new` at the budget end every
process that appeared below the kernel since (wherever its process group or session), and name
the threads that are still alive (a thread cannot be killed).

The rule, so that nothing slips through:
- while the cell runs the kernel is the *subreaper* of its descendants (Linux ``prctl``): a
  grandchild whose parent exited (a double fork, ``setsid`` and ``&``) is handed to the kernel
  instead of to init, so it stays below the kernel where the walk finds it (:func:`release`
  undoes it after the cell);
- a pool the cell started is told to stop replacing its workers before they are ended;
- the new processes are frozen (``SIGSTOP``: a stopped process cannot start another), then
  asked to end (``SIGTERM`` and ``SIGCONT``), then killed, walking the tree again after each
  step until no new process is left or :data:`DEADLINE_S` has passed (those left are named).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_mlexp.core.execution import procs

GRACE_S = 1.0  # between SIGTERM and SIGKILL
DEADLINE_S = 10.0  # to end everything the cell started, however often it starts more
_PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 36, 37


@dataclass
class Snapshot:
    processes: set[tuple[int, int | None]] = field(default_factory=set)  # (pid, start time) of descendants
    threads: set[int] = field(default_factory=set)
    was_subreaper: bool | None = None  # None: this process could not be made one (not Linux)


def _prctl(option: int, arg: int | ctypes.c_int | Any = 0) -> int:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(option, arg, 0, 0, 0))
    except (OSError, AttributeError):
        return -1


def _become_subreaper() -> bool | None:
    """Make this process the subreaper of its descendants; whether it was one before (None: cannot)."""
    flag = ctypes.c_int(0)
    if _prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag)) != 0:
        return None
    if _prctl(_PR_SET_CHILD_SUBREAPER, 1) != 0:
        return None
    return bool(flag.value)


def release(before: Snapshot) -> None:
    """After the cell: this process is a subreaper again only if it was one before :func:`snapshot`
    (one that stays so keeps every later orphan of its tree, a kernel's for its whole life)."""
    if before.was_subreaper is False:
        _prctl(_PR_SET_CHILD_SUBREAPER, 0)


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
    """The descendants and threads alive now (what a cell did not start); from now on until
    :func:`release`, orphans of this process's tree are handed to it (see the module's rule)."""
    was = _become_subreaper()
    return Snapshot(
        {(pid, procs.start_time(pid)) for pid in _descendant_pids()},
        {t.ident for t in threading.enumerate() if t.ident is not None},
        was,
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


def put_down_new(before: Snapshot, grace: float = GRACE_S, deadline: float = DEADLINE_S) -> dict[str, list]:
    """End the processes started since ``before`` and those they start meanwhile (frozen, SIGTERM,
    SIGKILL after ``grace`` s, reaped; see the module's rule) and name the threads started since that
    are still alive: ``{"killed": [...], "threads_alive": [...]}``, and ``"left_running"`` for any
    process still there at ``deadline`` s."""
    import psutil

    _stop_pools(before)
    ended: dict[int, dict[str, Any]] = {}
    end = time.monotonic() + deadline
    asked = False
    new = _new_processes(before)
    while new and time.monotonic() < end:
        frozen = _freeze(before, new, end)
        for p in frozen:
            if p.pid not in ended:
                ended[p.pid] = _describe(p)
        if not asked:  # first round: let them end cleanly
            for p in frozen:
                _signal(p, signal.SIGTERM)
                _signal(p, signal.SIGCONT)
            _, frozen = psutil.wait_procs(frozen, timeout=grace)
            asked = True
        for p in frozen:
            if _signal(p, signal.SIGKILL):
                ended[p.pid]["signal"] = "SIGKILL"
        psutil.wait_procs(frozen, timeout=grace)
        new = _new_processes(before)
    threads = [
        t.name
        for t in threading.enumerate()
        if t.ident not in before.threads and t.is_alive() and not t.name.startswith("mlexp-")
    ]
    out: dict[str, list] = {"killed": list(ended.values()), "threads_alive": threads}
    if new:
        out["left_running"] = [_describe(p) for p in new]
    return out


def _new_processes(before: Snapshot) -> list[Any]:
    """The processes below this one that ``before`` did not have, not yet ended; a new one that has
    ended (a zombie, ours since it became our child) is reaped."""
    import psutil

    out = []
    for pid in _descendant_pids():
        if (pid, procs.start_time(pid)) in before.processes:
            continue
        try:
            p = psutil.Process(pid)
            if p.status() == psutil.STATUS_ZOMBIE:
                psutil.wait_procs([p], timeout=0)
                continue
        except psutil.Error:
            continue
        out.append(p)
    return out


def _freeze(before: Snapshot, found: list[Any], end: float) -> list[Any]:
    """SIGSTOP ``found`` and whatever they started before they stopped, until a walk finds no new
    process running; the stopped ones."""
    frozen: dict[int, Any] = {}
    while found:
        for p in found:
            if _signal(p, signal.SIGSTOP):
                frozen[p.pid] = p
        if time.monotonic() >= end:
            break
        found = [p for p in _new_processes(before) if p.pid not in frozen]
    return list(frozen.values())


def _signal(p: Any, sig: int) -> bool:
    import psutil

    try:
        p.send_signal(sig)
        return True
    except psutil.Error:
        return False


def _describe(p: Any) -> dict[str, Any]:
    import psutil

    out: dict[str, Any] = {"pid": p.pid, "name": "?", "command": "", "signal": "SIGTERM"}
    try:
        out["name"] = p.name()
        out["command"] = " ".join(p.cmdline())[:200]
    except psutil.Error:
        pass
    return out


def _stop_pools(before: Snapshot) -> None:
    """A ``multiprocessing`` pool the cell started replaces each worker that dies, from a thread of this
    process, for as long as the pool runs: tell its handler thread the pool is ending, as
    ``Pool.terminate`` does, so that the workers ended next stay ended."""
    for t in threading.enumerate():
        target = getattr(t, "_target", None)
        if t.ident in before.threads or getattr(target, "__qualname__", "") != "Pool._handle_workers":
            continue
        t._state = "TERMINATE"  # type: ignore[attr-defined]  # multiprocessing.pool.TERMINATE
