"""A wall-clock budget for code running in the main thread.

On POSIX a ``SIGALRM`` timer raises :class:`RunTimeoutError` in the running
code, which also wakes a blocking ``time.sleep``; elsewhere, or off the main
thread, a timer thread interrupts the main thread. The previous handler and
timer are restored when the block ends, so the kernel stays usable.
"""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from jupyter_mlexp.core.errors import RunTimeoutError


@contextmanager
def time_budget(seconds: float | None) -> Iterator[dict]:
    """Raise :class:`RunTimeoutError` inside the block once ``seconds`` have passed."""
    state = {"expired": False}
    if not seconds or seconds <= 0:
        yield state
        return
    use_alarm = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if use_alarm:

        def on_alarm(signum, frame):
            state["expired"] = True
            raise RunTimeoutError(seconds)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield state
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    else:  # pragma: no cover - exercised on Windows only

        def fire():
            state["expired"] = True
            _thread.interrupt_main()

        timer = threading.Timer(seconds, fire)
        timer.daemon = True
        timer.start()
        try:
            yield state
        except KeyboardInterrupt:
            if state["expired"]:
                raise RunTimeoutError(seconds) from None
            raise
        finally:
            timer.cancel()
