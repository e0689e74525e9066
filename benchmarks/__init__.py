"""Benchmarks: one ``bench_*.py`` module per figure an issue names; see ``__main__``."""
