"""The core: the record on disk and the run life cycle, with no IPython, tornado or CLI.

Everything a front door (``jupyter_mlexp.frontdoors``) or a library
(``jupyter_mlexp.runner``, ``jupyter_mlexp.report``) does to the record goes
through these modules. A test (``tests/test_layers.py``) keeps the core free of
front-door and framework imports.
"""
