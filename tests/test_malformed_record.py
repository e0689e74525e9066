"""One bad file breaks nothing else: malformed record files fed to every front door.

Each case is an experiment of its own whose record holds two good completed runs
(``q-1``, ``q-2``) and one file broken in one way. Every front door (CLI, magics,
REST, report) must answer with a one-line message or a listing that still shows
the good runs; never a traceback or an HTTP 500; and no file that existed before
may change.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from jupyter_mlexp.core.experiment import Experiment

HYP = "Dropout 0.3 improves validation accuracy on the toy set\nsuccess: acc >= 0.9\nmetrics: acc, loss\n"
GOOD = ("q-1", "q-2")
BAD_RUN = "q-bad"


def _run_json(value):
    def apply(exp: Experiment):
        path = exp.path / "quick" / BAD_RUN / "run.json"
        if isinstance(value, bytes):
            path.write_bytes(value)
        elif value is _DIR:
            path.unlink()
            path.mkdir()
        elif callable(value):
            m = json.loads(path.read_text())
            value(m)
            path.write_text(json.dumps(m))
        else:
            path.write_text(json.dumps(value))

    return apply


def _set(**fields):
    return lambda m: m.update(fields)


def _file(name: str, content):
    def apply(exp: Experiment):
        path = exp.path / name
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        elif path.exists():
            path.unlink()
        if content is _DIR:
            path.mkdir()
            (path / "x").write_text("x")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content))

    return apply


def _append_log(event):
    def apply(exp: Experiment):
        with open(exp.log_jsonl, "ab") as fh:
            fh.write(event if isinstance(event, bytes) else (json.dumps(event) + "\n").encode())

    return apply


def _idea(**fields):
    def apply(exp: Experiment):
        data = json.loads(exp.idea_json.read_text())
        data.update(fields)
        exp.idea_json.write_text(json.dumps(data))

    return apply


def _quick_is_a_file(exp: Experiment):
    import shutil

    shutil.rmtree(exp.path / "quick")
    (exp.path / "quick").write_text("not a folder")


def _metrics_dir(exp: Experiment):
    path = exp.path / "quick" / BAD_RUN / "metrics.jsonl"
    path.unlink(missing_ok=True)
    path.mkdir()


_DIR = object()

CASES = {
    "run-list": _run_json([1, 2]),
    "run-string": _run_json("completed"),
    "run-null": _run_json(None),
    "run-number": _run_json(5),
    "run-status-int": _run_json(_set(status=5)),
    "run-status-list": _run_json(_set(status=["completed"])),
    "run-started-int": _run_json(_set(started=123)),
    "run-summary-str": _run_json(_set(metrics_summary={"acc": "high"})),
    "run-summary-list": _run_json(_set(metrics_summary=["acc"])),
    "run-summary-last-str": _run_json(_set(metrics_summary={"acc": {"last": "x", "n": 1}})),
    "run-params-list": _run_json(_set(params=[1, 2])),
    "run-params-str": _run_json(_set(params="lr=0.1")),
    "run-overrides-int": _run_json(_set(overrides=5)),
    "run-duration-str": _run_json(_set(duration_s="long")),
    "run-id-int": _run_json(_set(run_id=7)),
    "run-mode-list": _run_json(_set(mode=["quick"])),
    "run-error-str": _run_json(_set(status="failed", error="boom")),
    "run-git-str": _run_json(_set(git="abc")),
    "run-seed-dict": _run_json(_set(seed={"a": 1})),
    "run-verdict-int": _run_json(_set(verdict=3)),
    "run-pid-str": _run_json(_set(status="running", pid="abc")),
    "run-not-json": _run_json(b"{"),
    "run-empty": _run_json(b""),
    "run-not-utf8": _run_json(b'{"status": "\xff\xfe"}'),
    "run-is-dir": _run_json(_DIR),
    "metrics-is-dir": _metrics_dir,
    "metrics-garbage": _file(f"quick/{BAD_RUN}/metrics.jsonl", b'[1]\n{"name": [1], "value": 2}\n\xff\n'),
    "log-hypothesis-list": _append_log({"event": "idea_updated", "hypothesis": [1], "changes": "abc"}),
    "log-fields-lists": _append_log(
        {"event": "idea_updated", "hypothesis": {"statement": ["x"]}, "changes": [1, [2]], "reason": ["r"], "time": 5}
    ),
    "log-event-list": _append_log({"event": ["x"], "run_id": {"a": 1}}),
    "log-not-utf8": _append_log(b'{"event": "hypothesis_registered", "reason": "\xff"}\n'),
    "log-is-dir": _file("research_log.jsonl", _DIR),
    "idea-metrics-str": _idea(metrics="acc"),
    "idea-list": _file("idea.json", [1, 2]),
    "idea-statement-int": _idea(statement=5),
    "idea-success-int": _idea(success=5),
    "idea-seeds-str": _idea(seeds="1,2"),
    "idea-not-utf8": _file("idea.json", b'{"statement": "\xff"}'),
    "idea-is-dir": _file("idea.json", _DIR),
    "ignored-not-utf8": _file("IGNORED_RUNS.md", b"# Ignored runs\n\n- `q-bad`: caf\xe9 broke\n"),
    "ignored-is-dir": _file("IGNORED_RUNS.md", _DIR),
    "journal-is-dir": _file("JOURNAL.md", _DIR),
    "journal-not-utf8": _file("JOURNAL.md", b"# Journal\n\n## 2026-01-01T00:00:00 [WEIRD]\n\n\xff\xfe odd\n"),
    "quick-is-a-file": _quick_is_a_file,
    "results-is-dir": _file("results.tsv", _DIR),
    "run-git-commit-int": _run_json(_set(git={"commit": 5, "branch": ["main"], "dirty": "yes"})),
    "run-environment-list": _run_json(_set(environment=["python"], data=[1], error={"message": 5})),
    "run-deep": _run_json(b'{"status": "completed", "params": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    "idea-deep": _file("idea.json", '{"statement": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    "log-deep": _append_log(b'{"event": "idea_updated", "hypothesis": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"),
    "metrics-odd-shapes": _file(
        f"quick/{BAD_RUN}/metrics.jsonl",
        b'{"name": "acc", "value": true, "step": 0}\n{"name": "acc", "value": 0.5, "step": "3"}\n'
        b'{"name": "acc", "value": "0.7", "step": 1}\n{"name": "acc", "value": NaN, "step": 2}\n'
        b'{"name": "acc", "value": Infinity, "step": 3}\n' + b"[" * 100_000 + b"\n"
        b'{"name": "acc", "value": 0.6, "step": 4}\n{"name": "acc", "val',
    ),
    "report-is-dir": _file("report.ipynb", _DIR),
    "figures-is-file": _file("figures", "not a folder"),
}
#: Cases where the experiment's hypothesis itself cannot be read.
BROKEN_IDEA = {k for k in CASES if k.startswith("idea-")}
#: Cases where the runs are not listed (their folder is gone; which are ignored is unknown): one line instead.
NO_RUNS = {"quick-is-a-file", "ignored-is-dir"}


def _name(case: str) -> str:
    return "c-" + case


def build_workspace(root: Path) -> list[str]:
    """One experiment per case under ``root``; returns the experiment names."""
    names = []
    for case, apply in CASES.items():
        exp = Experiment(_name(case), root)
        exp.register(HYP)
        exp.add_journal("loss spiked", tags=["WEIRD"])
        for rid, acc in (("q-1", 0.91), ("q-2", 0.93), (BAD_RUN, 0.5)):
            run = exp.start_run("quick", params={"lr": 0.1}, seed=1, run_id=rid)
            run.log_metric("acc", acc)
            exp.finish_run(run, "completed")
        apply(exp)
        names.append(exp.name)
    return names


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath, f)
            if not p.is_symlink():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def assert_unchanged(before: dict[str, str], root: Path) -> None:
    after = snapshot(root)
    changed = [p for p, h in before.items() if after.get(p) != h]
    assert not changed, f"files changed: {changed}"


def one_line(message: str) -> None:
    assert message.strip(), "empty message"
    assert "\n" not in message.strip(), f"not one line: {message!r}"
    assert "Traceback" not in message


def good_runs_listed(case: str, text: str) -> None:
    if case in NO_RUNS:
        return
    for rid in GOOD:
        assert rid in text, f"{case}: good run {rid} missing from:\n{text}"


@pytest.fixture
def fuzz_root(tmp_path, monkeypatch):
    monkeypatch.setenv("MLEXP_ROOT", str(tmp_path))
    for var in ("MLEXP_RUN_DIR", "MLEXP_MODE", "MLEXP_EXPERIMENT"):
        monkeypatch.delenv(var, raising=False)
    names = build_workspace(tmp_path)
    return tmp_path, names


def test_at_least_thirty_cases():
    assert len(CASES) >= 30


# -- CLI ------------------------------------------------------------------------------------------


def _cli(capsys, *argv) -> tuple[int, str, str]:
    from jupyter_mlexp.frontdoors.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_reads(fuzz_root, capsys):
    root, names = fuzz_root
    before = snapshot(root)
    for case in CASES:
        name = _name(case)
        for argv in (["runs", name], ["status", name], ["journal", "--experiment", name]):
            code, out, err = _cli(capsys, *argv)
            assert code in (0, 2), (case, argv, code, err)
            if code == 2:
                one_line(err)
                assert err.startswith("mlexp: error:"), (case, argv, err)
            elif argv[0] == "runs":
                good_runs_listed(case, out)
            if argv[0] == "runs" and case not in NO_RUNS:
                assert code == 0, (case, err)
    assert_unchanged(before, root)


def test_cli_ignore_and_report(fuzz_root, capsys):
    root, names = fuzz_root
    for case in CASES:
        name = _name(case)
        broken = snapshot(root / "experiments" / name)
        code, out, err = _cli(capsys, "ignore", "q-1", "--reason", "flaky", "--experiment", name)
        assert code in (0, 2), (case, err)
        if code == 2:
            one_line(err)
        code, out, err = _cli(capsys, "report", name)
        assert code in (0, 2), (case, err)
        if code == 2:
            one_line(err)
        else:
            assert case not in BROKEN_IDEA or "report written" in out
        after = snapshot(root / "experiments" / name)
        changed = [
            p
            for p, h in broken.items()
            if after.get(p) != h and Path(p).name not in ("IGNORED_RUNS.md", "research_log.jsonl")
        ]
        assert not changed, (case, changed)


# -- magics ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _shell():
    from IPython.testing.globalipapp import get_ipython

    return get_ipython()  # the test session's one shell (started here if no test did before)


def test_magics(fuzz_root, _shell, capsys):
    from jupyter_mlexp import load_ipython_extension

    root, names = fuzz_root
    load_ipython_extension(_shell)
    before = snapshot(root)
    for case in CASES:
        name = _name(case)
        for line in (f"status {name}", f"runs {name}", f"use {name}"):
            try:
                _shell.run_line_magic("mlexp", line)
            except UsageError as err:
                one_line(str(err))
            out = capsys.readouterr().out
            assert "Traceback" not in out, (case, line, out)
        try:
            _shell.run_line_magic("journal", "-n 3")
        except UsageError as err:
            one_line(str(err))
        capsys.readouterr()
    assert_unchanged(before, root)
    _shell.run_line_magic("reset", "-f")


def test_magic_writes(fuzz_root, _shell, capsys):
    """%mlexp ignore / unignore / report and %%journal on every broken experiment: a change or one line."""
    from jupyter_mlexp import load_ipython_extension

    root, names = fuzz_root
    load_ipython_extension(_shell)
    for case in CASES:
        name = _name(case)
        calls = (
            ("line", f"use {name}"),
            ("line", "ignore q-1 --reason flaky"),
            ("line", "unignore q-1"),
            ("cell", "checked the broken file"),
            ("line", "report"),
        )
        for kind, text in calls:
            try:
                if kind == "line":
                    _shell.run_line_magic("mlexp", text)
                else:
                    _shell.run_cell_magic("journal", "WEIRD", text)
            except UsageError as err:
                one_line(str(err))
            out = capsys.readouterr().out
            assert "Traceback" not in out, (case, text, out)
    _shell.run_line_magic("reset", "-f")


# -- report ---------------------------------------------------------------------------------------


def test_report(fuzz_root):
    from jupyter_mlexp.core.errors import MlexpError
    from jupyter_mlexp.report.build import build_report

    root, names = fuzz_root
    before = snapshot(root)
    for case in CASES:
        try:
            path = build_report(Experiment(_name(case)))
        except MlexpError as err:
            one_line(str(err))
            continue
        text = path.read_text()
        if case not in NO_RUNS:
            for rid in GOOD:
                assert rid in text, case
    assert_unchanged(before, root)


# The REST front door is fed the same cases in tests/server/test_malformed_rest.py
# (pytest-jupyter's fixtures and async support are set up in tests/server/conftest.py).
