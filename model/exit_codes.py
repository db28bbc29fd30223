"""Exit statuses shared by every ``snaptex`` command (listed in ``snaptex --help``)."""

EXIT_OK = 0  # everything asked for was done
EXIT_INPUT_FAILED = 1  # some inputs (images, examples) failed; the others were done
EXIT_USAGE = 2  # a bad flag or value, or no model/data to work with: nothing was done
EXIT_MISSING_LIBRARIES = 3  # the app: system libraries Qt needs are missing (named)
EXIT_NO_DISPLAY = 4  # the app: no X11 or Wayland display to open a window on
EXIT_INTERRUPTED = 130  # Ctrl-C

EXIT_CODES = (
    (EXIT_OK, "success"),
    (EXIT_INPUT_FAILED, "some inputs failed (each is reported; the others were done),\n"
                        "       or the request could not be done (--quit: no app running)"),
    (EXIT_USAGE, "usage error: bad flags or values, or the model or data cannot be\n"
                 "       loaded; nothing was done"),
    (EXIT_MISSING_LIBRARIES, "the app cannot open a window: system libraries are missing (the\n"
                             "       message names the packages and the install command)"),
    (EXIT_NO_DISPLAY, "the app found no display (no DISPLAY or WAYLAND_DISPLAY)"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)
