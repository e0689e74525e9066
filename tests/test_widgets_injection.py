"""``%mlexp panel`` shows every text from the record as text: no payload becomes live HTML."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "report"))
from test_report_injection import PAYLOADS, audit

from jupyter_mlexp.frontdoors.widgets import panel


def test_panel_escapes_every_text_from_the_record(experiment):
    joined = " ".join(p.replace("\n", " ") for p in PAYLOADS)
    for i, p in enumerate(PAYLOADS):
        experiment.add_journal(p, tags=["WEIRD"] if i % 2 else [])
    run = experiment.start_run("quick", run_id="q-1", params={"lr": 0.1}, seed=0)
    run.log_metric("val_acc", 0.5)
    experiment.finish_run(run, "completed")
    experiment.ignore("q-1", joined)
    idea = json.loads(experiment.idea_json.read_text())
    # a hand edit of idea.json: every field the panel shows holds a payload
    idea.update(statement=joined, stage=PAYLOADS[1], success="val_acc >= 0.9 " + PAYLOADS[4])
    idea["metrics"] = ["val_acc", PAYLOADS[8]]
    experiment.idea_json.write_text(json.dumps(idea))
    p = panel(experiment)
    shown = [p.hypothesis.value, p.entries.value, p.runs_table.value, p.ignored_list.value, p.status.value]
    for value in shown:
        found = audit(value).found
        assert not found, (found, value[:300])
    assert "PWNED0" in p.entries.value and "PWNED0" in p.ignored_list.value and "PWNED4" in p.hypothesis.value
