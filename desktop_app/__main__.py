"""``python -m desktop_app`` is ``snaptex``."""

import sys

from desktop_app.cli import main

sys.exit(main())
