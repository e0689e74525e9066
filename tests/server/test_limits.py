"""Input limits on the REST API: a body too large is 413, nesting too deep is 400, each with one clear
line; a journal page never ships megabytes, whatever the journal holds."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlexp.frontdoors.server import base as handlers

API = ("mlexp", "api")


async def post(jp_fetch, *parts, body: str) -> tuple[int, dict]:
    try:
        r = await jp_fetch(*API, *parts, method="POST", body=body)
    except HTTPClientError as err:
        return err.code, json.loads(err.response.body) if err.response is not None else {}
    return r.code, json.loads(r.body)


def one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message


async def test_a_ten_megabyte_entry_is_refused_and_not_written(jp_fetch, record):
    exp, _ = record
    before = exp.journal_md.read_bytes()
    code, body = await post(jp_fetch, "experiments", "demo", "journal", body=json.dumps({"text": "x" * 10_000_000}))
    assert code == 413
    one_line(body["message"])
    assert "limit" in body["message"]
    assert exp.journal_md.read_bytes() == before


async def test_an_entry_over_the_entry_limit_is_413(jp_fetch, record):
    text = "y" * (handlers.MAX_ENTRY_CHARS + 1)
    code, body = await post(jp_fetch, "experiments", "demo", "journal", body=json.dumps({"text": text}))
    assert code == 413 and str(handlers.MAX_ENTRY_CHARS) in body["message"]
    code, _ = await post(jp_fetch, "experiments", "demo", "journal", body=json.dumps({"text": "y" * 1000}))
    assert code == 201


async def test_a_long_ignore_reason_is_413(jp_fetch, record):
    body = json.dumps({"reason": "z" * (handlers.MAX_REASON_CHARS + 1)})
    code, answer = await post(jp_fetch, "experiments", "demo", "runs", "q-1", "ignore", body=body)
    assert code == 413
    one_line(answer["message"])


@pytest.mark.parametrize("depth", [100, 100_000])
async def test_deep_nesting_is_400_not_500(jp_fetch, record, depth):
    body = '{"text": ' + "[" * depth + "]" * depth + "}"
    code, answer = await post(jp_fetch, "experiments", "demo", "journal", body=body)
    assert code in (400, 413), answer
    one_line(answer["message"])


async def test_too_many_tags_is_400(jp_fetch, record):
    body = json.dumps({"text": "hello", "tags": ["T"] * 1000})
    code, answer = await post(jp_fetch, "experiments", "demo", "journal", body=body)
    assert code == 400
    one_line(answer["message"])


async def test_a_page_never_ships_megabytes(jp_fetch, record):
    exp, _ = record
    for i in range(5):  # written by hand or by a front door without the REST limit
        exp.add_journal(f"entry {i} " + "w" * 3_000_000)
    r = await jp_fetch(*API, "experiments", "demo", "journal", params={"limit": "500"})
    assert len(r.body) < 1_000_000
    page = json.loads(r.body)
    assert page["total"] == 8 and len(page["entries"]) == 8
    big = [e for e in page["entries"] if e["text"].startswith("entry")]
    assert all(e["truncated"] and e["length"] > 3_000_000 for e in big)
    small = [e for e in page["entries"] if not e["text"].startswith("entry")]
    assert small and not any(e["truncated"] for e in small)
