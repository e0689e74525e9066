"""The keep/discard loop, all of it: the decision and its statistics (:mod:`.decision`,
:mod:`.keep_rule`), what it keeps on disk (:mod:`.loop_state`, :mod:`.loop_git`), how it is shown
(:mod:`.loop_view`, :mod:`.loop_figure`) and how attempts run (:mod:`.driver`, :mod:`.batch`,
:mod:`.attempt_run`). A library above ``runner``; no front door inside."""
