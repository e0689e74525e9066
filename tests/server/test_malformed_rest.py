"""The REST front door fed the malformed records of ``tests/test_malformed_record.py``.

Every endpoint of every broken experiment answers 200 with the good runs listed, or an error
status below 500 with a one-line message; no file of the record changes.
"""

from __future__ import annotations

import json

from test_malformed_record import CASES, _name, assert_unchanged, build_workspace, good_runs_listed, one_line, snapshot
from tornado.httpclient import HTTPClientError

# ``tests/`` is on sys.path (pytest's rootdir insertion for the ``server`` package), so the cases are shared.


async def test_rest(jp_fetch, jp_root_dir):
    build_workspace(jp_root_dir)
    before = snapshot(jp_root_dir)

    async def fetch(*parts) -> tuple[int, dict]:
        try:
            r = await jp_fetch("mlexp", "api", *parts)
        except HTTPClientError as err:
            body = json.loads(err.response.body) if err.response is not None else {}
            return err.code, body
        return r.code, json.loads(r.body)

    code, listing = await fetch("experiments")
    assert code == 200
    assert len(listing["experiments"]) == len(CASES)
    reads = (
        (),
        ("runs",),
        ("journal",),
        ("ignored",),
        ("table",),
        ("loops",),
        ("runs", "q-1"),
        ("runs", "q-bad"),
        ("runs", "q-1", "metrics"),
        ("runs", "q-bad", "metrics"),
    )
    for case in CASES:
        name = _name(case)
        for parts in reads:
            code, body = await fetch("experiments", name, *parts)
            assert code < 500, (case, parts, code, body)
            if code != 200:
                one_line(body["message"])
            elif parts in (("runs",), ("table",)):
                good_runs_listed(case, json.dumps(body))
    assert_unchanged(before, jp_root_dir)


async def test_rest_writes(jp_fetch, jp_root_dir):
    """The POSTs on every broken experiment: a change or a one-line refusal, never a 500."""
    build_workspace(jp_root_dir)

    async def post(*parts, body) -> tuple[int, dict]:
        try:
            r = await jp_fetch("mlexp", "api", *parts, method="POST", body=json.dumps(body))
        except HTTPClientError as err:
            return err.code, json.loads(err.response.body) if err.response is not None else {}
        return r.code, json.loads(r.body)

    writes = (
        (("journal",), {"text": "checked the broken file", "tags": ["TODO"]}),
        (("runs", "q-1", "ignore"), {"reason": "fuzz"}),
        (("runs", "q-1", "unignore"), {}),
        (("report",), {}),
    )
    for case in CASES:
        for parts, body in writes:
            code, answer = await post("experiments", _name(case), *parts, body=body)
            assert code < 500, (case, parts, code, answer)
            if code >= 400:
                one_line(answer["message"])
