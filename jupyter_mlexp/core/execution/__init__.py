"""The run life cycle: a run's folder and files, the metric writer, the budget, the processes a run
started, seeds and provenance. Every way of running (``%%run_quick``, ``mlexp run``, scripts, the
loop) goes through :mod:`.lifecycle`."""
