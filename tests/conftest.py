"""Shared test fixtures and paths.

``SEEDS`` holds the five seed letters (``*.txt`` PDF text extraction, ``*.letter.json``
ground truth), copied from the project's shared folder so that a clone tests on its own.
"""

from pathlib import Path

DATA = Path(__file__).parent / "data"
SEEDS = DATA / "seeds"
SHARED = Path(__file__).parents[2] / "shared"  # beside the checkout; absent in a bare clone
