"""Rules that hold whichever front door writes the record (issue 8: every rule once)."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlexp.core.experiment import RunInfo


def test_a_run_is_ignored_exactly_when_it_has_a_reason(tmp_path: Path) -> None:
    kept = RunInfo("r1", "quick", "completed", tmp_path, {})
    dropped = RunInfo("r2", "quick", "completed", tmp_path, {}, ignored_reason="data loader bug")
    assert not kept.ignored
    assert dropped.ignored
    assert dropped.to_dict()["ignored"] is True
