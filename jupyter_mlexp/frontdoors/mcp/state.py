"""What the tools share: the workspace, the jobs, and the one wrapper that turns the core's errors
into a :class:`ToolError` naming the next call."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.frontdoors.mcp.answers import tool_error
from jupyter_mlexp.frontdoors.mcp.confine import Workspace
from jupyter_mlexp.frontdoors.mcp.jobs import Jobs

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    workspace: Workspace
    jobs: Jobs
    read_only: bool = False


def guarded(fn: F) -> F:
    """The tool ``fn`` with every :class:`MlexpError` answered as a ToolError in the tools' own terms."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except MlexpError as err:
                raise tool_error(err) from None

        return run_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MlexpError as err:
            raise tool_error(err) from None

    return run  # type: ignore[return-value]
