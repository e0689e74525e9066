"""Front doors: thin adapters from a user's way in onto the core and the libraries.

``cli`` (the ``mlexp`` command), ``magics`` (IPython), ``server`` (the REST API
for the JupyterLab sidebar) and ``widgets`` (ipywidgets). Each translates the
library's :class:`~jupyter_mlexp.core.errors.MlexpError` once: an exit code and
one line, a ``UsageError``, an HTTP status with a JSON message.
"""
