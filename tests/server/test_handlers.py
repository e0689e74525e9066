"""The REST API under ``<base_url>/mlexp/api/``: every endpoint, auth, containment, bad bodies, concurrency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlexp.core.experiment import Experiment

from .conftest import HYPOTHESIS, add_run

API = ("mlexp", "api")
REPO = Path(__file__).resolve().parents[2]


async def get(jp_fetch, *parts, **params):
    r = await jp_fetch(*API, *parts, params=params or None)
    return r.code, json.loads(r.body)


async def post(jp_fetch, *parts, body):
    r = await jp_fetch(*API, *parts, method="POST", body=body if isinstance(body, str) else json.dumps(body))
    return r.code, json.loads(r.body)


async def error(coro) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        await coro
    raw = info.value.response.body if info.value.response is not None else b"{}"
    return info.value.code, json.loads(raw or b"{}")


@pytest.fixture
def raw_fetch(http_server_client, jp_base_url, jp_auth_header):
    """Fetch a path exactly as written (jp_fetch would re-escape '%')."""

    def fetch(path: str, method: str = "GET", body: str | None = None):
        return http_server_client.fetch(
            jp_base_url + "mlexp/api/" + path,
            method=method,
            body=body,
            headers=dict(jp_auth_header),
            request_timeout=20,
        )

    return fetch


# -- each endpoint --------------------------------------------------------------------------------


async def test_list_experiments(jp_fetch, record, jp_root_dir):
    code, data = await get(jp_fetch, "experiments")
    assert code == 200
    assert [e["name"] for e in data["experiments"]] == ["demo"]
    assert data["experiments"][0]["version"] == 1
    assert data["experiments"][0]["statement"].startswith("Dropout 0.3")


async def test_list_experiments_empty_root(jp_fetch):
    code, data = await get(jp_fetch, "experiments")
    assert (code, data["experiments"]) == (200, [])


async def test_experiment_detail_has_hypothesis_history_and_verdict(jp_fetch, record):
    exp, _ = record
    exp.register(HYPOTHESIS.replace("acc >= 0.9", "acc >= 0.95"), reason="stricter bar")
    code, data = await get(jp_fetch, "experiments", "demo")
    assert code == 200
    assert data["hypothesis"]["version"] == 2
    assert data["hypothesis"]["success"] == "acc >= 0.95"
    assert [h["version"] for h in data["history"]] == [1, 2]
    assert data["primary_metric"] == "acc"
    # the per-run criterion check: the latest completed full run against the current criterion (0.93 < 0.95)
    check = {"result": "not met", "run_id": "f-1", "mode": "full", "metric": "acc", "value": 0.93}
    assert data["criterion_check"] == check
    # the verdict is the experiment's one verdict: every run was made under v1, so v2 has nothing to judge
    v = data["verdict"]
    assert v["decision"] == "inconclusive" and v["hypothesis_version"] == 2
    assert sorted(v["earlier_runs"]) == ["f-1", "q-1", "q-2"]
    assert "no counted run under hypothesis v2" in v["reason"]
    assert data["counts"] == {"runs": 3, "quick": 2, "full": 1, "ignored": 0}


async def test_unknown_experiment_is_404(jp_fetch, record):
    code, data = await error(get(jp_fetch, "experiments", "nope"))
    assert code == 404 and "nope" in data["message"]


async def test_journal_newest_first_filter_search_and_pages(jp_fetch, record):
    code, data = await get(jp_fetch, "experiments", "demo", "journal")
    assert code == 200
    assert data["total"] == 3
    assert data["entries"][0]["text"].startswith("maybe the warmup")
    assert data["entries"][-1]["tags"] == ["PLANNED"]
    assert data["tags"] == {"PLANNED": 1, "WEIRD": 1, "HUNCH": 1}

    _, weird = await get(jp_fetch, "experiments", "demo", "journal", tag="weird")
    assert [e["text"] for e in weird["entries"]] == ["loss spiked at step 40"]
    _, found = await get(jp_fetch, "experiments", "demo", "journal", q="WARMUP")
    assert found["total"] == 1 and found["entries"][0]["tags"] == ["HUNCH"]
    _, page = await get(jp_fetch, "experiments", "demo", "journal", offset="1", limit="1")
    assert (page["total"], page["offset"], page["limit"]) == (3, 1, 1)
    assert page["entries"][0]["tags"] == ["WEIRD"]


async def test_journal_bad_paging_is_400(jp_fetch, record):
    code, data = await error(get(jp_fetch, "experiments", "demo", "journal", limit="ten"))
    assert code == 400 and "limit" in data["message"]
    code, _ = await error(get(jp_fetch, "experiments", "demo", "journal", offset="-1"))
    assert code == 400


async def test_post_journal_entry(jp_fetch, record):
    exp, _ = record
    code, data = await post(
        jp_fetch, "experiments", "demo", "journal", body={"text": "val loss flat", "tags": ["todo"]}
    )
    assert code == 201
    assert data["entries"][0]["text"] == "val loss flat" and data["entries"][0]["tags"] == ["TODO"]
    assert "[TODO]" in exp.journal_md.read_text() and "val loss flat" in exp.journal_md.read_text()


async def test_post_empty_journal_entry_is_refused(jp_fetch, record):
    code, data = await error(post(jp_fetch, "experiments", "demo", "journal", body={"text": "  "}))
    assert code == 422 and "empty journal entry" in data["message"]


async def test_runs_quick_and_full_with_primary_metric(jp_fetch, record):
    code, data = await get(jp_fetch, "experiments", "demo", "runs")
    assert code == 200
    assert data["primary_metric"] == "acc"
    by_id = {r["run_id"]: r for r in data["runs"]}
    assert by_id["q-1"]["mode"] == "quick" and by_id["f-1"]["mode"] == "full"
    assert by_id["f-1"]["primary_value"] == 0.93 and by_id["f-1"]["status"] == "completed"
    assert by_id["q-1"]["params"] == {"lr": 0.1}
    assert by_id["q-1"]["path"] == "quick/q-1"  # relative: no server paths leak
    assert not any(r["ignored"] for r in data["runs"])


async def test_runs_carry_the_cores_configuration_label(jp_fetch, record):
    """The sidebar shows the label the core uses everywhere (``act=relu``), not one it builds itself."""
    exp, _ = record
    run = exp.start_run("quick", run_id="q-act", params={"act": "relu", "lr": 0.1}, seed=3)
    exp.finish_run(run, "completed")
    code, data = await get(jp_fetch, "experiments", "demo", "runs")
    by_id = {r["run_id"]: r for r in data["runs"]}
    assert by_id["q-act"]["config"] == "act=relu, lr=0.1"  # no seed, sorted, strings bare
    assert by_id["q-1"]["config"] == "lr=0.1"


async def test_ignore_then_unignore(jp_fetch, record):
    exp, _ = record
    code, data = await post(
        jp_fetch, "experiments", "demo", "runs", "q-1", "ignore", body={"reason": "data loader bug"}
    )
    assert code == 200 and data["ignored"]["run_id"] == "q-1"
    assert "- `q-1`: data loader bug" in exp.ignored_md.read_text()

    _, ignored = await get(jp_fetch, "experiments", "demo", "ignored")
    assert [(i["run_id"], i["reason"]) for i in ignored["ignored"]] == [("q-1", "data loader bug")]
    _, runs = await get(jp_fetch, "experiments", "demo", "runs")
    assert {r["run_id"]: r["ignored_reason"] for r in runs["runs"]}["q-1"] == "data loader bug"

    code, data = await post(jp_fetch, "experiments", "demo", "runs", "q-1", "unignore", body={})
    assert (code, data) == (200, {"unignored": "q-1"})
    assert "q-1" not in exp.ignored_md.read_text()
    _, ignored = await get(jp_fetch, "experiments", "demo", "ignored")
    assert ignored["ignored"] == []


async def test_ignore_needs_a_reason(jp_fetch, record):
    code, data = await error(post(jp_fetch, "experiments", "demo", "runs", "q-1", "ignore", body={"reason": ""}))
    assert code == 422 and "reason" in data["message"]
    code, data = await error(post(jp_fetch, "experiments", "demo", "runs", "q-1", "ignore", body={}))
    assert code == 400 and "reason" in data["message"]


async def test_unknown_run_is_404(jp_fetch, record):
    code, data = await error(post(jp_fetch, "experiments", "demo", "runs", "zz-9", "ignore", body={"reason": "x"}))
    assert code == 404 and "zz-9" in data["message"]


async def test_unignore_of_counted_run_is_an_error(jp_fetch, record):
    code, data = await error(post(jp_fetch, "experiments", "demo", "runs", "q-2", "unignore", body={}))
    assert code == 422 and "not ignored" in data["message"]


# -- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("GET", "experiments", None),
        ("GET", "experiments/demo", None),
        ("GET", "experiments/demo/journal", None),
        ("POST", "experiments/demo/journal", '{"text": "sneaky"}'),
        ("GET", "experiments/demo/runs", None),
        ("GET", "experiments/demo/ignored", None),
        ("POST", "experiments/demo/runs/q-1/ignore", '{"reason": "sneaky"}'),
        ("POST", "experiments/demo/runs/q-1/unignore", "{}"),
    ],
)
async def test_no_token_is_403(http_server_client, jp_base_url, record, method, path, body):
    exp, _ = record
    before = (exp.journal_md.read_text(), exp.ignored_md.exists())
    with pytest.raises(HTTPClientError) as info:
        await http_server_client.fetch(
            jp_base_url + "mlexp/api/" + path, method=method, body=body, headers={"Authorization": ""}
        )
    assert info.value.code == 403
    assert (exp.journal_md.read_text(), exp.ignored_md.exists()) == before


# -- containment ----------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path):
    """A would-be experiment outside the server root, with files an escape could read or change."""
    out = tmp_path / "outside"
    exp = Experiment("secret", out)
    exp.register(HYPOTHESIS)
    exp.add_journal("secret journal entry")
    add_run(exp, "quick", 0.5, run_id="s-1")
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and not p.name.endswith(".lock")}
    return exp, snapshot


def unchanged(snapshot) -> bool:
    return all(p.exists() and p.read_bytes() == b for p, b in snapshot.items())


@pytest.mark.parametrize(
    "name",
    [
        "..",
        "%2E%2E",
        "..%2F..%2Foutside%2Fexperiments%2Fsecret",
        "%2Fetc",
        "%2Ftmp%2Foutside",
        "a%2F..%2F..%2Fsecret",
        ".hidden",
        "%5C..%5Csecret",
    ],
)
@pytest.mark.parametrize(
    "suffix,method,body",
    [
        ("", "GET", None),
        ("/journal", "GET", None),
        ("/journal", "POST", '{"text": "escaped"}'),
        ("/runs", "GET", None),
        ("/ignored", "GET", None),
        ("/runs/s-1/ignore", "POST", '{"reason": "escaped"}'),
    ],
)
async def test_names_that_climb_out_are_refused(raw_fetch, record, outside, name, suffix, method, body):
    _, snapshot = outside
    with pytest.raises(HTTPClientError) as info:
        await raw_fetch(f"experiments/{name}{suffix}", method=method, body=body)
    assert info.value.code in (400, 404)
    if info.value.response is not None and info.value.code == 400:
        assert "message" in json.loads(info.value.response.body)
    assert unchanged(snapshot)


@pytest.mark.parametrize("run_id", ["..%2F..%2Fquick%2Fq-1", "..", "%2Fetc%2Fpasswd", "q-1%2F.."])
async def test_run_ids_that_climb_out_are_refused(raw_fetch, record, run_id):
    exp, _ = record
    with pytest.raises(HTTPClientError) as info:
        await raw_fetch(f"experiments/demo/runs/{run_id}/ignore", method="POST", body='{"reason": "escaped"}')
    assert info.value.code in (400, 404)
    assert not exp.ignored_md.exists()


async def test_symlinked_experiment_leading_outside_is_refused(jp_fetch, jp_root_dir, record, outside):
    secret, snapshot = outside
    (jp_root_dir / "experiments" / "leak").symlink_to(secret.path, target_is_directory=True)
    for parts in (("leak",), ("leak", "journal"), ("leak", "runs"), ("leak", "ignored")):
        code, data = await error(get(jp_fetch, "experiments", *parts))
        assert code == 404 and "not inside" in data["message"]
    code, _ = await error(post(jp_fetch, "experiments", "leak", "journal", body={"text": "escaped"}))
    assert code == 404
    code, _ = await error(post(jp_fetch, "experiments", "leak", "runs", "s-1", "ignore", body={"reason": "escaped"}))
    assert code == 404
    _, listed = await get(jp_fetch, "experiments")
    assert [e["name"] for e in listed["experiments"]] == ["demo"]
    assert unchanged(snapshot)


async def test_symlinked_experiments_folder_leading_outside_is_refused(jp_fetch, jp_root_dir, outside):
    secret, snapshot = outside
    (jp_root_dir / "experiments").symlink_to(secret.base, target_is_directory=True)
    code, _ = await error(get(jp_fetch, "experiments", "secret", "journal"))
    assert code == 404
    code, _ = await error(post(jp_fetch, "experiments", "secret", "journal", body={"text": "escaped"}))
    assert code == 404
    _, listed = await get(jp_fetch, "experiments")
    assert listed["experiments"] == []
    assert unchanged(snapshot)


async def test_symlinked_journal_leading_outside_is_refused(jp_fetch, record, outside):
    exp, _ = record
    secret, snapshot = outside
    exp.journal_md.unlink()
    exp.journal_md.symlink_to(secret.journal_md)
    code, _ = await error(get(jp_fetch, "experiments", "demo", "journal"))
    assert code == 404
    code, _ = await error(post(jp_fetch, "experiments", "demo", "journal", body={"text": "escaped"}))
    assert code == 404
    assert unchanged(snapshot)


# -- bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["experiments/demo/journal", "experiments/demo/runs/q-1/ignore", "experiments/demo/runs/q-1/unignore"]
)
@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "\xff\xfe"])
async def test_malformed_body_is_400(raw_fetch, record, path, body):
    exp, _ = record
    before = exp.journal_md.read_text()
    with pytest.raises(HTTPClientError) as info:
        await raw_fetch(path, method="POST", body=body)
    assert info.value.code == 400
    assert json.loads(info.value.response.body)["message"]
    assert exp.journal_md.read_text() == before and not exp.ignored_md.exists()


async def test_wrong_types_are_400(jp_fetch, record):
    code, data = await error(post(jp_fetch, "experiments", "demo", "journal", body={"text": 3}))
    assert code == 400 and "'text'" in data["message"]
    code, data = await error(post(jp_fetch, "experiments", "demo", "journal", body={"text": "x", "tags": "WEIRD"}))
    assert code == 400 and "'tags'" in data["message"]


# -- concurrency ----------------------------------------------------------------------------------


async def test_post_while_another_process_appends_keeps_both(jp_fetch, jp_root_dir, record):
    exp, _ = record
    writer = textwrap.dedent(f"""
        import sys
        from jupyter_mlexp.core.experiment import Experiment
        exp = Experiment("demo", {str(jp_root_dir)!r})
        print("ready", flush=True)
        for i in range(60):
            exp.add_journal(f"kernel entry {{i}}", tags=["NOTE"])
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", writer], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    for i in range(30):
        code, _ = await post(
            jp_fetch, "experiments", "demo", "journal", body={"text": f"ui entry {i}", "tags": ["TODO"]}
        )
        assert code == 201
    assert proc.wait(timeout=60) == 0
    texts = [e.text for e in exp.journal().entries]
    assert sorted(t for t in texts if t.startswith("kernel entry")) == sorted(f"kernel entry {i}" for i in range(60))
    assert sorted(t for t in texts if t.startswith("ui entry")) == sorted(f"ui entry {i}" for i in range(30))
    assert exp.journal().warnings == []


# -- workspace root -------------------------------------------------------------------------------


async def test_mlexp_root_overrides_server_root(jp_fetch, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    Experiment("other", elsewhere).register(HYPOTHESIS)
    monkeypatch.setenv("MLEXP_ROOT", str(elsewhere))
    _, data = await get(jp_fetch, "experiments")
    assert [e["name"] for e in data["experiments"]] == ["other"]


async def test_extension_is_enabled(jp_serverapp):
    assert "jupyter_mlexp" in jp_serverapp.extension_manager.extensions


def test_openapi_spec_documents_every_route():
    import re

    import yaml

    from jupyter_mlexp.frontdoors.server.class_handlers import ROUTES as CLASS_ROUTES
    from jupyter_mlexp.frontdoors.server.handlers import ROUTES
    from jupyter_mlexp.frontdoors.server.run_handlers import ROUTES as RUN_ROUTES

    spec = yaml.safe_load((REPO / "docs" / "rest-api.yaml").read_text())
    routes = set()
    for path, handler in ROUTES + RUN_ROUTES + CLASS_ROUTES:
        templated = "/" + path.replace("([0-9]{1,6})", "{n}")
        for param in ("{name}", "{tag}" if "/loops/" in path else "{run_id}"):
            templated = templated.replace("([^/]+)", param, 1)
        verbs = {m for m in ("get", "post") if m.upper() in handler.__dict__ or m in handler.__dict__}
        routes.add((templated, frozenset(verbs)))
    documented = {(p, frozenset(k for k in ops if k in ("get", "post"))) for p, ops in spec["paths"].items()}
    assert documented == routes
    assert all(re.match(r"^/experiments", p) or p == "/class" for p, _ in documented)
    # what every handler may answer: 403 (token, or a symlink out of the root); 413 for a body too large
    for path, ops in spec["paths"].items():
        for verb in ("get", "post"):
            if verb in ops:
                codes = set(ops[verb]["responses"])
                assert "403" in codes, (path, verb)
                assert verb == "get" or "413" in codes, (path, verb)
                for answer in ops[verb]["responses"].values():
                    if "$ref" in answer:
                        assert answer["$ref"].rsplit("/", 1)[1] in spec["components"]["responses"], answer


async def test_experiment_folder_without_hypothesis(jp_fetch, jp_root_dir):
    (jp_root_dir / "experiments" / "draft").mkdir(parents=True)
    code, data = await get(jp_fetch, "experiments", "draft")
    assert code == 200
    assert (data["hypothesis"], data["verdict"], data["criterion_check"], data["history"]) == (None, None, None, [])
    _, runs = await get(jp_fetch, "experiments", "draft", "runs")
    assert runs == {"stamp": runs["stamp"], "primary_metric": None, "runs": []}


async def test_criterion_check_waits_for_a_completed_counted_run(jp_fetch, jp_root_dir):
    exp = Experiment("fresh", jp_root_dir)
    exp.register(HYPOTHESIS)
    _, data = await get(jp_fetch, "experiments", "fresh")
    assert data["criterion_check"] is None and data["verdict"]["decision"] == "inconclusive"
    assert data["verdict"]["reason"] == "criterion not measured: no run was made"
    add_run(exp, "quick", 0.95, run_id="q-9")
    _, data = await get(jp_fetch, "experiments", "fresh")
    assert data["criterion_check"]["result"] == "met" and data["criterion_check"]["mode"] == "quick"
    # one run meeting the criterion is a criterion check, not a verdict: one seed cannot support the claim
    assert data["verdict"]["decision"] == "inconclusive" and "too few seeds" in data["verdict"]["reason"]
    exp.ignore("q-9", "smoke test only")
    _, data = await get(jp_fetch, "experiments", "fresh")
    assert data["criterion_check"] is None
