"""The ``mlexp`` command's exit codes."""

EXIT_OK = 0
EXIT_RUNS_FAILED = 1  # a run failed, timed out or was interrupted
EXIT_USAGE = 2  # a user error: one line on stderr
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (`mlexp runs | head`), as a shell reports SIGPIPE
