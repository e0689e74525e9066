"""The jupyter_server extension: a REST API over the experiment record.

``api`` turns core calls into JSON-ready dicts and keeps every path inside the
workspace root; ``handlers`` only adapts HTTP to it.
"""
