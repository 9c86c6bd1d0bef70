"""``python -m saraban``: the command line, as the ``saraban`` script runs it."""

import sys

from saraban.cli import main

if __name__ == "__main__":  # not when a render process imports this main module again
    sys.exit(main())
