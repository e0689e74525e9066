"""The report: a scientific write-up built only from what the runs logged.

``build_report(experiment)`` writes ``experiments/<name>/report.ipynb``; see
``docs/report.md``. Modules: ``load`` (read), ``stats`` / ``groups`` (numbers),
``verdict``, ``figures``, ``tables``, ``notebook``, ``summaries``, ``conclude``.
"""

from __future__ import annotations


def build_report(*args, **kwargs):
    from jupyter_mlexp.report.build import build_report as _build

    return _build(*args, **kwargs)


__all__ = ["build_report"]
