"""A long journal is quoted in part in the report, with a pointer to the file: the report stays small."""

from __future__ import annotations

from jupyter_mlexp import Experiment
from jupyter_mlexp.report.build import build_report


def test_a_long_journal_gives_a_small_report(workspace):
    exp = Experiment("j")
    exp.register("Warmup helps.\nsuccess: acc >= 0.5\nmetrics: acc")
    run = exp.start_run("quick")
    run.log_metric("acc", 0.6)
    exp.finish_run(run, "completed")
    head = exp.journal_md.read_text()
    body = "the loss curve jumps at the warmup's end, " * 50  # ~2 KB an entry
    entries = [f"## 2026-12-07T03:00:{i % 60:02d}+00:00 [WEIRD]\n\n{i}: {body}\n\n" for i in range(1500)]
    exp.journal_md.write_text(head + "".join(entries))  # ~3 MB of tagged entries
    target = build_report(exp)
    size = target.stat().st_size
    assert size < 200_000, f"report.ipynb is {size:,} bytes"  # every entry quoted: 550 KB
    text = target.read_text()
    assert "1499: the loss curve" in text  # the latest are quoted
    assert "earlier [WEIRD] entries not quoted here: see `JOURNAL.md`" in text
