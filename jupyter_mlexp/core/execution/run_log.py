"""The loguru logger that writes each run's ``run.log``.

It has its own handlers, so run messages go to ``run.log`` and not to the
stderr sink a user's own ``loguru.logger`` has by default (which would print
into every notebook cell).

One sink serves every run of the process: it routes each message by the run id
bound to it (``mlexp_run``) to that run's open ``run.log``. Adding a loguru sink
costs ~15 ms (its exception formatter scans the installation's paths), too much
to pay per run; opening a file does not.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import IO, Any

FORMAT = "{time:YYYY-MM-DDTHH:mm:ss.SSSZZ} | {level:<7} | {message}"


@functools.lru_cache(maxsize=1)
def run_logger():
    from loguru import logger

    try:  # loguru has no public constructor for an independent logger
        from loguru._logger import Core, Logger

        return Logger(
            core=Core(),
            exception=None,
            depth=0,
            record=False,
            lazy=False,
            colors=False,
            raw=False,
            capture=True,
            patchers=[],
            extra={},
        )
    except Exception:  # pragma: no cover - a loguru that changed its internals
        return logger


class _Router:
    """The process's one sink: each message to the open ``run.log`` of the run it is bound to."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[IO[str], int]] = {}
        self.lock = threading.Lock()

    def __call__(self, message: Any) -> None:
        entry = self.files.get(message.record["extra"].get("mlexp_run"))
        if entry is not None:
            entry[0].write(message)
            entry[0].flush()  # a crash loses no line already logged

    def open(self, run_id: str, path: Path) -> None:
        with self.lock:
            fh, count = self.files.get(run_id) or (open(path, "a", encoding="utf-8"), 0)
            self.files[run_id] = (fh, count + 1)

    def close(self, run_id: str) -> None:
        with self.lock:
            fh, count = self.files.pop(run_id, (None, 0))
            if fh is not None and count > 1:
                self.files[run_id] = (fh, count - 1)
            elif fh is not None:
                fh.close()


_ROUTER = _Router()


@functools.lru_cache(maxsize=1)
def _install() -> None:
    run_logger().add(_ROUTER, level="DEBUG", format=FORMAT, backtrace=False, diagnose=False, enqueue=False)


def open_run_log(run_id: str, path: Path) -> Any:
    """Start writing the messages bound to ``run_id`` to ``path``; the logger to log with."""
    _install()
    _ROUTER.open(run_id, path)
    return run_logger().bind(mlexp_run=run_id)


def close_run_log(run_id: str) -> None:
    """Stop writing ``run_id``'s messages (the file is closed when its last user closes it)."""
    _ROUTER.close(run_id)
