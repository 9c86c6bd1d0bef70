"""Letters by e-mail: a real IMAP server (Dovecot, as the tests start it) holding ``--mails``
unread e-mails, each with one seed letter attached (a different date each, so none is a
duplicate of another), read by ``saraban consume --imap`` as a whole process.

    .venv/bin/python benchmarks/mailbox.py [--mails 100] [--enclosures]

``--enclosures``: each e-mail also carries its letter's report form (text) and a spreadsheet,
kept with the letter (one received letter an e-mail, with two files).

Printed: the seconds to copy the mailbox into the folder (``fetch_mail`` alone, in this
process) and the seconds of the whole command that copies and takes in (a second mailbox
folder, the same e-mails), with CPU time beside wall time, and the load average: the machine
is shared, so say it beside the figures.
"""

from __future__ import annotations

import argparse
import email.message
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from imap_server import PASSWORD, USER, ImapServer, find_dovecot  # noqa: E402

from saraban.archive import open_archive  # noqa: E402
from saraban.usecases import mailbox  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
UNIT = "นค ๐๐๑๙.๓"
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def _letters(count: int) -> list[bytes]:
    """``count`` seed texts made distinct letters: each its own number and date (the
    intake refuses a second copy of one letter)."""
    seeds = sorted(SEEDS.glob("*.txt"))
    found = []
    for n in range(count):
        text = seeds[n % len(seeds)].read_text(encoding="utf-8")
        day, month = 1 + n % 28, 1 + (n // 28) % 12
        stamp = f"{day} {['มกราคม', 'กุมภาพันธ์', 'มีนาคม', 'เมษายน', 'พฤษภาคม', 'มิถุนายน', 'กรกฎาคม', 'สิงหาคม', 'กันยายน', 'ตุลาคม', 'พฤศจิกายน', 'ธันวาคม'][month - 1]} 2567"  # noqa: E501
        text = re.sub(
            r"[๐-๙\d]{1,2}\s+\S+\s+(พ\.ศ\.\s*)?[๒2][๕5][๐-๙\d]{2}",
            stamp.translate(THAI_DIGITS),
            text,
            count=1,
        )
        number = f"ที่ นค ๐๐๑๙.๓/{1000 + n}".translate(THAI_DIGITS)
        text = re.sub(r"^ที่ .*$", number, text, count=1, flags=re.MULTILINE)
        found.append(text.encode())
    return found


FORM = "แบบรายงานผลการดำเนินงาน\nลำดับ หมู่บ้าน จำนวนครัวเรือน จำนวนสมาชิก\n".encode()
SHEET = b"PK\x03\x04" + bytes(range(256)) * 40  # kept, never opened


def _mail(n: int, letter: bytes, *, enclosures: bool) -> bytes:
    message = email.message.EmailMessage()
    message["From"] = f"district{n}@example.go.th"
    message["Subject"] = f"หนังสือฉบับที่ {n}"
    message.set_content("ส่งหนังสือมาตามแนบ")
    message.add_attachment(letter, maintype="text", subtype="plain", filename=f"letter-{n}.txt")
    if enclosures:
        message.add_attachment(FORM, maintype="text", subtype="plain", filename=f"form-{n}.txt")
        sheet = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        message.add_attachment(SHEET, maintype=sheet[0], subtype=sheet[1], filename=f"{n}.xlsx")
    return message.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=100)
    parser.add_argument("--enclosures", action="store_true", help="a form and a sheet each")
    args = parser.parse_args()
    binary = find_dovecot()
    if binary is None:
        sys.exit("Dovecot (dovecot-imapd) not found: run scripts/setup --test")
    print(f"load at start: {os.getloadavg()[0]:.2f}")
    server = ImapServer(binary)
    server.start()
    try:
        letters = _letters(args.mails)
        for folder in ("fetch-only", "whole"):
            for n, letter in enumerate(letters):
                server.deliver(_mail(n, letter, enclosures=args.enclosures), folder)
        os.environ["SSL_CERT_FILE"] = str(server.cert)
        with tempfile.TemporaryDirectory(prefix="saraban-mailbox-bench-") as tmp:
            imap = mailbox.ImapSettings(
                "localhost", server.ssl_port, "ssl", USER, PASSWORD, "fetch-only"
            )
            started, cpu = time.perf_counter(), time.process_time()
            fetched = mailbox.fetch_mail(imap, Path(tmp) / "inbox", max_bytes=100 * 2**20)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(
                f"copy {len(fetched.copied)} e-mails into the folder (SSL): {wall:.2f} s wall, "
                f"{cpu:.2f} s CPU, {len(fetched.copied) / wall:.0f} e-mails/s"
            )
            home = Path(tmp) / "home"
            with open_archive(home) as archive:
                archive.add_unit(UNIT, "ศาลากลางจังหวัด", actor="bench")
            env = {
                **os.environ,
                "SARABAN_HOME": str(home),
                "SARABAN_IMAP_HOST": "localhost",
                "SARABAN_IMAP_PORT": str(server.ssl_port),
                "SARABAN_IMAP_USER": USER,
                "SARABAN_IMAP_PASSWORD": PASSWORD,
                "SARABAN_IMAP_FOLDER": "whole",
            }
            env.pop("SARABAN_DATABASE_URL", None)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(
                [str(Path(sys.executable).with_name("saraban")), "consume", "--imap"]
                + ["--register", UNIT, "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            with open_archive(home) as archive:
                received = archive.received()
                files = sum(len(archive.enclosed_files(r.letter_id)) for r in received)
            print(
                f"saraban consume --imap, {args.mails} e-mails: {wall:.1f} s wall, "
                f"{cpu:.1f} s CPU (with its reading processes), {len(received)} received "
                f"letters with {files} files kept beside them, {args.mails / wall:.1f} "
                f"e-mails/s; exit {done.returncode}"
            )
            if done.returncode not in (0, 1):
                print(done.stderr[-2000:])
    finally:
        server.stop()
    print(f"load at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
