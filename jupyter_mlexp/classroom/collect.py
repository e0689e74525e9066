"""``mlexp class collect``: copy students' ``experiments/`` folders into a class workspace, read-only.

Sources come in three layouts (``docs/classroom.md``):

- **homes**: a student's folder, or a glob over them (``/home/*/course101``): the key is the path
  component the glob's first wildcard matched (``alice``), else the folder's name;
- **nbgrader**: an exchange's ``inbound/`` (``STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM/`` as nbgrader 0.9's
  ``submit`` names a submission, or ``STUDENT+ASSIGNMENT+TIMESTAMP/`` without its random suffix, split
  from the right so a student id may hold a ``+``; the latest submission per student and assignment)
  or a course's ``submitted/STUDENT/ASSIGNMENT/``;
- **shared**: a course folder with one sub-folder per student.

Nothing is written into a source (no lock file, no cache): files are opened read-only and without
following symlinks. The class workspace ``OUT`` is the only place written; each collection is a new
snapshot ``OUT/snapshots/NNNN/`` that is never overwritten, with ``collection.json`` holding what it
saw (each file's SHA-256, each experiment's log head) and what changed since the snapshot before.
A symlink leading out of a student's folder, an unreadable file and a file over the size limit are
skipped with a line each; a run whose ``metrics.jsonl`` is missing is reported (nbgrader drops files
over its ``max_file_size``).
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlexp.core.errors import MlexpError
from jupyter_mlexp.core.record import logchain
from jupyter_mlexp.core.record.fsio import atomic_write_json, write_error
from jupyter_mlexp.core.record.run_record import RunRecord
from jupyter_mlexp.core.record.workspace import EXPERIMENTS_DIR

SNAPSHOTS = "snapshots"
STUDENTS = "students"
INDEX = "collection.json"
LAYOUTS = ("homes", "nbgrader", "submitted", "shared")
SEARCH_DEPTH = 4  # how deep below a student's folder an experiments/ folder is looked for
# nbgrader's Exchange.timestamp_format, "%Y-%m-%d %H:%M:%S.%f %Z", in the course's Exchange.timezone:
# the zone's name is not read (one course's inbound has one zone)
_NBGRADER_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(?: \S+)?")
_NBGRADER_SUFFIX = re.compile(r"[A-Za-z0-9_-]+")  # ExchangeSubmit.add_random_string: urlsafe base64
_GLOB = re.compile(r"[*?\[]")
_KEY_BAD = re.compile(r"[^A-Za-z0-9_.+@\-]")


class CollectError(MlexpError):
    """A collection that cannot be made (the message says why and what to do)."""


@dataclass
class Found:
    """One student's experiments folder in a source."""

    student: str
    folder: Path  # the experiments/ folder
    root: Path  # the student's folder: symlinks must stay inside it
    layout: str
    assignment: str = ""


@dataclass
class Collection:
    out: Path
    snapshot: Path
    number: int
    students: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        n = len(self.students)
        exps = sum(len(s["experiments"]) for s in self.students.values())
        head = (
            f"collection {self.number} in {self.snapshot}: {n} student{'s' if n != 1 else ''}, "
            f"{exps} experiment{'s' if exps != 1 else ''}"
        )
        return [head, *(f"  skipped: {s}" for s in self.skipped), *(f"  changed: {c}" for c in self.changes)]


def student_key(name: str) -> str:
    """A student's id as a folder name: kept as the source spells it, only path-unsafe characters replaced."""
    key = _KEY_BAD.sub("_", name).lstrip(".")
    if not key:
        raise CollectError(f"cannot make a folder name for the student {name!r}")
    return key


# -- finding students ------------------------------------------------------------------------------
def discover(source: str, layout: str = "auto") -> list[Found]:
    """The students' experiments folders in one source."""
    if layout == "auto":
        layout = _guess_layout(source)
    if layout == "homes":
        return _homes(source)
    path = Path(source)
    if not path.is_dir():
        raise CollectError(f"{source} is not a folder")
    if layout == "nbgrader":
        return _inbound(path / "inbound" if (path / "inbound").is_dir() else path)
    if layout == "submitted":
        return _submitted(path / "submitted" if (path / "submitted").is_dir() else path)
    if layout == "shared":
        return _shared(path)
    raise CollectError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")


def _guess_layout(source: str) -> str:
    if _GLOB.search(source):
        return "homes"
    path = Path(source)
    if path.name == "inbound" or (path / "inbound").is_dir():
        return "nbgrader"
    if path.name == "submitted" or (path / "submitted").is_dir():
        return "submitted"
    if _experiments_in(path, 0):  # a student's own folder
        return "homes"
    return "shared"


def _experiments_in(folder: Path, depth: int = SEARCH_DEPTH) -> list[Path]:
    """``experiments/`` folders at or below ``folder`` (not through symlinks, not into hidden folders)."""
    found = []
    direct = folder / EXPERIMENTS_DIR
    if direct.is_dir() and not direct.is_symlink():
        return [direct]
    if folder.name == EXPERIMENTS_DIR and not folder.is_symlink():
        return [folder]
    if depth <= 0:
        return []
    try:
        children = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    for child in children:
        if child.name.startswith(".") or not child.is_dir(follow_symlinks=False):
            continue
        found += _experiments_in(Path(child.path), depth - 1)
    return found


def _homes(source: str) -> list[Found]:
    parts = Path(source).parts
    wild = next((i for i, p in enumerate(parts) if _GLOB.search(p)), None)
    matches = sorted(glob.glob(source)) if wild is not None else [source]
    out = []
    for m in matches:
        path = Path(m)
        if not path.is_dir():
            continue
        student = Path(m).parts[wild] if wild is not None else path.name
        for folder in _experiments_in(path):
            out.append(Found(student_key(student), folder, path, "homes"))
    if not out and wild is None and not Path(source).is_dir():
        raise CollectError(f"{source} is not a folder")
    return out


def _nbgrader_time(stamp: str) -> dt.datetime | None:
    m = _NBGRADER_TIME.fullmatch(stamp)
    if m is None:
        return None
    day, clock, fraction = m.groups()
    try:
        return dt.datetime.strptime(f"{day} {clock}{fraction or '.0'}", "%Y-%m-%d %H:%M:%S.%f")
    except ValueError:
        return None


def submission_name(name: str) -> tuple[str, str, str] | None:
    """``(student, assignment, timestamp)`` of an nbgrader inbound folder's name; None when it is none.

    nbgrader 0.9's ``submit`` appends a random suffix (``STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM``), which
    its own collect splits off with ``rsplit('+', 3)``; without it (``add_random_string`` off, or an
    older nbgrader) the name is ``STUDENT+ASSIGNMENT+TIMESTAMP``, split with ``rsplit('+', 2)``. Split
    from the right either way, so a student id may hold a ``+``.
    """
    parts = name.rsplit("+", 3)
    if len(parts) == 4 and _nbgrader_time(parts[2]) and _NBGRADER_SUFFIX.fullmatch(parts[3]):
        return parts[0], parts[1], parts[2]
    if name.count("+") < 2:
        return None
    student, assignment, stamp = name.rsplit("+", 2)
    return student, assignment, stamp


def _inbound(inbound: Path) -> list[Found]:
    latest: dict[tuple[str, str], tuple[tuple[int, Any], Path]] = {}
    for child in sorted(inbound.iterdir()):
        parsed = submission_name(child.name)
        if parsed is None or not child.is_dir() or child.is_symlink():
            continue
        student, assignment, stamp = parsed
        parsed_time = _nbgrader_time(stamp)
        when: tuple[int, Any] = (1, parsed_time) if parsed_time else (0, stamp)
        key = (student, assignment)
        if key not in latest or when > latest[key][0]:
            latest[key] = (when, child)
    out = []
    for (student, assignment), (_, folder) in sorted(latest.items()):
        for exp in _experiments_in(folder):
            out.append(Found(student_key(student), exp, folder, "nbgrader", assignment))
    return out


def _submitted(submitted: Path) -> list[Found]:
    out = []
    for student in sorted(submitted.iterdir()):
        if not student.is_dir() or student.is_symlink():
            continue
        for assignment in sorted(student.iterdir()):
            if assignment.is_dir() and not assignment.is_symlink():
                for exp in _experiments_in(assignment):
                    out.append(Found(student_key(student.name), exp, assignment, "submitted", assignment.name))
    return out


def _shared(folder: Path) -> list[Found]:
    out = []
    for student in sorted(folder.iterdir()):
        if student.name.startswith(".") or not student.is_dir() or student.is_symlink():
            continue
        for exp in _experiments_in(student):
            out.append(Found(student_key(student.name), exp, student, "shared"))
    return out


# -- copying ---------------------------------------------------------------------------------------
def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _copy_file(src: str, dest: Path, limit: int) -> str:
    """Copy one regular file, opened without following a symlink; its SHA-256.

    A source that cannot be read raises :class:`_Unreadable`; a destination that cannot be
    written is a :class:`~jupyter_mlexp.core.errors.RecordError` (the class workspace is broken).
    """
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:
        raise _Unreadable(err.strerror or type(err).__name__) from None
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if st.st_size > limit:
            raise _TooBig(st.st_size)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = open(dest, "xb")  # never over a file: a snapshot is new
        except FileExistsError:
            raise
        except OSError as err:
            raise write_error(dest, err) from None
        with out:
            while True:
                try:
                    chunk = fh.read(1 << 20)
                except OSError as err:
                    raise _Unreadable(err.strerror or type(err).__name__) from None
                if not chunk:
                    break
                digest.update(chunk)
                try:
                    out.write(chunk)
                except OSError as err:
                    raise write_error(dest, err) from None
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
    return digest.hexdigest()


class _Unreadable(Exception):
    pass


class _TooBig(Exception):
    pass


def _copy_tree(found: Found, dest: Path, limit: int, skipped: list[str], label: str) -> dict[str, str]:
    """Copy ``found.folder`` to ``dest``; ``{relative path: sha256}`` of what was copied."""
    files: dict[str, str] = {}
    root = os.path.realpath(found.root)
    base = str(found.folder)
    for here, dirs, names in os.walk(base, followlinks=False):
        rel_dir = os.path.relpath(here, base)
        keep = []
        for d in sorted(dirs):
            full = os.path.join(here, d)
            if os.path.islink(full):
                target = os.path.realpath(full)
                where = "out of the student's folder" if not _inside(target, root) else "to a folder"
                skipped.append(f"{label}/{_rel(rel_dir, d)}: a symlink {where}; not followed")
            elif not d.startswith(".mlexp-"):
                keep.append(d)
        dirs[:] = keep
        for name in sorted(names):
            full = os.path.join(here, name)
            rel = _rel(rel_dir, name)
            if name.startswith(".") and name.endswith(".lock"):
                continue  # the record's lock files are nobody's data
            if os.path.islink(full):
                target = os.path.realpath(full)
                if not _inside(target, root):
                    skipped.append(f"{label}/{rel}: a symlink out of the student's folder; not copied")
                    continue
                full = target  # a link inside the student's folder: its file
            try:
                files[rel] = _copy_file(full, dest / rel, limit)
            except _TooBig as big:
                skipped.append(
                    f"{label}/{rel}: {big.args[0] / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit; not copied"
                )
            except FileExistsError:
                skipped.append(f"{label}/{rel}: two sources hold this path; the first was kept")
            except _Unreadable as err:
                (dest / rel).unlink(missing_ok=True)  # no half copy
                skipped.append(f"{label}/{rel}: cannot be read ({err.args[0]}); not copied")
    return files


def _rel(rel_dir: str, name: str) -> str:
    return name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")


def _missing_metrics(exp_dir: Path, label: str) -> list[str]:
    """Runs whose run.json summarises metrics that their metrics.jsonl no longer holds."""
    out = []
    for mode in ("quick", "full"):
        folder = exp_dir / mode
        if not folder.is_dir():
            continue
        for run in sorted(folder.iterdir()):
            manifest = run / "run.json"
            if not manifest.is_file() or (run / "metrics.jsonl").exists():
                continue
            try:
                m = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if RunRecord.from_manifest(m).metrics_summary:
                out.append(
                    f"{label}/{mode}/{run.name}/metrics.jsonl: missing (its run.json summarises metrics; "
                    "nbgrader drops files over its max_file_size)"
                )
    return out


def _next_snapshot(out: Path) -> tuple[int, Path]:
    base = out / SNAPSHOTS
    base.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name) for p in base.iterdir() if p.name.isdigit()]
    n = max(taken, default=0) + 1
    while True:
        path = base / f"{n:04d}"
        try:
            path.mkdir()
            return n, path
        except FileExistsError:  # another collect took it
            n += 1


def snapshots(out: Path | str) -> list[Path]:
    """The class workspace's snapshots, oldest first."""
    base = Path(out) / SNAPSHOTS
    if not base.is_dir():
        return []
    return sorted((p for p in base.iterdir() if p.name.isdigit() and (p / INDEX).is_file()), key=lambda p: int(p.name))


def read_index(snapshot: Path) -> dict[str, Any]:
    try:
        data = json.loads((snapshot / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CollectError(f"{snapshot / INDEX} cannot be read ({err}); the snapshot is incomplete") from None
    return data if isinstance(data, dict) else {}


def collect(
    sources: Sequence[str], out: str | os.PathLike, layout: str = "auto", max_file_mb: float = 50.0
) -> Collection:
    """Collect every student's experiments from ``sources`` into a new snapshot of ``out``."""
    out_path = Path(out).resolve()
    found: list[Found] = []
    for source in sources:
        for f in discover(source, layout):
            if _inside(str(out_path), os.path.realpath(f.root)):
                raise CollectError(f"--out {out} lies inside {f.student}'s folder {f.root}: collect never writes there")
            found.append(f)
    if not found:
        raise CollectError(f"no experiments/ folder found in {', '.join(sources)} (layout {layout})")
    previous = snapshots(out_path)
    number, snap = _next_snapshot(out_path)
    result = Collection(out_path, snap, number)
    limit = int(max_file_mb * 1e6)
    for f in found:
        student = result.students.setdefault(
            f.student, {"layout": f.layout, "assignments": [], "experiments": {}, "files": {}}
        )
        if f.assignment and f.assignment not in student["assignments"]:
            student["assignments"].append(f.assignment)
        dest = snap / STUDENTS / f.student / EXPERIMENTS_DIR
        label = f"{f.student}/{EXPERIMENTS_DIR}"
        files = _copy_tree(f, dest, limit, result.skipped, label)
        student["files"].update(files)
        for exp_dir in sorted(p for p in dest.iterdir() if p.is_dir()) if dest.is_dir() else []:
            log = exp_dir / "research_log.jsonl"
            student["experiments"][exp_dir.name] = {
                "head": logchain.head(log).to_dict() if log.exists() else None,
                "assignment": f.assignment,
            }
            result.skipped += _missing_metrics(exp_dir, f"{label}/{exp_dir.name}")
    if previous:
        result.changes = _changes(read_index(previous[-1]), result.students, previous[-1].name)
    index = {
        "collection": number,
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "layout": layout,
        "sources": len(sources),
        "students": result.students,
        "skipped": result.skipped,
        "changes": result.changes,
    }
    atomic_write_json(snap / INDEX, index)  # written last: a snapshot without it is incomplete
    return result


def _changes(before: dict[str, Any], now: dict[str, dict[str, Any]], name: str) -> list[str]:
    """What changed since the snapshot ``before``, one line each."""
    out = []
    old = before.get("students") or {}
    for student in sorted(set(old) | set(now)):
        a, b = old.get(student), now.get(student)
        if a is None:
            out.append(f"{student}: new since collection {int(name)}")
            continue
        if b is None:
            out.append(f"{student}: no longer found (collection {int(name)} had them; their copy there is kept)")
            continue
        for exp in sorted(set(a["experiments"]) | set(b["experiments"])):
            ha = logchain.Head.from_dict((a["experiments"].get(exp) or {}).get("head"))
            hb = logchain.Head.from_dict((b["experiments"].get(exp) or {}).get("head"))
            if exp not in a["experiments"]:
                out.append(f"{student}/{exp}: new experiment")
            elif exp not in b["experiments"]:
                out.append(f"{student}/{exp}: gone from the source")
            elif ha != hb and ha is not None and hb is not None:
                out.append(f"{student}/{exp}: research log {ha.short()} → {hb.short()}")
        fa, fb = a.get("files") or {}, b.get("files") or {}
        added = [p for p in fb if p not in fa]
        removed = [p for p in fa if p not in fb]
        changed = [p for p in fb if p in fa and fa[p] != fb[p]]
        if added or removed or changed:
            bits = [f"{len(x)} {w}" for x, w in ((added, "added"), (changed, "changed"), (removed, "removed")) if x]
            shown = (changed + removed)[:3]
            out.append(
                f"{student}: files {', '.join(bits)}" + (f" (changed or removed: {', '.join(shown)})" if shown else "")
            )
    return out


def collected_heads(out: Path | str, student: str, experiment: str) -> list[tuple[str, dict[str, Any]]]:
    """Every head a collection kept for ``student``'s ``experiment``: ``(collection label, head dict)``."""
    heads = []
    for snap in snapshots(out):
        info = (read_index(snap).get("students") or {}).get(student) or {}
        head = ((info.get("experiments") or {}).get(experiment) or {}).get("head")
        if head:
            heads.append((f"collection {int(snap.name)}/{INDEX}", head))
    return heads


def iter_students(snapshot: Path) -> Iterable[tuple[str, Path]]:
    """``(student key, workspace root)`` of a snapshot, by key."""
    base = snapshot / STUDENTS
    if base.is_dir():
        for p in sorted(base.iterdir()):
            if p.is_dir():
                yield p.name, p
