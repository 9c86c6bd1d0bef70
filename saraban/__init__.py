"""saraban: Thai government correspondence (งานสารบรรณ).

The ``saraban`` package holds what every other package shares: Thai conventions
(:mod:`saraban.thai`), the letter document (:mod:`saraban.letter`), errors and the CLI.
"""

__version__ = "0.1.0.dev0"
