"""The layers, one direction: core <- runner/report/classroom <- loop <- front doors.

The core owns the record and the run life cycle and knows nothing of IPython, widgets, tornado or
jupyter_server; ``runner``, ``report``, ``classroom`` and ``loop`` are libraries with no front door
inside. Every import statement counts, including the ones inside functions (a lazy import is still a
dependency). No module imports itself back through others (no cycles, lazy imports included), and an
import inside a function needs one of the reasons listed here (and in docs/architecture.md).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "jupyter_mlexp"

FRAMEWORKS = ("IPython", "ipykernel", "ipywidgets", "tornado", "jupyter_server", "jupyter_client", "nbclient")
FORBIDDEN = {
    "core": (*FRAMEWORKS, "argparse", "papermill", "dask", "distributed", "jupyter_mlexp.frontdoors")
    + ("jupyter_mlexp.runner", "jupyter_mlexp.report", "jupyter_mlexp.classroom"),
    "runner": ("jupyter_mlexp.frontdoors", "jupyter_mlexp.loop", "tornado", "jupyter_server", "ipywidgets", "argparse"),
    "report": ("jupyter_mlexp.frontdoors", "jupyter_mlexp.runner", "tornado", "jupyter_server", "ipywidgets"),
    "classroom": ("jupyter_mlexp.frontdoors", "jupyter_mlexp.runner", "tornado", "jupyter_server", "argparse")
    + ("jupyter_mlexp.loop",),
    "loop": ("jupyter_mlexp.frontdoors", "tornado", "jupyter_server", "ipywidgets", "argparse"),
}
FORBIDDEN["core"] += ("jupyter_mlexp.loop",)
FORBIDDEN["report"] += ("jupyter_mlexp.loop.driver", "jupyter_mlexp.loop.batch", "jupyter_mlexp.loop.attempt_run")

#: Third-party modules a function may import when it needs them: each costs a command that does
#: not use it a noticeable share of its start (measured with ``python -X importtime``: scipy.special
#: ~0.3 s, numpy ~0.1 s, matplotlib ~0.4 s, papermill and nbclient ~1 s, dask/distributed ~0.5 s,
#: mcp ~0.5 s, GitPython ~0.1 s, wrapt's hooks, tqdm, loguru), or is optional (psutil, pwd, the
#: ``dask``/``agents`` extras), or belongs to the kernel or the notebook (IPython, ipykernel, comm).
LAZY_THIRD_PARTY = {
    "scipy", "numpy", "matplotlib", "papermill", "nbclient", "nbformat", "jupyter_client", "dask", "distributed",
    "mcp", "git", "wrapt", "tqdm", "loguru", "psutil", "pwd", "IPython", "ipykernel", "comm",
}  # fmt: skip
#: Imports of the package's own modules inside a function: (where, what) prefixes and the reason.
LAZY_INTERNAL = {
    # Jupyter's and IPython's hooks: a kernel imports the package and must not load the server or magics
    ("jupyter_mlexp/__init__.py", "jupyter_mlexp.frontdoors"): "extension hooks",
    ("jupyter_mlexp/__init__.py", "jupyter_mlexp.core.record.workspace"): "extension hooks",
    # a kernel imports runner.kernelside, and must not pay for papermill or the report
    ("jupyter_mlexp/runner/__init__.py", "jupyter_mlexp.runner.run_api"): "kernel start",
    ("jupyter_mlexp/report/__init__.py", "jupyter_mlexp.report.build"): "kernel start",
    # a command loads the library it runs, not all of them: `mlexp --help` 0.3 s, the runner 1.5 s,
    # the report 2 s (papermill, nbclient, matplotlib)
    ("jupyter_mlexp/frontdoors/", "jupyter_mlexp.runner"): "command start",
    ("jupyter_mlexp/frontdoors/", "jupyter_mlexp.report"): "command start",
    ("jupyter_mlexp/frontdoors/", "jupyter_mlexp.loop"): "command start",
    ("jupyter_mlexp/frontdoors/", "jupyter_mlexp.classroom"): "command start",
    ("jupyter_mlexp/frontdoors/", "jupyter_mlexp.frontdoors.mcp"): "command start (the agents extra)",
    ("jupyter_mlexp/frontdoors/", "jupyter_mlexp.frontdoors.widgets"): "command start (ipywidgets)",
    # the loop's views and `mlexp loop status` read its files; only an attempt runs something
    ("jupyter_mlexp/loop/attempt_run.py", "jupyter_mlexp.runner"): "loop status",
    # Dask is an extra: its modules load when a sweep is sent to a scheduler
    ("jupyter_mlexp/runner/", "jupyter_mlexp.runner.dask_"): "the dask extra",
    # a Dask worker imports dask_worker before its plugin keeps jsonschema's slow optional modules
    # (0.8-1.4 s of rfc3987_syntax) out; the run's modules follow the plugin
    ("jupyter_mlexp/runner/dask_worker.py", "jupyter_mlexp.runner.execute"): "Dask worker start",
}
#: The one import across layers, with its reason: the kernel-side half of the runner runs inside the
#: kernel and preloads what ``%load_ext jupyter_mlexp`` loads, so that a run's sweep of the modules it
#: imported does not count (and unload) the extension.
ALLOWED = {("jupyter_mlexp/runner/kernelside.py", "jupyter_mlexp.frontdoors.magics")}


def imported_names(path: Path, typing_only: bool = True) -> list[tuple[int, str]]:
    """Every module an import statement in ``path`` names (relative imports resolved); without
    ``typing_only``, not the imports under ``if TYPE_CHECKING:`` (they never run)."""
    package = ".".join(path.relative_to(PKG.parent).with_suffix("").parts[:-1])
    out: list[tuple[int, str]] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]) if base else ".".join(parent)
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return out


def violations(layer: str) -> list[str]:
    found = []
    for path in sorted((PKG / layer).rglob("*.py")):
        for lineno, name in imported_names(path):
            for banned in FORBIDDEN[layer]:
                where = path.relative_to(PKG.parent).as_posix()
                if (name == banned or name.startswith(banned + ".")) and (where, name) not in ALLOWED:
                    found.append(f"{where}:{lineno} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_is_below_it(layer: str) -> None:
    assert violations(layer) == []


def test_the_check_sees_a_lazy_import(tmp_path, monkeypatch) -> None:
    # the rule reads imports inside functions too, and resolves relative ones
    fake = tmp_path / "jupyter_mlexp"
    (fake / "core").mkdir(parents=True)
    (fake / "core" / "x.py").write_text("def f():\n    from ..frontdoors import cli\n    import IPython\n")
    monkeypatch.setattr(sys.modules[__name__], "PKG", fake)
    assert violations("core") == [
        "jupyter_mlexp/core/x.py:2 imports jupyter_mlexp.frontdoors",
        "jupyter_mlexp/core/x.py:2 imports jupyter_mlexp.frontdoors.cli",
        "jupyter_mlexp/core/x.py:3 imports IPython",
    ]


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def function_level_imports(path: Path) -> list[tuple[int, str]]:
    """The modules imported inside a function of ``path`` (not under ``if TYPE_CHECKING``)."""
    package = ".".join(path.relative_to(PKG.parent).with_suffix("").parts[:-1])
    out: list[tuple[int, str]] = []
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import):
                out += [(node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base]) if base else ".".join(parent)
                out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return sorted(set(out))


def unexplained_lazy_imports() -> list[str]:
    found = []
    for path in sorted(PKG.rglob("*.py")):
        if "labextension" in path.parts:
            continue
        where = path.relative_to(PKG.parent).as_posix()
        for lineno, name in function_level_imports(path):
            if name.split(".")[0] in LAZY_THIRD_PARTY:
                continue
            if any(where.startswith(w) and (name == m or name.startswith(m)) for w, m in LAZY_INTERNAL):
                continue
            found.append(f"{where}:{lineno} imports {name} inside a function")
    return found


def test_no_import_inside_a_function_without_a_listed_reason() -> None:
    assert unexplained_lazy_imports() == []


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (lazy imports included; a package's own
    ``__init__`` importing its children, and a child its parent package, do not count)."""
    paths = {module_name(p): p for p in PKG.rglob("*.py") if "labextension" not in p.parts}
    graph: dict[str, set[str]] = {m: set() for m in paths}
    for m, path in paths.items():
        for _, name in imported_names(path, typing_only=False):
            while name and name not in paths:
                name = name.rpartition(".")[0]
            if name and name != m and not m.startswith(name + ".") and not name.startswith(m + "."):
                graph[m].add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_check_sees_a_cycle_through_a_lazy_import() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_module_names_are_unique_across_the_tree() -> None:
    stems = [
        p.stem for p in PKG.rglob("*.py") if "labextension" not in p.parts and p.stem not in ("__init__", "__main__")
    ]
    assert sorted({s for s in stems if stems.count(s) > 1}) == []


def test_importing_the_whole_core_loads_no_framework() -> None:
    # what the core pulls in transitively (a third-party module could bring a framework along)
    modules = sorted(module_name(p) for p in (PKG / "core").rglob("*.py"))
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FRAMEWORKS!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
