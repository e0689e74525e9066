"""The loguru logger that writes each run's ``run.log``.

It has its own handlers, so run messages go to ``run.log`` and not to the
stderr sink a user's own ``loguru.logger`` has by default (which would print
into every notebook cell).
"""

from __future__ import annotations

import functools


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
