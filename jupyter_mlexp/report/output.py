"""Writing the report's own files: atomic replace (temp file + rename), without fsync.

Everything the report writes is derived from the runs and rebuilt by the next
``mlexp report``; a rename is enough for a reader to see the old file or the
new one, never half of one. Run folders are never written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.record.fsio import atomic_write_text


def write_text(path: Path, text: str) -> Path:
    atomic_write_text(path, text, durable=False)
    return Path(path)


def write_json(path: Path, data: Any) -> Path:
    """Strict JSON: NaN and inf become null (the summaries count non-finite values separately)."""
    try:
        text = json.dumps(data, indent=1, default=_plain, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), indent=1, default=_plain, allow_nan=False)
    return write_text(path, text + "\n")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _plain(obj: Any) -> Any:
    return str(obj)
