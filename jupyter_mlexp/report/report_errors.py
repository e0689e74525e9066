"""Errors of the report, all under :class:`~jupyter_mlexp.core.errors.MlexpError`."""

from __future__ import annotations

from jupyter_mlexp.core.errors import MlexpError


class ReportError(MlexpError):
    """The report cannot be built as asked."""


class MetricNotLoggedError(ReportError, LookupError):
    """A figure or statistic of a metric no counted run logged: an error, never an empty plot."""

    http_status = 404


class BaselineNotFoundError(ReportError, LookupError):
    """``--baseline KEY=VALUE,...`` matches no configuration (or several)."""

    http_status = 404


class BaselineRegisteredError(ReportError, ValueError):
    """``--baseline`` while the hypothesis registers one: a baseline picked after the runs cannot replace it."""

    http_status = 409
