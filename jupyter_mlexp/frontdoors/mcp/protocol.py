"""The protocol an agent is held to, in the product's words: the server's instructions, its prompt,
and the AGENTS.md section ``mlexp agent-setup`` writes all say it from here."""

from __future__ import annotations

PROTOCOL = """\
jupyter-mlexp holds an experiment to a protocol; its tools refuse what breaks it.

1. One hypothesis first. hypothesis_register takes a statement, a success criterion
   ('val_acc >= 0.95') and the metrics, before anything runs (run is refused until then).
   Log only the metrics the hypothesis names.
2. The criterion is fixed before results. Changing the hypothesis once it has runs needs a
   reason, and is recorded as a new version with its changes; the verdict says so.
3. Quick runs de-risk (mode='quick', a small budget); full runs over seeds decide
   (mode='full', seeds=[0, 1, 2]). One seed decides nothing: numbers carry their n.
4. The verdict is computed, never written by hand: verdict (or runs) gives supported,
   not supported or inconclusive with its n, intervals and what would decide it.
5. Nothing is deleted: a bad run is excluded with ignore_run and a reason; what looked
   weird goes in the journal (journal_add with tags WEIRD, HUNCH, TODO, RESOLVED, LESSON).
6. Keep or discard by the metric: loop_start, then one committed change per loop_try,
   judged over seeds against the noise floor; a discarded change is kept, not lost.
7. report builds the report notebook from the logged runs only.

Answers are short JSON (at most 2,000 characters): long lists are paged (limit, offset; the
answer's page.next says the next call) and logs are never streamed (run_show gives a tail).
An error says the next tool call to make.
"""
