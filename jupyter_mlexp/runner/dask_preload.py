"""Dask workers ready for runs before the first one arrives, and nothing left when they close.

The runner registers :class:`WarmWorkers` when it connects to a scheduler (:func:`register`;
the scheduler keeps it, so workers that join later get it too). On each worker it

- starts importing what a run needs, in a thread, while the worker goes on (about 0.3 s
  on these machines instead of 1.1 s, see below);
- keeps the worker's warm kernels (:mod:`.dask_worker`), which :func:`~.dask_worker.prewarm`
  starts when a sweep begins, and shuts them down when the worker closes.

A worker can do the imports at start instead: ``dask worker --preload
jupyter_mlexp.runner.dask_preload ADDRESS`` (:func:`dask_setup` / :func:`dask_teardown`).

The one slow import: nbformat imports jsonschema, whose format checkers import
``rfc3987_syntax`` when it is installed (jupyter_server's ``jsonschema[format-nongpl]``
brings it); that module builds a Lark grammar at import, 0.8 to 1.4 s per process
(python-jsonschema/jsonschema#1428). It only checks the ``iri`` and ``iri-reference``
string formats, which nbformat's schemas do not use (nor any other format). So jsonschema
is imported with its format-only modules (:data:`SLOW_OPTIONAL`) absent, and they are
importable again right after: in that worker jsonschema's ``FormatChecker`` lacks the
formats they check (iri, uri, date-time, hostname, color, json-pointer, uri-template,
duration), and nothing else changes. A worker that imported jsonschema before the plugin
keeps them all.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time

from distributed.diagnostics.plugin import WorkerPlugin

log = logging.getLogger(__name__)

PLUGIN_NAME = "jupyter-mlexp"
#: optional modules jsonschema imports for its format checks, which nbformat's schemas do not use
#: (``rfc3987_syntax`` is the slow one; the others add about 30 ms)
SLOW_OPTIONAL = (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3986_validator",
    "rfc3339_validator",
    "fqdn",
    "idna",
    "webcolors",
    "jsonpointer",
    "uri_template",
    "isoduration",
)
#: what a run imports on the worker (most of it lazily, inside the first run otherwise)
RUN_IMPORTS = (  # what a kernel start needs first
    "jupyter_mlexp.runner.dask_worker",
    "jupyter_client.manager",
    "jupyter_mlexp.runner.executors",
    "jupyter_mlexp.runner.execute",
    "jupyter_mlexp.core.record.hypothesis",
    "nbclient",
    "nbclient.exceptions",
    "papermill.parameterize",
    "papermill.execute",
    "psutil",
)

_imported = threading.Event()
_import_lock = threading.Lock()
#: seconds the imports took in this process (None until done), for the benchmarks
import_s: float | None = None


def import_jsonschema_without_slow_optional() -> None:
    """Import jsonschema (for nbformat) with :data:`SLOW_OPTIONAL` absent, then make them importable again."""
    if "jsonschema" in sys.modules:
        return
    blocked = [name for name in SLOW_OPTIONAL if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # None makes `import name` raise ImportError
    try:
        importlib.import_module("jsonschema")
    except ImportError:
        pass
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def warm_imports() -> None:
    """Import what a run needs (once per process; later calls wait for the first)."""
    global import_s
    with _import_lock:
        if _imported.is_set():
            return
        t0 = time.perf_counter()
        for name in RUN_IMPORTS[:2]:
            importlib.import_module(name)
        import_jsonschema_without_slow_optional()
        for name in RUN_IMPORTS[2:]:
            try:
                importlib.import_module(name)
            except ImportError as err:  # an optional part: the run will say what is missing
                log.debug("jupyter-mlexp: could not import %s ahead: %s", name, err)
        import_s = time.perf_counter() - t0
        _imported.set()


def start_warm_imports() -> threading.Thread:
    """:func:`warm_imports` in a background thread (the worker's event loop goes on)."""
    thread = threading.Thread(target=warm_imports, name="mlexp-imports", daemon=True)
    thread.start()
    return thread


class WarmWorkers(WorkerPlugin):
    """Worker plugin: what a run imports, ahead; the worker's kernels shut down with it."""

    name = PLUGIN_NAME
    idempotent = True  # registered on every connect: the first registration stays

    def setup(self, worker) -> None:
        start_warm_imports()

    async def teardown(self, worker) -> None:
        from jupyter_mlexp.runner.dask_worker import close_runtime

        await close_runtime(worker)


def register(client) -> None:
    """Register :class:`WarmWorkers` on ``client``'s cluster (once: later calls are no-ops)."""
    client.register_plugin(WarmWorkers(), name=PLUGIN_NAME)


# -- ``dask worker --preload jupyter_mlexp.runner.dask_preload`` ---------------------------------


def dask_setup(worker) -> None:
    warm_imports()


async def dask_teardown(worker) -> None:
    from jupyter_mlexp.runner.dask_worker import close_runtime

    await close_runtime(worker)
