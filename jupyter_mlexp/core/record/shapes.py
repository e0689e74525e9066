"""The shapes of the record's JSON files, checked where they are read.

A file a person edited by hand (or a crash truncated) may be valid JSON of the
wrong shape: a list for a manifest, ``"status": 5``, a metrics summary holding a
string. Readers check the fields they use here, once, and treat a file that
fails as corrupt (with the reason), so one bad file never breaks the listing of
everything else.
"""

from __future__ import annotations

from typing import Any

_NUM = (int, float)
_OPT_STR = (str, type(None))
_OPT_NUM = (int, float, type(None))
_OPT_DICT = (dict, type(None))

#: run.json fields the tool reads, and the types each may hold.
MANIFEST_FIELDS: dict[str, tuple[type, ...]] = {
    "run_id": _OPT_STR,
    "mode": _OPT_STR,
    "status": _OPT_STR,
    "stage": _OPT_STR,
    "experiment": _OPT_STR,
    "started": _OPT_STR,
    "ended": _OPT_STR,
    "host": _OPT_STR,
    "verdict": _OPT_STR,
    "description": _OPT_STR,
    "params": _OPT_DICT,
    "overrides": _OPT_DICT,
    "git": _OPT_DICT,
    "error": _OPT_DICT,
    "metrics_summary": _OPT_DICT,
    "seed": (int, float, str, type(None)),
    "duration_s": _OPT_NUM,
    "budget_s": _OPT_NUM,
    "peak_memory_gb": _OPT_NUM,
    "pid": (int, type(None)),
    "pid_start": _OPT_NUM,
    "hypothesis_version": (int, type(None)),
    "environment": _OPT_DICT,
    "data": _OPT_DICT,
}
_OPT_BOOL = (bool, type(None))
#: Fields inside run.json's objects that the surfaces read, and the types each may hold.
NESTED_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "git": {
        "commit": _OPT_STR,
        "branch": _OPT_STR,
        "repo": _OPT_STR,
        "note": _OPT_STR,
        "diff_sha256": _OPT_STR,
        "dirty": _OPT_BOOL,
    },
    "error": {"name": _OPT_STR, "message": _OPT_STR, "traceback": _OPT_STR},
    "environment": {"python": _OPT_STR, "platform": _OPT_STR, "packages": _OPT_DICT, "gpu": (list, type(None))},
}
_SUMMARY_FIELDS = ("last", "min", "max")


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def manifest_problem(manifest: Any) -> str | None:
    """Why ``manifest`` (a parsed ``run.json``) cannot be used as one, or None when it can."""
    if not isinstance(manifest, dict):
        return f"not a JSON object (a {_kind(manifest)})"
    for key, types in MANIFEST_FIELDS.items():
        value = manifest.get(key)
        if value is not None and (not isinstance(value, types) or value is True or value is False):
            return f"{key!r} is a {_kind(value)}: {_short(value)}"
    for outer, fields in NESTED_FIELDS.items():
        inner = manifest.get(outer) or {}
        for key, types in fields.items():
            value = inner.get(key)
            bool_ok = bool in types
            if value is not None and (not isinstance(value, types) or (not bool_ok and isinstance(value, bool))):
                return f"'{outer}.{key}' is a {_kind(value)}: {_short(value)}"
    for name, s in (manifest.get("metrics_summary") or {}).items():
        if not isinstance(s, dict):
            return f"metrics_summary[{name!r}] is a {_kind(s)}, not an object"
        for key in _SUMMARY_FIELDS:
            v = s.get(key)
            if v is not None and (not isinstance(v, _NUM) or isinstance(v, bool)):
                return f"metrics_summary[{name!r}][{key!r}] is a {_kind(v)}: {_short(v)}"
    return None


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_or_none(value: Any) -> str | None:
    """A string field of a hand-editable record, or None when it holds something else."""
    return value if isinstance(value, str) else None


def text_list(value: Any) -> list[str]:
    """A list-of-strings field: a list's items as strings; anything else is no list at all."""
    if not isinstance(value, list):
        return []
    return [x if isinstance(x, str) else str(x) for x in value]
