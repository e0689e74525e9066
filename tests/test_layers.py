"""The layers, one direction: core <- runner/report <- front doors.

The core owns the record and the run life cycle and knows nothing of IPython, widgets, tornado or
jupyter_server; ``runner`` and ``report`` are libraries with no front door inside. Every import
statement counts, including the ones inside functions (a lazy import is still a dependency).
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
    "runner": ("jupyter_mlexp.frontdoors", "tornado", "jupyter_server", "ipywidgets", "argparse"),
    "report": ("jupyter_mlexp.frontdoors", "jupyter_mlexp.runner", "tornado", "jupyter_server", "ipywidgets"),
    "classroom": ("jupyter_mlexp.frontdoors", "jupyter_mlexp.runner", "tornado", "jupyter_server", "argparse"),
}
#: The one import across layers, with its reason: the kernel-side half of the runner runs inside the
#: kernel and preloads what ``%load_ext jupyter_mlexp`` loads, so that a run's sweep of the modules it
#: imported does not count (and unload) the extension.
ALLOWED = {("jupyter_mlexp/runner/kernelside.py", "jupyter_mlexp.frontdoors.magics")}


def imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement in ``path`` names (relative imports resolved)."""
    package = ".".join(path.relative_to(PKG.parent).with_suffix("").parts[:-1])
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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


def test_importing_the_whole_core_loads_no_framework() -> None:
    # what the core pulls in transitively (a third-party module could bring a framework along)
    modules = sorted(f"jupyter_mlexp.core.{p.stem}" for p in (PKG / "core").glob("*.py") if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(n for n in sys.modules if n.split('.')[0] in {FRAMEWORKS!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
