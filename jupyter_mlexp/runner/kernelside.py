"""Code the runner calls *inside* a warm kernel: snapshot it once, reset it between runs.

Kept small and free of the runner's heavy imports: the kernel imports only this
module and the core. :func:`reset` undoes what it can (new globals, output
history, environment, working directory, ``sys.path``, ``sys.argv``, signal
handlers, builtins, warning filters, open figures, the batch run, loaded
extensions, local pure-Python modules) and returns the reasons the kernel must
not be reused for what it cannot undo (threads still running, local compiled
modules). Changes inside already-imported libraries are not detected: that is
what ``--fresh-kernel`` is for.
"""

from __future__ import annotations

import builtins
import os
import signal
import sys
import threading
import warnings

from jupyter_mlexp.core.execution import tracking
from jupyter_mlexp.core.execution.flusher import is_own_thread
from jupyter_mlexp.core.record.parameters import seen_values

_base: dict | None = None
_SIGNALS = [s for s in ("SIGINT", "SIGTERM", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGHUP") if hasattr(signal, s)]


def _shell():
    from IPython import get_ipython

    return get_ipython()


def snapshot() -> bool:
    """Remember the kernel's clean state (called once, right after it starts)."""
    global _base
    if "debugpy" in sys.modules and sys.modules["debugpy"] is None:  # blocked while the kernel booted (kernels.py)
        del sys.modules["debugpy"]

    ip = _shell()
    _base = {
        "ns": dict(ip.user_ns),
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "path": list(sys.path),
        "argv": list(sys.argv),
        "modules": set(sys.modules),
        "threads": {t.ident for t in threading.enumerate()},
        "signals": {s: signal.getsignal(getattr(signal, s)) for s in _SIGNALS},
        "builtins": dict(vars(builtins)),
        "warnings": list(warnings.filters),
        "extensions": set(ip.extension_manager.loaded),
        "stdout": (sys.stdout, sys.stderr),
    }
    return True


def _local_modules(new: set[str]) -> tuple[list[str], list[str]]:
    """New modules loaded from outside the Python installation: (pure Python, compiled)."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    pure: list[str] = []
    compiled: list[str] = []
    for name in new:
        mod = sys.modules.get(name)
        f = getattr(mod, "__file__", None)
        if not f:
            continue
        real = os.path.realpath(f)
        if any(real.startswith(r + os.sep) for r in roots) or "site-packages" in real or "dist-packages" in real:
            continue
        (compiled if real.endswith((".so", ".pyd", ".dylib")) else pure).append(name)
    return pure, compiled


def end_run(reset_after: bool) -> list[str]:
    """The run's end inside the kernel, in one round trip: write what the batch run logged, then
    (``reset_after``) :func:`reset`; the reasons the kernel must be replaced (empty: reusable)."""

    _read_back_parameters()
    tracking.flush_batch_run()  # an error here reaches the runner: the kernel is not reused
    if not reset_after:
        return []
    try:
        return reset()
    except Exception as err:
        return [f"reset failed: {type(err).__name__}: {err}"]


def _read_back_parameters() -> None:
    """The values the notebook's parameters have now, the run over: what the code really used
    (the runner compares them with what it injected). Kept in run.json's ``params_seen``."""

    run = tracking.batch_context()[0]
    names = tracking.batch_parameters()
    if run is not None and names:
        run.manifest["params_seen"] = seen_values(_shell().user_ns, names)


def reset() -> list[str]:
    """Return the kernel to its snapshot; the list says why it must be replaced instead (empty: reusable)."""
    if _base is None:
        return ["kernel was never snapshot"]
    ip = _shell()
    _restore_namespace(ip, _base)
    _restore_process(_base)

    tracking.attach_batch_run(None, None, None)
    del tracking._active[:]
    ip.extension_manager.loaded &= _base["extensions"]
    return _leftovers(_base)


def _restore_namespace(ip, base: dict) -> None:
    """The user's globals and the output history as they were at the snapshot."""
    ns = ip.user_ns
    base_ns = base["ns"]
    for key in [k for k in ns if k not in base_ns]:
        del ns[key]
    for key, value in base_ns.items():
        if ns.get(key, base) is not value:
            ns[key] = value
    for name in ("_", "__", "___"):
        ns[name] = ""
    try:
        ip.history_manager.output_hist.clear()
    except AttributeError:
        pass


def _restore_process(base: dict) -> None:
    """Environment, working directory, sys.path/argv/streams, signal handlers, builtins, warning filters,
    open figures."""
    if dict(os.environ) != base["env"]:
        os.environ.clear()
        os.environ.update(base["env"])
    if os.getcwd() != base["cwd"]:
        os.chdir(base["cwd"])
    sys.path[:] = base["path"]
    sys.argv[:] = base["argv"]
    sys.stdout, sys.stderr = base["stdout"]
    for s, handler in base["signals"].items():
        if signal.getsignal(getattr(signal, s)) is not handler and handler is not None:
            signal.signal(getattr(signal, s), handler)
    b = vars(builtins)
    if b.keys() != base["builtins"].keys() or any(b[k] is not v for k, v in base["builtins"].items()):
        b.clear()
        b.update(base["builtins"])
    warnings.filters[:] = base["warnings"]  # type: ignore[index]  # typeshed types it as a read-only Sequence
    warnings._filters_mutated() if hasattr(warnings, "_filters_mutated") else None
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _leftovers(base: dict) -> list[str]:
    """What a reset cannot undo (threads still running, local compiled modules); drops local pure modules."""

    reasons: list[str] = []
    alive = [
        t for t in threading.enumerate() if t.ident not in base["threads"] and t.is_alive() and not is_own_thread(t)
    ]
    if alive:
        reasons.append("the run left threads running: " + ", ".join(t.name for t in alive[:5]))
    new = set(sys.modules) - base["modules"]
    pure, compiled = _local_modules(new)
    for name in pure:  # re-imported fresh by the next run, as a new kernel would
        sys.modules.pop(name, None)
    base["modules"] |= new.difference(pure)  # installed ones stay loaded: look at each once, not every run
    if compiled:
        reasons.append("the run imported local compiled modules: " + ", ".join(sorted(compiled)[:5]))
    return reasons
