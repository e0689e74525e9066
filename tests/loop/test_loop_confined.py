"""The loop writes nothing through a symlink that leads out of the experiment's folder."""

from __future__ import annotations

from conftest import mlexp

from jupyter_mlexp import Experiment


def test_a_symlinked_loops_folder_is_refused(repo, capsys, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    (Experiment("tune").path / "loops").symlink_to(outside, target_is_directory=True)
    code, _, err = mlexp(capsys, "loop", "start", "t1", "--experiment", "tune", "--seeds", "0")
    assert code != 0 and "symlink" in err and "Traceback" not in err
    assert list(outside.iterdir()) == []
