"""A course on JupyterHub: gather students' experiments (:mod:`.collect`), report on the class (:mod:`.report`).

A library, like ``runner/`` and ``report/``: it reads the record through the core and decides
nothing the core decides (the verdict is :func:`jupyter_mlexp.core.stats.verdict.judge`, the audit of a
log is :func:`jupyter_mlexp.core.record.verification.verify_experiment`). ``mlexp class ...`` is its front door.
"""
