"""The report button never reads or writes through a symlink: a ``report.ipynb`` (or its
``.bak``) that leads out of the root is refused, and the outside file neither leaks into the
record nor is overwritten."""

from __future__ import annotations

import json

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlexp.core.errors import RecordError
from jupyter_mlexp.report.build import build_report

SECRET = "TOPSECRET-7731"
API = ("mlexp", "api")


@pytest.fixture
def outside_notebook(jp_root_dir):
    folder = jp_root_dir.parent / "elsewhere"
    folder.mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(SECRET)])
    path = folder / "secret.ipynb"
    nbformat.write(nb, str(path))
    return path


async def _post_report(jp_fetch, force=False):
    try:
        r = await jp_fetch(*API, "experiments", "demo", "report", method="POST", body=json.dumps({"force": force}))
    except HTTPClientError as err:
        return err.code
    return r.code


def _leaked(exp_dir) -> bool:
    return any(
        SECRET in p.read_text(errors="replace")
        for p in exp_dir.rglob("report.ipynb*")
        if p.is_file() and not p.is_symlink()
    )


@pytest.mark.parametrize("force", [False, True])
async def test_a_symlinked_report_is_not_followed(jp_fetch, record, outside_notebook, force):
    exp, _ = record
    (exp.path / "report.ipynb").symlink_to(outside_notebook)
    before = outside_notebook.read_bytes()
    code = await _post_report(jp_fetch, force)
    assert code in (403, 422)
    assert not _leaked(exp.path)
    assert outside_notebook.read_bytes() == before


async def test_a_symlinked_backup_is_not_written_through(jp_fetch, record, outside_notebook):
    exp, _ = record
    (exp.path / "report.ipynb").write_text("not a notebook")  # unreadable: would be copied to .bak
    (exp.path / "report.ipynb.bak").symlink_to(outside_notebook)
    before = outside_notebook.read_bytes()
    code = await _post_report(jp_fetch)
    assert code in (403, 422)
    assert outside_notebook.read_bytes() == before


def test_the_cli_path_refuses_a_symlinked_report_too(record, outside_notebook):
    exp, _ = record
    (exp.path / "report.ipynb").symlink_to(outside_notebook)
    with pytest.raises(RecordError, match="symlink"):
        build_report(exp)
    assert not _leaked(exp.path)


async def test_the_runs_table_does_not_serve_a_symlinked_run_json(jp_fetch, record, jp_root_dir):
    exp, _ = record
    folder = jp_root_dir.parent / "elsewhere"
    folder.mkdir(exist_ok=True)
    manifest = {"run_id": "q-1", "mode": "quick", "status": "completed", "params": {"key": SECRET}}
    (folder / "run.json").write_text(json.dumps(manifest))
    link = exp.path / "quick" / "q-1" / "run.json"
    link.unlink()
    link.symlink_to(folder / "run.json")
    r = await jp_fetch(*API, "experiments", "demo", "table")
    body = r.body.decode()
    assert r.code == 200 and SECRET not in body
    q1 = next(run for run in json.loads(body)["runs"] if run["run_id"] == "q-1")
    assert q1["status"] == "corrupt"


@pytest.fixture
def outside_folder(jp_root_dir):
    folder = jp_root_dir.parent / "elsewhere-figures"
    folder.mkdir(exist_ok=True)
    return folder


async def test_a_symlinked_figures_folder_is_not_written_through(jp_fetch, record, outside_folder):
    """The REST report wrote its figures into the folder ``figures/`` linked to, outside the root."""
    exp, _ = record
    (exp.path / "figures").symlink_to(outside_folder, target_is_directory=True)
    code = await _post_report(jp_fetch)
    assert code in (403, 422)
    assert list(outside_folder.iterdir()) == []


def test_the_cli_report_does_not_write_figures_through_a_symlink(record, outside_folder):
    exp, _ = record
    (exp.path / "figures").symlink_to(outside_folder, target_is_directory=True)
    with pytest.raises(RecordError, match="symlink"):
        build_report(exp)
    assert list(outside_folder.iterdir()) == []
    assert not (exp.path / "report.ipynb").exists()


def test_two_figure_saves_at_once_use_their_own_temporary_files(record, monkeypatch):
    """The temporary figure had one fixed name (.NAME.webp.tmp): two builds at once wrote the same file."""
    import tempfile as tf

    from jupyter_mlexp.report import figure_base

    exp, _ = record
    made = []
    real = tf.mkstemp

    def spy(*args, **kw):
        fd, name = real(*args, **kw)
        made.append(name)
        return fd, name

    monkeypatch.setattr(figure_base.tempfile, "mkstemp", spy)
    build_report(exp)
    figs = [n for n in made if n.endswith(".tmp") and ".webp." in n]
    assert figs and all(n.startswith(str(exp.path / "figures")) for n in figs)
    assert len(set(figs)) == len(figs)
