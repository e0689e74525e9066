"""Writing the report's own files: atomic replace (temp file + rename), without fsync.

Everything the report writes is derived from the runs and rebuilt by the next
``mlexp report``; a rename is enough for a reader to see the old file or the
new one, never half of one. Run folders are never written.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def write_text(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


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
