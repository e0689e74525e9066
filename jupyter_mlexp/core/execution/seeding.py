"""Seed the random number generators a run may use: ``random`` at once, numpy and torch the moment
they are imported.

A library already imported is seeded at once. One that is installed but not imported yet is seeded
by a post-import hook (``wrapt.register_post_import_hook``) right after its import, before the code
that imported it can draw a number: a notebook that never imports torch does not pay its import
(one to several seconds, hundreds of MB per kernel) just to be seeded, and one that imports it gets
the same state as if it had been seeded first. In a kernel that runs many runs, the hook gives each
library the seed of the latest :func:`seed_everything` that it has not taken yet.
"""

from __future__ import annotations

import random
import sys
import threading
import warnings
from collections.abc import Callable
from importlib.util import find_spec
from types import ModuleType

__all__ = ["seed_everything", "pending"]


def _seed_numpy(np: ModuleType, seed: int) -> None:
    np.random.seed(seed % (2**32))


def _seed_torch(torch: ModuleType, seed: int) -> None:
    torch.manual_seed(seed)


SEEDERS: dict[str, Callable[[ModuleType, int], None]] = {"numpy": _seed_numpy, "torch": _seed_torch}

_lock = threading.Lock()
_pending: dict[str, int] = {}  # library -> the seed it takes when it is imported
_hooked: set[str] = set()
_installed: dict[str, bool] = {}


def seed_everything(seed: int) -> None:
    """Seed ``random`` now; numpy and torch now if imported, else as soon as they are."""
    random.seed(seed)
    for name, apply in SEEDERS.items():
        module = sys.modules.get(name)
        if module is not None:
            with _lock:
                _pending.pop(name, None)
            apply(module, seed)
        elif _is_installed(name):
            with _lock:
                _pending[name] = seed
            _hook(name)


def pending() -> dict[str, int]:
    """The libraries not imported yet and the seed each will take on import."""
    with _lock:
        return dict(_pending)


def _is_installed(name: str) -> bool:
    if name not in _installed:
        _installed[name] = find_spec(name) is not None
    return _installed[name]


def _hook(name: str) -> None:
    with _lock:
        if name in _hooked:
            return
        _hooked.add(name)
    import wrapt  # here, not at the top: the CLI and the server never seed anything

    wrapt.register_post_import_hook(lambda module: _on_import(name, module), name)


def _on_import(name: str, module: ModuleType) -> None:
    with _lock:
        seed = _pending.pop(name, None)
    if seed is None:
        return
    try:
        SEEDERS[name](module, seed)
    except Exception as err:  # never break the notebook's own import: say it instead
        warnings.warn(f"mlexp could not seed {name} with {seed}: {err}", RuntimeWarning, stacklevel=2)
