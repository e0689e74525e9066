"""Tells the JupyterLab sidebar which experiment this kernel works on, over a Jupyter comm.

The sidebar follows the active notebook's experiment. The kernel says it (no code runs in the
user's kernel on a timer, and no private IPython registry is read): when the current experiment
changes (``%%hypothesis``, ``%mlexp use``), the kernel sends ``{"experiment": NAME}`` on every comm
open to :data:`TARGET`. A frontend that connects later (a page reload) opens a comm to the same
target and gets the current value at once. Without a frontend that knows the target (papermill,
a terminal, the classic notebook) the comm is closed by the other side or never reaches anyone.
"""

from __future__ import annotations

from typing import Any

#: The comm target name, the same string as ``COMM_TARGET`` in ``labextension/src/follow.ts``.
TARGET = "jupyter_mlexp.follow"


class KernelAnnouncer:
    """The comms open to the sidebar, and the experiment to tell them."""

    def __init__(self) -> None:
        self.experiment: str | None = None
        self._comms: list[Any] = []

    def register(self) -> None:
        """Accept comms the frontend opens (its way to ask after a reload). Outside a kernel: nothing."""
        manager = _manager()
        if manager is not None:
            manager.register_target(TARGET, self._opened)

    def announce(self, experiment: str | None) -> None:
        """Tell every open comm; with none open, open one (the frontend registered the target)."""
        changed = experiment != self.experiment
        self.experiment = experiment
        if self._comms:
            if changed:
                for comm in list(self._comms):
                    comm.send({"experiment": experiment})
            return
        comm = _open_comm({"experiment": experiment})
        if comm is not None:
            self._keep(comm)

    def _opened(self, comm: Any, _msg: Any) -> None:
        self._keep(comm)
        comm.send({"experiment": self.experiment})

    def _keep(self, comm: Any) -> None:
        self._comms.append(comm)
        comm.on_close(lambda _msg: self._comms.remove(comm) if comm in self._comms else None)


def _in_kernel() -> bool:
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:
        return False
    return Kernel.initialized()


def _manager() -> Any:
    if not _in_kernel():
        return None
    import comm

    return comm.get_comm_manager()


def _open_comm(data: dict) -> Any:
    if not _in_kernel():
        return None
    import comm

    return comm.create_comm(target_name=TARGET, data=data)
