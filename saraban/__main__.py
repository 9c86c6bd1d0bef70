"""``python -m saraban``: the command line, as the ``saraban`` script runs it."""

import sys

from saraban.cli import main

sys.exit(main())
