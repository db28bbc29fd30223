"""Exit statuses shared by every ``snaptex`` command (listed in ``snaptex --help``)."""

EXIT_OK = 0  # everything asked for was done
EXIT_INPUT_FAILED = 1  # some inputs (images, examples) failed; the others were done
EXIT_USAGE = 2  # a bad flag or value, or no model/data to work with: nothing was done
EXIT_INTERRUPTED = 130  # Ctrl-C

EXIT_CODES = (
    (EXIT_OK, "success"),
    (EXIT_INPUT_FAILED, "some inputs failed (each is reported; the others were done),\n"
                        "       or the request could not be done (--quit: no app running)"),
    (EXIT_USAGE, "usage error: bad flags or values, or the model or data cannot be\n"
                 "       loaded; nothing was done"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)
