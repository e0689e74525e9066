"""``mlexp mcp``: the agents' front door, a Model Context Protocol server over stdio.

Each tool is a thin call into the functions the CLI calls (``core.views``, ``core.verdict``,
``Experiment``), or, for what runs code (a run, a loop attempt), the ``mlexp`` command itself in a
child process, so a cancelled call stops it the way Ctrl-C stops ``mlexp run``. Modules:
``answers`` (compact, paged answers and the one error translation), ``confine`` (the workspace),
``jobs`` (child processes, progress, cancellation), ``tools_read`` / ``tools_write`` (the tools),
``server`` (resources, the prompt, ``main``), ``protocol`` (the words an agent is held to) and
``agent_setup`` (``mlexp agent-setup``). Only ``server`` and the tool modules import the ``mcp``
SDK (the optional extra ``jupyter-mlexp[agents]``).
"""
