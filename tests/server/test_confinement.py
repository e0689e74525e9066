"""The REST API confines every file it opens to the workspace: a run's ``run.json``,
``metrics.jsonl`` or the journal that is a symlink out of the root is not served."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

SECRET = "TOPSECRET-7731"
API = ("mlexp", "api")


async def get(jp_fetch, *parts) -> tuple[int, dict]:
    try:
        r = await jp_fetch(*API, *parts)
    except HTTPClientError as err:
        return err.code, json.loads(err.response.body) if err.response is not None else {}
    return r.code, json.loads(r.body)


@pytest.fixture
def outside(jp_root_dir):
    """Files outside the server root holding a secret, shaped like the record files they replace."""
    folder = jp_root_dir.parent / "elsewhere"
    folder.mkdir()
    manifest = {"run_id": "q-1", "mode": "quick", "status": "completed", "params": {"key": SECRET}}
    (folder / "run.json").write_text(json.dumps(manifest))
    (folder / "metrics.jsonl").write_text(json.dumps({"name": "acc", "value": 0.731, "step": 0, "note": SECRET}) + "\n")
    (folder / "notes.md").write_text(f"# Journal\n\n## 2026-01-01T00:00:00\n\n{SECRET}\n")
    return folder


def _link(path, target):
    path.unlink(missing_ok=True)
    path.symlink_to(target)


async def test_a_symlinked_run_json_is_listed_as_corrupt_not_read(jp_fetch, record, outside):
    exp, _ = record
    _link(exp.path / "quick" / "q-1" / "run.json", outside / "run.json")
    for parts in (("runs",), ()):
        code, body = await get(jp_fetch, "experiments", "demo", *parts)
        assert code == 200, body
        assert SECRET not in json.dumps(body)
    code, body = await get(jp_fetch, "experiments", "demo", "runs")
    q1 = next(r for r in body["runs"] if r["run_id"] == "q-1")
    assert q1["status"] == "corrupt" and "symlink" in q1["problem"]
    assert {r["run_id"] for r in body["runs"]} >= {"q-2", "f-1"}


async def test_a_symlinked_metrics_file_is_not_read(jp_fetch, record, outside):
    exp, _ = record
    _link(exp.path / "full" / "f-1" / "metrics.jsonl", outside / "metrics.jsonl")
    code, body = await get(jp_fetch, "experiments", "demo")
    assert code == 200
    assert SECRET not in json.dumps(body) and "0.731" not in json.dumps(body)
    code, body = await get(jp_fetch, "experiments", "demo", "runs", "f-1", "metrics")
    assert code in (403, 404), body
    assert SECRET not in json.dumps(body)


async def test_a_symlinked_journal_is_refused_and_not_appended_to(jp_fetch, record, outside):
    exp, _ = record
    _link(exp.journal_md, outside / "notes.md")
    code, body = await get(jp_fetch, "experiments", "demo", "journal")
    assert code in (403, 404) and SECRET not in json.dumps(body)
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*API, "experiments", "demo", "journal", method="POST", body=json.dumps({"text": "hello"}))
    assert info.value.code in (403, 404)
    assert "hello" not in (outside / "notes.md").read_text()


@pytest.mark.parametrize("name", ["stdout.txt", "run.log"])
async def test_a_symlinked_log_is_not_served(jp_fetch, record, outside, name):
    exp, _ = record
    (outside / name).write_text(SECRET + "\n")
    _link(exp.path / "quick" / "q-2" / name, outside / name)
    code, body = await get(jp_fetch, "experiments", "demo", "runs", "q-2")
    assert code < 500
    assert SECRET not in json.dumps(body)
