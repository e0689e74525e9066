"""A wall-clock budget for code running in the main thread.

On POSIX a ``SIGALRM`` timer raises :class:`RunTimeoutError` in the running
code, which also wakes a blocking ``time.sleep``; a watchdog thread sends
``SIGALRM`` again every second after that, so code that resets the timer or
swallows the first exception is interrupted again. Elsewhere, or off the main
thread, a timer thread interrupts the main thread. The previous handler and
timer are restored when the block ends, so the kernel stays usable.

Code that catches ``BaseException`` in a loop, or a long native call that does
not return to Python, can still run past the budget in the same process: the
caller records such a run as ``timeout`` with the time it really took
(:func:`overran`).
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
        done = threading.Event()
        watchdog = threading.Thread(
            target=_watchdog, args=(seconds, done, threading.main_thread().ident), daemon=True, name="mlexp-budget"
        )
        watchdog.start()
        try:
            yield state
        finally:
            done.set()
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            watchdog.join()
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


WATCHDOG_EVERY_S = 1.0


def _watchdog(seconds: float, done: threading.Event, main_ident: int | None) -> None:
    """Past the budget, send SIGALRM to the main thread every second until the block ends."""
    if done.wait(seconds + WATCHDOG_EVERY_S) or main_ident is None:
        return
    while not done.is_set():
        try:
            signal.pthread_kill(main_ident, signal.SIGALRM)
        except (OSError, ValueError):  # pragma: no cover - the thread is gone
            return
        done.wait(WATCHDOG_EVERY_S)


def overran(seconds: float | None, elapsed: float, error: BaseException | None) -> BaseException | None:
    """The error a run ends with: a :class:`RunTimeoutError` saying how long it really took when it
    ran past ``seconds`` without stopping at the budget's interrupt; else ``error`` unchanged."""
    if not seconds or seconds <= 0 or elapsed <= seconds or isinstance(error, RunTimeoutError):
        return error
    late = RunTimeoutError(seconds)
    late.args = (f"time budget of {seconds:g} s spent: the code did not stop when interrupted and ran {elapsed:.1f} s",)
    return late
