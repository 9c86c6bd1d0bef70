"""Write the built-in forms' .docx templates from their designs (templates/forms/_catalogue.py).

    .venv/bin/python scripts/make_forms.py            # rewrite templates/forms/docx/*.docx
    .venv/bin/python scripts/make_forms.py --check    # exit 1 if a committed file is stale
    .venv/bin/python scripts/make_forms.py --pictures # docs/img/forms-*.png (needs pdftoppm)

The templates are generated with python-docx, so they are reviewed as code; the committed
files let a clerk open and inspect them in Word. ``tests/test_forms.py`` checks that they
are up to date (same document and styles XML as a fresh build).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from saraban.templates.forms._build import DOCX_DIR, build_all, stale  # noqa: E402


def _say(*parts: object, **options) -> None:
    """This program's output (the one place it prints)."""
    print(*parts, **options)  # noqa: T201


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    parser.add_argument(
        "--pictures",
        action="store_true",
        help="also draw docs/img/forms-*.png from the sample data",
    )
    args = parser.parse_args(argv)
    if args.check:
        old = stale()
        for name in old:
            _say(f"stale: {DOCX_DIR / name}", file=sys.stderr)
        return 1 if old else 0
    for path in build_all():
        _say(path)
    if args.pictures:
        for path in pictures():
            _say(path)
    return 0


def pictures() -> list[Path]:
    """Every page of each form filled with its sample (tests/data/forms/NAME.json), and the
    first page of each blank form, at 60 dpi, for docs/forms.md."""
    from saraban.templates.forms import blank_pdf, fill_pdf, list_forms

    out_dir = ROOT / "docs" / "img"
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("forms-*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        for form in list_forms():
            data = json.loads((ROOT / "tests/data/forms" / f"{form.name}.json").read_text())
            for suffix, pdf, pages in (
                ("", fill_pdf(form.name, data), []),
                ("-blank", blank_pdf(form.name), ["-l", "1"]),
            ):
                source = Path(tmp) / f"{form.name}{suffix}.pdf"
                source.write_bytes(pdf)
                subprocess.run(
                    [
                        "pdftoppm",
                        "-png",
                        "-r",
                        "60",
                        *pages,
                        str(source),
                        str(out_dir / f"forms-{form.name}{suffix}"),
                    ],
                    check=True,
                )
    return sorted(out_dir.glob("forms-*.png"))


if __name__ == "__main__":
    sys.exit(main())
