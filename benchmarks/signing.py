"""Signing benchmark: milliseconds to sign an issued letter (PAdES with the QR stamp, stored
and recorded), to hand back a copy signed earlier, and to check an uploaded file (hash
look-up and pyHanko's validator), with a self-signed RSA-3072 key on SQLite.
Run by hand: .venv/bin/python benchmarks/signing.py [--letters N]
Prints figures only; asserts nothing. The machine may be shared: say so beside a figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import ARCHIVE_UNIT, make_letter  # noqa: E402

from saraban.archive import (  # noqa: E402
    check_file,
    create_self_signed_key,
    open_archive,
    sign_letter,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, open_archive(Path(tmp) / "home") as archive:
        archive.add_unit(ARCHIVE_UNIT, "ศาลากลางจังหวัดหนองคาย", actor="bench")
        start = time.perf_counter()
        create_self_signed_key(archive, ARCHIVE_UNIT, actor="bench")
        key_ms = (time.perf_counter() - start) * 1000
        ids = [
            archive.issue(make_letter(f"หนังสือทดสอบ {n}"), ARCHIVE_UNIT, actor="bench").id
            for n in range(args.letters + 1)
        ]
        start = time.perf_counter()
        sign_letter(archive, ids[0], actor="bench")  # imports pyHanko, HarfBuzz, the font
        first_ms = (time.perf_counter() - start) * 1000
        sign, again, check = [], [], []
        for letter_id in ids[1:]:
            start = time.perf_counter()
            signed = sign_letter(archive, letter_id, actor="bench")
            sign.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            sign_letter(archive, letter_id, actor="bench")
            again.append((time.perf_counter() - start) * 1000)
            data = signed.path.read_bytes()
            start = time.perf_counter()
            assert check_file(archive, data).authentic
            check.append((time.perf_counter() - start) * 1000)
    print(f"key made (RSA 3072, self-signed): {key_ms:.0f} ms")
    print(f"first signature in the process: {first_ms:.0f} ms")
    for name, values in (("sign", sign), ("signed earlier", again), ("check upload", check)):
        print(
            f"{name}: median {statistics.median(values):.0f} ms, "
            f"max {max(values):.0f} ms over {len(values)} letters"
        )
    print(f"signed file size: {len(data) / 1024:.0f} kB")


if __name__ == "__main__":
    main()
