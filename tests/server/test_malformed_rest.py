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
    for case in CASES:
        name = _name(case)
        for parts in ((name,), (name, "runs"), (name, "journal"), (name, "ignored")):
            code, body = await fetch("experiments", *parts)
            assert code < 500, (case, parts, code, body)
            if code != 200:
                one_line(body["message"])
            elif parts[-1] == "runs":
                good_runs_listed(case, json.dumps(body))
    assert_unchanged(before, jp_root_dir)
