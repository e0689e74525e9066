"""How a runner's kernel process is launched: its environment, its sockets, its launcher.

A kernel talks to its runner over Unix sockets (ZeroMQ ``ipc``) in a private
folder where the platform has them: the runner and its kernels are always on
the same machine (a Dask worker starts its own), so nothing needs TCP, nothing
listens on a port, and ipykernel has no unencrypted-TCP warning to print.
``MLEXP_KERNEL_TRANSPORT=tcp`` goes back to loopback TCP.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

_SUN_PATH_MAX = 100  # a Unix socket path is at most 107 bytes on Linux (104 on macOS); the port adds 6
_PKG_PARENT = str(Path(__file__).resolve().parents[2])


def socket_transport() -> tuple[dict, str | None]:
    """The kernel manager's transport settings: Unix sockets in a fresh private folder where the
    platform has them (and the folder, to remove at shutdown), else loopback TCP."""
    if os.name != "posix" or os.environ.get("MLEXP_KERNEL_TRANSPORT", "ipc").lower() == "tcp":
        return {}, None
    _sweep_orphaned_folders()
    folder = tempfile.mkdtemp(prefix=f"mlexp-k{os.getpid()}-")  # mode 0700: only this user can connect
    if len(folder) + 2 > _SUN_PATH_MAX:
        os.rmdir(folder)
        return {}, None
    return {"transport": "ipc", "ip": os.path.join(folder, "k")}, folder


def _sweep_orphaned_folders() -> None:
    """Remove the socket folders of runners that were killed before their shutdown could (their
    name carries the runner's pid; only this user's folders, only of processes that are gone)."""
    base = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(base) if n.startswith("mlexp-k") and "-" in n[8:]]
    except OSError:
        return
    for name in names:
        pid_text = name[len("mlexp-k") :].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        path = os.path.join(base, name)
        try:
            if os.lstat(path).st_uid != os.getuid() or _alive(int(pid_text)):
                continue
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kernel_env(root: str | None = None, extra: dict | None = None) -> dict:
    """This process's environment, with ``jupyter_mlexp`` importable and the workspace root fixed."""
    env = dict(os.environ)
    for key in ("MLEXP_RUN_DIR", "MLEXP_MODE", "MLEXP_EXPERIMENT"):
        env.pop(key, None)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if _PKG_PARENT not in paths:
        env["PYTHONPATH"] = os.pathsep.join([_PKG_PARENT, *paths])
    if root:
        env["MLEXP_ROOT"] = str(root)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    _drop_dask_malloc_setting(env)
    env.update(extra or {})
    return env


def _drop_dask_malloc_setting(env: dict) -> None:
    """Keep Dask's ``MALLOC_TRIM_THRESHOLD_`` out of kernels.

    Dask's nanny puts it in its workers' environment (and a ``LocalCluster`` leaves it in
    ``os.environ`` of the process that started it). A kernel that inherits it loses glibc's
    adaptive mmap threshold: every large numpy temporary is mmap'ed and unmapped again, and
    numpy-heavy cells ran about 1.7x slower here.
    """
    if "distributed" not in sys.modules or "MALLOC_TRIM_THRESHOLD_" not in env:
        return
    try:
        import dask

        dask_value = dask.config.get("distributed.nanny.pre-spawn-environ", {}).get("MALLOC_TRIM_THRESHOLD_")
    except Exception:
        return
    if dask_value is not None and str(dask_value) == env["MALLOC_TRIM_THRESHOLD_"]:
        del env["MALLOC_TRIM_THRESHOLD_"]


# ipykernel_launcher with debugpy blocked while the kernel boots: importing debugpy (ipykernel's
# debugger, useless to a batch run that no frontend attaches to) is ~80 ms of each kernel's start.
# kernelside.snapshot() lifts the block, so the notebook can still import debugpy itself.
_LAUNCH = (
    "import sys; sys.modules['debugpy'] = None; sys.path[:1] = [] if sys.path[:1] == [''] else sys.path[:1]; "
    "from ipykernel import kernelapp; kernelapp.launch_new_instance()"
)


def skip_debugger(km) -> None:
    """Start ``python -m ipykernel_launcher`` kernel specs through :data:`_LAUNCH` instead."""
    try:
        argv = km.kernel_spec.argv
    except Exception:  # no such kernel: start_kernel names it
        return
    if len(argv) >= 3 and argv[1:3] == ["-m", "ipykernel_launcher"]:
        km.kernel_spec.argv = [argv[0], "-c", _LAUNCH, *argv[3:]]
