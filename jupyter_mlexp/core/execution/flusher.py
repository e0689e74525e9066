"""The one thread per process that flushes every open ``metrics.jsonl`` twice a second."""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_mlexp.core.execution.run_folder import Run

FLUSH_EVERY = 0.5  # seconds between flushes of metrics.jsonl: a crash loses at most the last second


class Flusher:
    """One daemon thread per process that flushes every open ``metrics.jsonl`` with something new
    every :data:`FLUSH_EVERY` seconds, so a killed process loses at most about a second of
    ``log_metric`` calls however long it has been since the last one, and ``log_metric`` itself
    never pays for a flush."""

    def __init__(self) -> None:
        self.runs: weakref.WeakSet[Run] = weakref.WeakSet()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0
        # held while the thread flushes, and across a fork: a child must not inherit a file's
        # buffer lock taken by a thread that does not exist in it
        self.flushing = threading.Lock()

    def watch(self, run: Run) -> None:
        with self.lock:
            self.runs.add(run)
            if self.thread is None or self.pid != os.getpid():  # none yet, or lost in a fork
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._loop, name="mlexp-metrics-flush", daemon=True)
                self.thread.start()

    def owns(self, thread: threading.Thread) -> bool:
        """Whether ``thread`` is this process's flusher (a kernel's reset between runs keeps it)."""
        return thread is self.thread

    def forget(self, run: Run) -> None:
        with self.lock:
            self.runs.discard(run)

    def _loop(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY)
            with self.lock:
                runs = list(self.runs)
            with self.flushing:
                for run in runs:
                    try:
                        run.flush_metrics()
                    except (OSError, ValueError):  # a full disk or a file closed meanwhile: the next try
                        pass


FLUSHER = Flusher()


def is_own_thread(thread: threading.Thread) -> bool:
    """Whether ``thread`` belongs to this library (the metrics flusher), not to a run's code: it
    outlives runs by design, so a warm kernel that has it is still clean."""
    return FLUSHER.owns(thread)
