"""``python -m benchmarks [NAME ...]``: run every ``bench_*.py`` and print one JSON line per figure.

Each module exposes ``run() -> list[dict]`` of figures
``{"name", "value", "unit", "anchor_value", "ratio", "goal"}``, the anchor
measured in the same run. Medians throughout: these machines are shared.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    failed = 0
    for name in names:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            for figure in module.run():
                print(json.dumps(figure), flush=True)
        except Exception:
            failed += 1
            print(json.dumps({"name": name, "error": traceback.format_exc(limit=3)}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
