"""The letter font, Sarabun, installed with the project from PyPI (``fontpkg-sarabun``):
embedded in PDFs, served to the web pages, and read for the characters it draws."""

from pathlib import Path

import fontpkg_sarabun

SARABUN_DIR = Path(fontpkg_sarabun.__file__).resolve().parent / "files"
