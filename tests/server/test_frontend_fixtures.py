"""The frontend's test fixtures say what the server says: a list copied into TypeScript cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jupyter_mlexp.core.experiment import Experiment
from jupyter_mlexp.core.record.journal import TAGS
from jupyter_mlexp.frontdoors.server import record_views as api

FIXTURES = Path(__file__).resolve().parents[2] / "labextension" / "test" / "fixtures.ts"


def test_fixture_entry_tags_are_the_servers(tmp_path):
    found = re.search(r"export const ENTRY_TAGS = (\[[^\]]*\]);", FIXTURES.read_text())
    assert found, "labextension/test/fixtures.ts no longer exports ENTRY_TAGS"
    fixture = json.loads(found.group(1).replace("'", '"'))
    Experiment("demo", tmp_path).register("Wider layers help\nsuccess: acc >= 0.9\nmetrics: acc")
    assert fixture == api.journal_page(tmp_path, "demo")["entry_tags"] == list(TAGS)
