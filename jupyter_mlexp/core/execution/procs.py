"""Telling a process apart from a later one that got its PID: its start time, read from ``/proc``.

A ``running`` run whose process is gone is shown as ``stale``. A PID alone is not enough: it
is reused once the process has exited, and a process that exited but was not reaped (a zombie)
still answers ``kill(pid, 0)``. Where ``/proc`` exists (Linux), a run records its process's start
time (``pid_start``, clock ticks since boot) and is stale when that PID now started at another
time or is a zombie. Elsewhere the PID check alone remains.
"""

from __future__ import annotations

import os


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name, or None (no such process, no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()  # the name may hold spaces and parentheses


def start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot), or None where it cannot be known."""
    fields = _stat(pid)
    try:
        return int(fields[19]) if fields else None  # field 22 of stat; fields[0] is field 3 (state)
    except (IndexError, ValueError):
        return None


def is_gone(pid: int, started: int | float | None) -> bool:
    """True when the process ``pid`` that started at ``started`` no longer runs: no such PID, a zombie,
    or a PID that now belongs to a process started at another time."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError, ValueError, OverflowError):
        pass  # someone else's process: it exists; /proc may still say whose
    fields = _stat(pid)
    if fields is None:
        return False
    if fields[0] in ("Z", "X"):
        return True
    return started is not None and start_time(pid) not in (None, int(started))
