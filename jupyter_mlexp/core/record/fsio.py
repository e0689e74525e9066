"""File primitives of the record: atomic replace and locked appends.

Rewritten files (``idea.json``, ``run.json``, ``IGNORED_RUNS.md``) are written
to a temporary file and renamed over the old one, so a crash leaves either the
old or the new content. Shared append-only files (journal, research log,
results table) take a lock file beside them so entries from several kernels
never interleave.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from jupyter_mlexp.core.errors import (
    DiskFullError,
    NotWritableError,
    OutsideRecordError,
    RecordBusyError,
    RecordError,
    TooManyFilesError,
)

LOCK_TIMEOUT = 30.0


#: The folder every record file read or appended must stay inside (symlinks resolved), when set.
_CONFINED: ContextVar[Path | None] = ContextVar("mlexp_confined", default=None)


@contextmanager
def confined_to(root: Path) -> Iterator[None]:
    """Within the block, a record file whose real path leads out of ``root`` is refused.

    The REST API reads the record for whoever can reach the server: a ``run.json``,
    ``metrics.jsonl`` or journal that is a symlink out of the workspace must not be served.
    Kernels and the CLI read with the user's own rights and set no confinement.
    """
    token = _CONFINED.set(Path(os.path.realpath(root)))
    try:
        yield
    finally:
        _CONFINED.reset(token)


def confinement() -> Path | None:
    """The folder reads are confined to now (:func:`confined_to`), if any: part of a cached listing's key."""
    return _CONFINED.get()


def check_confined(path: Path | str) -> None:
    """Raise :class:`OutsideRecordError` when confined and ``path`` resolves outside the confinement."""
    jail = _CONFINED.get()
    if jail is None:
        return
    real = Path(os.path.realpath(path))
    if real != jail and jail not in real.parents:
        raise OutsideRecordError(f"{path} leads out of {jail} (a symlink); refused")


#: The folder every file written must stay inside (symlinks resolved), when set.
_WRITES_CONFINED: ContextVar[Path | None] = ContextVar("mlexp_writes_confined", default=None)


@contextmanager
def writes_confined_to(folder: Path) -> Iterator[None]:
    """Within the block, a write whose real path leads out of ``folder`` is refused.

    What a command writes of its own accord (the report's notebook and figures, the loop's
    files) must not land outside its folder because a ``figures/`` or a ``loops/`` there is a
    symlink to somewhere else. Reads are not affected (see :func:`confined_to` for those).
    """
    token = _WRITES_CONFINED.set(Path(os.path.realpath(folder)))
    try:
        yield
    finally:
        _WRITES_CONFINED.reset(token)


def check_writable_here(path: Path | str) -> None:
    """Raise :class:`OutsideRecordError` when ``path`` resolves outside the folder reads or writes are
    confined to (a symlink on the way leads out); nothing when no confinement is set."""
    check_confined(path)
    jail = _WRITES_CONFINED.get()
    if jail is not None:
        check_inside(path, jail)


def check_inside(path: Path | str, folder: Path | str) -> Path:
    """``path``, if its real path (symlinks resolved) is inside the real ``folder``; else
    :class:`OutsideRecordError`: nothing is written through a symlink that leads out."""
    jail = Path(os.path.realpath(folder))
    real = Path(os.path.realpath(path))
    if real != jail and jail not in real.parents:
        raise OutsideRecordError(f"{path} leads out of {jail} (a symlink); nothing was written there")
    return Path(path)


def mode_for_new_file(path: Path | str) -> int:
    """The mode a file written at ``path`` gets: the old file's, else what the umask gives a new one."""
    return _mode_for(Path(path))


def read_record_text(path: Path) -> str | None:
    """A text file of the record, None when it does not exist.

    Bytes that are not UTF-8 are read as U+FFFD (a hand edit in another encoding must not
    hide the rest); a path that is a folder or unreadable is a :class:`RecordError` naming it.
    """
    check_confined(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise RecordError(f"{path} cannot be read ({err.strerror or type(err).__name__}); fix or restore it") from None


#: Bounds on a JSON record file (``idea.json``, ``run.json``, ``loop.json``): a hand edit or another tool
#: may leave anything, and a reader must answer in one line, never with a RecursionError or by filling memory.
MAX_JSON_BYTES = 64 << 20
MAX_JSON_DEPTH = 64


def parse_json_record(text: str | bytes, what: str | Path = "the file") -> Any:
    """``text`` parsed (bytes: UTF-8), or a :class:`RecordError` naming ``what``: not JSON, not UTF-8,
    nested deeper than :data:`MAX_JSON_DEPTH`, or larger than :data:`MAX_JSON_BYTES`."""
    if len(text) > MAX_JSON_BYTES:
        raise RecordError(f"{what} is larger than {MAX_JSON_BYTES >> 20} MB; not read (fix or restore it)")
    try:
        data = json.loads(text)
    except RecursionError:
        raise RecordError(f"{what} is nested too deep to be a record; fix or restore it") from None
    except UnicodeDecodeError:
        raise RecordError(f"{what} is not valid JSON (not UTF-8 text); fix or restore it") from None
    except ValueError as err:
        raise RecordError(f"{what} is not valid JSON ({getattr(err, 'msg', err)}); fix or restore it") from None
    # nesting needs an opening bracket per level: a record with few of them cannot be too deep (no walk)
    brackets = text.count(b"{") + text.count(b"[") if isinstance(text, bytes) else text.count("{") + text.count("[")
    if brackets > MAX_JSON_DEPTH and _deeper_than(data, MAX_JSON_DEPTH):
        raise RecordError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels; fix or restore it")
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def read_json_record(path: Path | str) -> Any:
    """A JSON record file parsed within the bounds of :func:`parse_json_record`; ``FileNotFoundError``
    when it does not exist, a one-line :class:`RecordError` for anything else that is wrong."""
    check_confined(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as err:
        raise RecordError(f"{path} cannot be read ({err.strerror or type(err).__name__}); fix or restore it") from None
    return parse_json_record(text, path)


def atomic_write_text(path: Path, text: str, durable: bool = True, errors: str = "strict") -> None:
    """Replace ``path`` with ``text`` at once: readers see the old or the new file, never half.

    ``durable`` also fsyncs before the rename (the record itself); files rebuilt from the
    record (the report) can skip it.
    """
    path = Path(path)
    check_writable_here(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise write_error(path, err) from None
    try:  # mkstemp makes 0600: give the file the old file's mode, else what the umask gives any new file
        os.fchmod(fd, _mode_for(path))
    except OSError:
        pass
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors=errors, newline="\n") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise write_error(path, err) from None
        raise


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask (read from /proc where it can be, so it is never changed even briefly)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock that guards ``path`` (a ``.lock`` file beside it)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise write_error(path, err) from None
    lock = FileLock(str(path.parent / f".{path.name}.lock"), timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except Timeout:
        raise RecordBusyError(
            f"{path.name} is locked by another process for more than {LOCK_TIMEOUT:g} s "
            f"(lock file {lock.lock_file}); try again, or delete the lock file if no mlexp process is running"
        ) from None
    except OSError as err:
        raise write_error(path, err) from None
    try:
        yield
    finally:
        lock.release()


def append_text(path: Path, text: str, header: str = "") -> None:
    """Append ``text`` under the file's lock; ``header`` goes first when the file is new or empty.

    The header is decided under the lock, so two first appends never both write it. A write
    that fails part-way (a full disk) is cut back: the file is left as it was, never with half
    an entry that would later read as a whole one.
    """
    path = Path(path)
    check_writable_here(path)
    with locked(path):
        append_text_held(path, text, header)


def append_text_held(path: Path, text: str, header: str = "") -> None:
    """:func:`append_text` for a caller that already holds ``locked(path)`` (it decided what to append under it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as err:
        raise write_error(path, err) from None
    size = None
    try:
        size = os.fstat(fd).st_size
        data = (header if size == 0 else "") + text
        _write_all(fd, data.encode("utf-8", errors="replace"))
    except OSError as err:
        if size is not None:
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass
        raise write_error(path, err) from None
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


#: The operating-system errors a write can meet that are the machine's state, not a bug: one line each.
SYSTEM_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EMFILE, errno.ENFILE}
)


def write_error(path: Path | str | None, err: OSError) -> RecordError:
    """The one-line error for a file that could not be written (or a folder made): what happened to
    which path, and what to do."""
    path = path or err.filename or "a file"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"the disk is full: {path} was left as it was; free some space and try again")
    if err.errno == errno.EROFS:
        return NotWritableError(
            f"{path} is on a read-only file system: nothing was written; "
            "remount it read-write, or work in a folder on a writable disk (MLEXP_ROOT)"
        )
    if err.errno in (errno.EACCES, errno.EPERM):
        return NotWritableError(
            f"no permission to write {path} (as user {_user()}): nothing was written; ask the folder's owner "
            "for write access (for a folder shared by a group: `mlexp init --shared` there)"
        )
    if err.errno in (errno.EMFILE, errno.ENFILE):
        return TooManyFilesError(
            f"too many files open to write {path}: nothing was written; close some (or raise the limit, "
            "`ulimit -n`) and try again"
        )
    return RecordError(f"{path} cannot be written ({err.strerror or type(err).__name__}); fix or restore it")


def make_folder(path: Path) -> Path:
    """``mkdir -p``, a refusal by the system (read-only, no permission, full disk) as one line."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if err.errno not in SYSTEM_ERRNOS:
            raise
        raise write_error(err.filename or path, err) from None
    return Path(path)


def system_error(err: OSError) -> RecordError | None:
    """The one-line error for an operating-system error a front door caught (None: not one of those)."""
    if err.errno not in SYSTEM_ERRNOS:
        return None
    return write_error(err.filename, err)


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.geteuid()) if hasattr(os, "geteuid") else "?"


def append_jsonl(path: Path, record: dict) -> None:
    append_text(path, json.dumps(record, default=str) + "\n")


def read_jsonl(path: Path) -> tuple[list[dict], list[tuple[int, str]]]:
    """Records of a JSONL file, and ``(line number, reason)`` for each line skipped."""
    records: list[dict] = []
    bad: list[tuple[int, str]] = []
    try:
        text = read_record_text(path)
    except RecordError as err:  # a folder where the file belongs: no records, and the reason as line 0
        return records, [(0, str(err))]
    if text is None:
        return records, bad
    # A line cut short (a crash mid-append) is not JSON and is skipped like any other bad line.
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as err:
            bad.append((lineno, f"not JSON ({getattr(err, 'msg', 'nested too deep')})"))
            continue
        if not isinstance(obj, dict):
            bad.append((lineno, "not a JSON object"))
            continue
        records.append(obj)
    return records, bad
