"""The process group of a run's command: started in its own session, reaped with its peak memory,
waited on without polling, put down by a guard when the run ends or the runner dies, and a Ctrl-C
that arrives while it starts held until it can be stopped. Used by :mod:`.script` (one run's
command) and :mod:`.loop_batch` (its worker processes, through :func:`tie_to_parent`)."""

from __future__ import annotations

import ctypes
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from typing import Any

from jupyter_mlexp.core.execution import lifecycle, procs, proctree

KILL_GRACE_S = 5.0


class Command(subprocess.Popen):
    """The run's command: reaped with ``os.wait4``, whose resource usage gives its peak memory.

    That figure is the largest of the command and the children it waited for (``uv run`` waits
    for its Python), but Linux also counts in it the memory of the process that started the
    command, at the moment it started it (``exec`` keeps the old address space's high-water
    mark). So this process's own mark is restarted just before the start and read just after
    (``floor_gb``); a figure above it is the command's, one at it says only "at most that",
    and then the command's own ``VmHWM``, sampled while it runs, is its peak.
    """

    usage: resource.struct_rusage | None = None
    floor_gb: float | None = None
    sampled_gb: float | None = None

    def reap(self, block: bool = False) -> int | None:
        """The exit code once the command has ended (reaping it), else None."""
        if self.returncode is None:
            try:
                pid, status, usage = os.wait4(self.pid, 0 if block else os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: the code is lost, not the run
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode, self.usage = os.waitstatus_to_exitcode(status), usage
        return self.returncode

    def sample_memory(self) -> None:
        """Read the command's own memory high-water mark (Linux) while it runs."""
        try:
            with open(f"/proc/{self.pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmHWM:"):
                        self.sampled_gb = round(int(line.split()[1]) / 1024**2, 4)
                        return
        except (OSError, ValueError, IndexError):
            pass

    def peak_memory_gb(self) -> float | None:
        measured = lifecycle.peak_memory_gb(self.usage) if self.usage is not None else None
        if measured is None or self.floor_gb is None or measured > self.floor_gb + 0.002:
            return measured
        return self.sampled_gb  # the command stayed under this process's size: its own samples tell


def exit_waiter(proc: subprocess.Popen):
    """``wait(seconds)``: sleep that long, or less when the process ends first (Linux: its pidfd)."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return time.sleep
    poller = select.poll()
    poller.register(fd, select.POLLIN)

    def wait(seconds: float) -> None:
        poller.poll(seconds * 1000)

    weakref.finalize(wait, os.close, fd)
    return wait


class HeldCtrlC:
    """Hold a Ctrl-C (SIGINT) that arrives while the run's command is being started, and deliver it
    with :meth:`release` once supervision can stop the command and record the run ``interrupted``.

    A signal mask would be inherited by the command (``exec`` keeps it: the script would start
    with SIGINT blocked), so the main thread's handler notes it instead. Elsewhere (another
    thread, a handler set outside Python) nothing is held.
    """

    def __enter__(self) -> HeldCtrlC:
        self.hit = False
        self.old = None
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not None:
            self.old = signal.signal(signal.SIGINT, self._note)
        return self

    def _note(self, signum, frame) -> None:
        self.hit = True

    def release(self) -> None:
        """Put the old handler back and deliver a held Ctrl-C to it (now)."""
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
            self.old = None
        if self.hit:
            self.hit = False
            signal.raise_signal(signal.SIGINT)

    def __exit__(self, *exc) -> None:
        self.release()


# The guard: a shell in a session of its own holding the read end of a pipe from this process. It
# reads the command's process group, then waits for end of file: this process ended the run, or
# died (even by SIGKILL). Then the group gets SIGTERM and, if anything in it lives on after the
# grace period (a script ignoring SIGTERM, a grandchild), SIGKILL. A shell starts in ~1 ms, while
# the run's provenance is captured; Python would put ~20 ms on the run's path.
_GUARD_SH = (
    'read pg || exit 0; case $pg in ""|*[!0-9]*) exit 0;; esac; read _; '
    'kill -TERM -"$pg" 2>/dev/null || exit 0; n=0; '
    'while kill -0 -"$pg" 2>/dev/null; do '
    'if [ "$n" -ge "$1" ]; then kill -KILL -"$pg" 2>/dev/null; exit 0; fi; sleep 0.1; n=$((n+1)); done'
)


class Guard:
    """Puts the command's whole process group down when this process ends the run or dies.

    Linux's parent-death signal reaches only a direct child, once: a grandchild, or a script
    that ignores SIGTERM, outlived a killed ``mlexp run``. The guard also ends what the
    command left running in its group at a normal end (a run's processes end with it).
    """

    def __enter__(self) -> Guard:
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", _GUARD_SH, "mlexp-guard", str(round(KILL_GRACE_S * 10))],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # no terminal's Ctrl-C, no killpg of this process's group reaches it
        )
        return self

    def identity(self) -> dict[str, Any]:
        """What the run records of its guard: :func:`~jupyter_mlexp.core.execution.lifecycle.end_stale_runs` waits for it."""
        return {"pid": self.proc.pid, "pid_start": procs.start_time(self.proc.pid)}

    def arm(self, pgid: int) -> None:
        stdin = self.proc.stdin
        if stdin is not None:
            stdin.write(f"{pgid}\n".encode())
            stdin.flush()

    def __exit__(self, *exc) -> None:
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()  # end of file: the guard ends what is left of the group, then itself
            except OSError:
                pass
        self.proc.poll()


# libc's prctl, looked up before any fork (a child between fork and exec must not import).
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


_PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> bool:
    """Linux: make this process the subreaper of its descendants, so a grandchild whose parent
    exited (one that left the command's process group included) becomes this process's child
    instead of init's, and :func:`put_down_leftovers` finds it. Whether it took."""
    if _LIBC is None:
        return False
    return _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def release_orphans() -> None:
    """Undo :func:`adopt_orphans` once a run is over. A process that stays a subreaper (a notebook server,
    a test process that ran a script in-process) would keep later grandchildren whose parent died: a kernel
    whose runner was killed then sees this process as its parent instead of init and never exits."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def children_now() -> set[int]:
    """The PIDs of this process's children now (Linux: read from ``/proc``, without a scan)."""
    pids: set[int] = set()
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as fh:
                pids.update(int(p) for p in fh.read().split())
        return pids
    except (OSError, ValueError):
        pass
    import psutil

    try:
        return {c.pid for c in psutil.Process().children()}
    except psutil.Error:
        return set()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def put_down_leftovers(pgid: int, known: set[int], grace: float = 2.0) -> list[dict[str, Any]]:
    """End what a command left running after its main process exited: the rest of its process group
    and its orphans (this process's children that are not in ``known``, with their descendants).
    SIGTERM, SIGKILL after ``grace`` seconds, reaped. What was put down: pid, name, how."""
    if not (children_now() - known) and not _group_alive(pgid):
        return []  # the usual end: nothing left (two reads of /proc, no scan)
    import psutil

    found: dict[int, psutil.Process] = {}
    try:
        for child in psutil.Process().children():
            if child.pid in known:
                continue
            found[child.pid] = child
            for grand in child.children(recursive=True):
                found[grand.pid] = grand
    except psutil.Error:
        pass
    for p in psutil.process_iter():
        try:
            if p.pid not in found and p.pid != os.getpid() and os.getpgid(p.pid) == pgid:
                found[p.pid] = p
        except (OSError, psutil.Error):
            continue
    alive = []
    for p in found.values():
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p)
        except psutil.Error:
            continue
    out = proctree.end_processes(alive, grace)
    zombies = [p for p in found.values() if p not in alive]
    psutil.wait_procs(zombies, timeout=0)  # ours since adopt_orphans: reap them
    return out


def tie_to_parent() -> None:
    """In a child before exec: SIGTERM when the thread that forked it dies (Linux). The script
    runner itself uses the guard instead (it also reaches grandchildren, and SIGKILLs after the
    grace); :mod:`.loop_batch` ties its worker processes with this."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(proc: Command, ended) -> None:
    """SIGTERM to the command's process group, SIGKILL after a grace period; reaped."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + KILL_GRACE_S
    while proc.reap() is None and time.monotonic() < deadline:
        ended(min(0.05, max(deadline - time.monotonic(), 0.0)))
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.reap(block=True)
