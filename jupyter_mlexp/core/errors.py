"""One exception tree for jupyter-mlexp.

Every error a user can cause derives from :class:`MlexpError`; front doors
translate it once (magics to ``UsageError``, the CLI to an exit code and a
one-line message, server handlers to an HTTP status and JSON ``{message}``).
"""

from __future__ import annotations


class MlexpError(Exception):
    """Root of all jupyter-mlexp errors. ``str(err)`` is the user-facing message."""

    #: HTTP status a server handler answers with.
    http_status = 400


class InvalidNameError(MlexpError, ValueError):
    """An experiment or run name that is empty or tries to leave its folder."""


class HypothesisError(MlexpError, ValueError):
    """A hypothesis body that cannot be registered as written."""


class NoHypothesisError(MlexpError):
    """The gate: nothing runs before a hypothesis is registered."""

    http_status = 409


class ExperimentNotFoundError(MlexpError, LookupError):
    http_status = 404


class RunNotFoundError(MlexpError, LookupError):
    http_status = 404


class RecordError(MlexpError):
    """A file of the record that cannot be read as written (hand-edited, corrupt)."""

    http_status = 422


class AlreadyIgnoredError(MlexpError):
    """The run is ignored already: a new reason must say it replaces the old one."""

    http_status = 409


class RecordBusyError(RecordError):
    """A lock on a record file held by another process for longer than the lock timeout."""

    http_status = 503


class OutsideRecordError(RecordError):
    """A record file that is a symlink leading out of the folder the REST API may read."""

    http_status = 403


class DiskFullError(RecordError):
    """A write that failed because the disk (or the user's quota) is full."""

    http_status = 507


class NotWritableError(RecordError):
    """A write refused by the system: a read-only file system, or no permission."""

    http_status = 500


class TooManyFilesError(RecordError):
    """A write that failed because this process (or the system) has too many files open."""

    http_status = 503


class MetricValueError(MlexpError, TypeError):
    """A metric value that is not a number."""


class NoActiveRunError(MlexpError, RuntimeError):
    """``log_metric`` called outside a run."""


class RunTimeoutError(BaseException):
    """Raised inside a run when its time budget is spent.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that a user's
    ``except Exception`` inside the cell does not swallow the budget.
    """

    def __init__(self, budget: float):
        super().__init__(f"time budget of {budget:g} s spent")
        self.budget = budget

    def __reduce__(self):
        return (type(self), (self.budget,))
