"""The archive's commands: ``saraban register``, ``issue``, ``reserve``, ``release``,
``cancel``, ``receive``, ``letters``, ``verify``, ``registers export`` and
``retention due``. Each opens the archive in the instance folder (``SARABAN_HOME``; the
database from ``SARABAN_DATABASE_URL`` or the SQLite file inside it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from saraban.archive._archive import Archive, default_actor, open_settings_archive
from saraban.errors import BadRequest, SarabanError
from saraban.settings import Settings
from saraban.vocabulary import SECRECIES


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"วันที่ต้องเป็นแบบ YYYY-MM-DD (ค.ศ.) / a date must be YYYY-MM-DD: {text!r}"
        ) from None


def _retention(text: str) -> int | None:
    if text in ("never", "ห้ามทำลาย"):
        return None
    if not text.isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"อายุการเก็บต้องเป็นจำนวนปี หรือ never / retention must be years or 'never': {text!r}"
        )
    return int(text)


def _add_actor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor", default=None, help="who does it, for the audit trail (default: your login)"
    )


def register(sub: argparse._SubParsersAction) -> None:
    reg = sub.add_parser("register", help="units and their registers / ส่วนราชการและทะเบียน")
    reg_sub = reg.add_subparsers(dest="register_command", metavar="ACTION", required=True)
    add = reg_sub.add_parser(
        "add",
        help="add a unit issuing under a reference prefix / เพิ่มส่วนราชการ",
        description="Add a unit and (unless --register names an existing one) its register.",
    )
    add.add_argument("--prefix", required=True, help='reference prefix, e.g. "นค ๐๐๑๙.๓"')
    add.add_argument("--name", required=True, help="the unit's name as printed as sender")
    add.add_argument("--register", help="share this existing register instead of a new one")
    add.add_argument("--address", action="append", default=[], help="an address line (repeat)")
    add.add_argument("--phone")
    add.add_argument("--fax")
    add.add_argument("--email")
    add.add_argument("--footer", help="slogan line at the foot of page 1")
    add.add_argument("--signer-name", help="default signer, printed in parentheses")
    add.add_argument(
        "--signer-position", action="append", default=[], help="a signer position line (repeat)"
    )
    add.add_argument(
        "--format",
        choices=("plain", "year"),
        default="plain",
        help="number style of a new register: plain /๒๗๕๒๘ or year /๖๑๙/๒๕๖๕",
    )
    add.add_argument(
        "--circular",
        choices=("separate", "shared"),
        default="separate",
        help="ว letters in their own series (separate) or in the normal one (shared)",
    )
    add.add_argument("--json", action="store_true")
    _add_actor(add)
    add.set_defaults(func=_register_add)
    listing = reg_sub.add_parser("list", help="list registers and units / รายการทะเบียน")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_register_list)

    issue = sub.add_parser("issue", help="number, render and archive a letter / ออกเลขหนังสือ")
    issue.add_argument("letter", type=Path, help="the letter document (JSON), ref_no null")
    issue.add_argument("--register", required=True, help="the unit prefix, e.g. นค ๐๐๑๙.๓")
    issue.add_argument("--date", type=_date, help="letter date YYYY-MM-DD (default: today)")
    issue.add_argument("--reservation", type=int, help="use this reserved number (its id)")
    issue.add_argument(
        "--retention", type=_retention, default=argparse.SUPPRESS, help="years kept, or never"
    )
    issue.add_argument("--json", action="store_true")
    _add_actor(issue)
    issue.set_defaults(func=_issue)

    reserve = sub.add_parser("reserve", help="reserve the next number / จองเลข")
    reserve.add_argument("--register", required=True)
    reserve.add_argument("--circular", action="store_true", help="a ว number")
    reserve.add_argument("--note", help="what the number is for")
    reserve.add_argument("--json", action="store_true")
    _add_actor(reserve)
    reserve.set_defaults(func=_reserve)

    for name, helptext, func in (
        ("release", "give up a reserved number (recorded unused) / คืนเลขจอง", "_release"),
        ("cancel", "cancel an issued letter, keeping its number / ยกเลิกหนังสือ", "_cancel"),
    ):
        parser = sub.add_parser(name, help=helptext)
        parser.add_argument("id", type=int, help="the letter's id")
        parser.add_argument("--reason", required=True, help="why (kept in the register)")
        _add_actor(parser)
        parser.set_defaults(func=globals()[func])

    receive = sub.add_parser("receive", help="enter a received letter / ลงทะเบียนรับ")
    receive.add_argument("--register", required=True)
    receive.add_argument(
        "--file",
        type=Path,
        help="take the letter in from a file (PDF, scan, photo, DOCX, TXT): read, OCRed if"
        " need be, numbered and stamped; --from/--to/--subject are then read from it",
    )
    receive.add_argument("--answers", type=int, help="with --file: the id of our letter it answers")
    receive.add_argument(
        "--enclosure",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="with --file: a file that came with the letter (a form, a list, a spreadsheet),"
        " kept with it; repeat for each",
    )
    receive.add_argument("--from", dest="sender", help="จาก")
    receive.add_argument("--to", dest="recipient", help="ถึง")
    receive.add_argument("--subject", help="เรื่อง")
    receive.add_argument("--ref-no", help="the sender's number (ที่)")
    receive.add_argument("--letter-date", type=_date, help="the letter's date YYYY-MM-DD")
    receive.add_argument("--action", help="การปฏิบัติ")
    receive.add_argument("--note", help="หมายเหตุ")
    receive.add_argument(
        "--secrecy", choices=SECRECIES, help="ชั้นความลับ: the row is shown only to users cleared"
    )
    receive.add_argument("--json", action="store_true")
    _add_actor(receive)
    receive.set_defaults(func=_receive)

    consume = sub.add_parser(
        "consume",
        help="take in every file in SARABAN_HOME/inbox/ and e-mails there / รับหนังสือจากโฟลเดอร์",
    )
    consume.add_argument("--register", required=True, help="the incoming register to number in")
    consume.add_argument(
        "--watch", type=float, metavar="SECONDS", help="keep watching, looking every SECONDS"
    )
    consume.add_argument(
        "--imap",
        action="store_true",
        help="first copy the unread e-mails of the mailbox SARABAN_IMAP_* names into the folder",
    )
    consume.add_argument("--json", action="store_true")
    _add_actor(consume)
    consume.set_defaults(func=_consume)

    letters = sub.add_parser("letters", help="letters in the archive / หนังสือในคลัง")
    letters_sub = letters.add_subparsers(dest="letters_command", metavar="ACTION", required=True)
    listing = letters_sub.add_parser("list", help="list register rows and stored letters")
    listing.add_argument("--year", type=int, help="BE year of the number")
    listing.add_argument("--status", help="issued, cancelled, unused, reserved, stored, pending")
    listing.add_argument("--register")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_letters_list)
    thread = letters_sub.add_parser("thread", help="letters linked by อ้างถึง, both ways")
    thread.add_argument("id", type=int)
    thread.add_argument("--json", action="store_true")
    thread.set_defaults(func=_letters_thread)

    verify = sub.add_parser(
        "verify", help="re-check files, numbers and audit chain / ตรวจความครบถ้วน"
    )
    verify.set_defaults(func=_verify)

    registers = sub.add_parser("registers", help="registers out / พิมพ์ทะเบียน")
    registers_sub = registers.add_subparsers(
        dest="registers_command", metavar="ACTION", required=True
    )
    export = registers_sub.add_parser(
        "export", help="the outgoing (or incoming) register for a date range"
    )
    export.add_argument("--from", dest="date_from", type=_date, required=True)
    export.add_argument("--to", dest="date_to", type=_date, required=True)
    export.add_argument("--format", choices=("csv", "docx", "pdf"), default="csv")
    export.add_argument("--incoming", action="store_true", help="ทะเบียนหนังสือรับ")
    export.add_argument("--register", help="one register or unit prefix (default: all)")
    export.add_argument("-o", "--output", type=Path, help="file to write (csv: default stdout)")
    export.set_defaults(func=_registers_export)

    retention = sub.add_parser("retention", help="retention / การเก็บรักษาหนังสือ")
    retention_sub = retention.add_subparsers(
        dest="retention_command", metavar="ACTION", required=True
    )
    due = retention_sub.add_parser("due", help="บัญชีหนังสือขอทำลาย for a BE year")
    due.add_argument("year", type=int, help="BE year, e.g. 2578")
    due.add_argument("--format", choices=("csv", "docx", "pdf"), default="csv")
    due.add_argument("-o", "--output", type=Path)
    due.set_defaults(func=_retention_due)

    imp = sub.add_parser(
        "import",
        help="import existing letters (.txt, .docx, .pdf) into the archive / นำเข้าหนังสือ",
    )
    imp.add_argument("files", type=Path, nargs="+", metavar="FILE")
    imp.add_argument("--json", action="store_true", help="one JSON array, an object per file")
    imp.add_argument("--actor", help="who imports (default: the login name)")
    imp.set_defaults(func=_import)


def _open() -> Archive:
    return open_settings_archive(Settings.load())


def _actor(args: argparse.Namespace) -> str:
    return args.actor or default_actor()


def _received_link(settings: Settings, record: Any) -> str:
    """The received letter's page as a clerk opens it: SARABAN_BASE_URL/received/<id>."""
    return f"{settings.base_url.rstrip('/')}/received/{record.public_id}"


def _say_received(settings: Settings, record: Any, before: str = "") -> None:
    number = record.number
    link = _received_link(settings, record)
    _say(f"{before}{chr(9) if before else ''}เลขรับ / received no.\t{number}\t{link}")


def _say(text: str, *, err: bool = False) -> None:
    """One line to stdout (or stderr): the command's output, for a clerk or a script."""
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n")


def _print_json(value: Any) -> None:
    _say(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _write_output(data: bytes, output: Path | None, fmt: str) -> None:
    if output is None:
        if fmt != "csv":
            raise BadRequest(f"--output: ต้องระบุไฟล์สำหรับ {fmt} / give -o FILE for the {fmt} format")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.part")
    tmp.write_bytes(data)
    tmp.replace(output)
    _say(str(output))


def _register_add(args: argparse.Namespace) -> int:
    signer = None
    if args.signer_name or args.signer_position:
        if not (args.signer_name and args.signer_position):
            raise BadRequest("--signer-name and --signer-position: ต้องระบุทั้งสองอย่าง / give both")
        signer = {"name": args.signer_name, "position": args.signer_position}
    with _open() as archive:
        unit = archive.add_unit(
            args.prefix,
            args.name,
            register=args.register,
            address=args.address,
            phone=args.phone,
            fax=args.fax,
            email=args.email,
            footer=args.footer,
            signer=signer,
            number_format=args.format,
            circular_series=args.circular,
            actor=_actor(args),
        )
    if args.json:
        _print_json(unit.__dict__)
    else:
        _say(f"{unit.prefix}\t{unit.name}\tทะเบียน / register: {unit.register}")
    return 0


def _register_list(args: argparse.Namespace) -> int:
    with _open() as archive:
        registers = archive.registers()
    if args.json:
        _print_json([r.__dict__ for r in registers])
        return 0
    for r in registers:
        _say(f"{r.name}\t{r.number_format}\tว: {r.circular_series}\t{', '.join(r.units)}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    from saraban.usecases.issuing import issue_file

    extra = {"retention_years": args.retention} if hasattr(args, "retention") else {}
    with _open() as archive:
        issued = issue_file(
            archive,
            args.letter,
            args.register,
            actor=_actor(args),
            date=args.date,
            reservation=args.reservation,
            **extra,
        )
    if args.json:
        result = issued.as_dict()
        result.pop("letter")
        _print_json(result)
    else:
        _say(f"id\t{issued.id}")
        _say(f"ref_no\t{issued.ref_no}")
        _say(f"date\t{issued.date.isoformat()}")
        _say(f"docx\t{issued.docx_path}")
        _say(f"pdf\t{issued.pdf_path}")
    return 0


def _reserve(args: argparse.Namespace) -> int:
    with _open() as archive:
        reservation = archive.reserve(
            args.register, actor=_actor(args), circular=args.circular, note=args.note
        )
    if args.json:
        _print_json(reservation.__dict__)
    else:
        _say(f"{reservation.id}\t{reservation.ref_no}")
    return 0


def _release(args: argparse.Namespace) -> int:
    with _open() as archive:
        record = archive.release(args.id, args.reason, actor=_actor(args))
    _say(f"{record.id}\t{record.ref_no}\t{record.status}")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from saraban.usecases.cancelling import cancel
    from saraban.usecases.importing import ALL_LETTERS

    with _open() as archive:
        record = cancel(archive, args.id, args.reason, actor=_actor(args), clearance=ALL_LETTERS)
    _say(f"{record.id}\t{record.ref_no}\t{record.status}")
    return 0


def _receive(args: argparse.Namespace) -> int:
    from saraban.usecases.importing import ALL_LETTERS
    from saraban.usecases.receiving import receive

    if args.file is not None:
        return _receive_file(args)
    if args.enclosure:
        raise BadRequest("--enclosure: ใช้คู่กับ --file / goes with --file")
    missing = [
        flag
        for flag, v in (
            ("--from", args.sender),
            ("--to", args.recipient),
            ("--subject", args.subject),
        )
        if not v
    ]
    if missing:
        raise BadRequest(
            f"ต้องระบุ {' '.join(missing)} หรือ --file / give {' '.join(missing)} or --file"
        )
    with _open() as archive:
        record = receive(
            archive,
            args.register,
            sender=args.sender,
            recipient=args.recipient,
            subject=args.subject,
            ref_no=args.ref_no,
            letter_date=args.letter_date,
            action=args.action,
            note=args.note,
            secrecy=args.secrecy,
            actor=_actor(args),
            clearance=ALL_LETTERS,  # the instance's own operator
        )
    if args.json:
        _print_json(record.as_dict())
    else:
        _say_received(Settings.load(), record)
    return 0


def _receive_file(args: argparse.Namespace) -> int:
    from saraban.usecases import intake

    intake.check_enclosures([p.name for p in args.enclosure])
    for path in args.enclosure:
        if not path.is_file():
            raise BadRequest(f"--enclosure: {path}: ไม่พบไฟล์ / no such file")
        if path.stat().st_size > intake.DEFAULT_MAX_BYTES:
            raise BadRequest(
                f"--enclosure: {path}: ไฟล์ใหญ่เกิน {intake.DEFAULT_MAX_BYTES // 2**20} MB / the"
                f" file is over {intake.DEFAULT_MAX_BYTES // 2**20} MB"
            )
    with _open() as archive:
        taken = intake.take_in(
            archive,
            args.file,
            register=args.register,
            actor=_actor(args),
            secrecy=args.secrecy,
            answers_id=args.answers,
            in_worker=True,
            enclosed=intake.read_enclosures(
                [(p.name, p) for p in args.enclosure], max_bytes=intake.DEFAULT_MAX_BYTES
            ),
        )
    record = taken.received
    if args.json:
        _print_json({**record.as_dict(), "needs_review": taken.reading.needs_review})
    else:
        _say_received(Settings.load(), record)
        _say(f"จาก / from\t{record.sender}\nเรื่อง / subject\t{record.subject}")
        if taken.reading.needs_review:
            _say("ตรวจ / check\t" + ", ".join(taken.reading.needs_review))
    return 0


def _consume(args: argparse.Namespace) -> int:
    import time

    from saraban.usecases import intake, mailbox

    settings = Settings.load()
    inbox = settings.home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True, mode=0o700)
    imap = mailbox.ImapSettings.of(settings) if args.imap else None
    if args.imap and imap is None:
        raise BadRequest(
            "ยังไม่ได้ตั้ง SARABAN_IMAP_HOST / --imap needs SARABAN_IMAP_HOST (and _USER, _PASSWORD) set"
        )
    patience = mailbox.Patience()
    while True:
        mail_failed: list[tuple[str, str]] = []
        if imap is not None:
            _fetched, mail_failed = mailbox.read_into(
                imap,
                inbox,
                patience,
                max_bytes=intake.MAIL_MAX_BYTES,
                interval=args.watch,
                progress=lambda done, total: _say(f"อีเมล / e-mail {done}/{total}", err=True),
            )
        with open_settings_archive(settings) as archive:
            result = intake.consume_inbox(
                archive,
                inbox,
                register=args.register,
                actor=_actor(args),
                progress=lambda done, total, name: _say(f"{done}/{total}\t{name}", err=True),
            )
            earlier = [(n, archive.received_one(i)) for n, i in result.duplicates]
        if args.json:
            _print_json(
                {
                    "taken": [
                        {
                            "file": t.reading.name,
                            "number": t.received.number,
                            "link": _received_link(settings, t.received),
                            "needs_review": t.reading.needs_review,
                        }
                        for t in result.taken
                    ],
                    "duplicates": [
                        {
                            "file": name,
                            "number": r.number,
                            "link": _received_link(settings, r),
                        }
                        for name, r in earlier
                    ],
                    "failed": [
                        {"file": name, "why": why} for name, why in mail_failed + result.failed
                    ],
                }
            )
        for taken in result.taken if not args.json else ():
            _say_received(settings, taken.received, f"รับ / taken\t{taken.reading.name}")
        for name, record in earlier if not args.json else ():
            _say_received(settings, record, f"รับไว้แล้ว / received before\t{name}")
        for name, why in mail_failed + result.failed if not args.json else ():
            _say(f"ไม่ได้ / failed\t{name}\t{why}")
        if args.watch is None:
            return 1 if result.failed or mail_failed else 0
        time.sleep(max(args.watch, 1.0))


def _letters_list(args: argparse.Namespace) -> int:
    with _open() as archive:
        letters = archive.letters(status=args.status, year=args.year, register=args.register)
    if args.json:
        _print_json([letter.as_dict() for letter in letters])
        return 0
    for letter in letters:
        date = letter.date.isoformat() if letter.date else "-"
        _say(
            f"{letter.id}\t{letter.status}\t{letter.ref_no or '-'}\t{date}\t"
            f"{letter.subject or letter.reason or letter.note or ''}"
        )
    return 0


def _letters_thread(args: argparse.Namespace) -> int:
    with _open() as archive:
        thread = archive.thread(args.id)
    if args.json:
        _print_json(
            {
                "letters": [letter.as_dict() for letter in thread.letters],
                "links": [{"citing": a, "cited": b} for a, b in thread.links],
            }
        )
        return 0
    for letter in thread.letters:
        mark = "*" if letter.id == args.id else " "
        date = letter.date.isoformat() if letter.date else "-"
        _say(f"{mark} {letter.id}\t{letter.ref_no or '-'}\t{date}\t{letter.subject or ''}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    with _open() as archive:
        problems = archive.verify()
    for problem in problems:
        _say(problem)
    if problems:
        _say(f"พบปัญหา {len(problems)} รายการ / {len(problems)} problems found", err=True)
        return 1
    _say("ถูกต้องครบถ้วน / all checks passed")
    return 0


def _registers_export(args: argparse.Namespace) -> int:
    from saraban.archive import _registers
    from saraban.usecases.importing import ALL_LETTERS
    from saraban.usecases.registers import register_table

    kind = "received" if args.incoming else "sent"
    with _open() as archive:
        table = register_table(
            archive,
            kind,
            args.date_from,
            args.date_to,
            args.register,
            ALL_LETTERS,
            fmt=args.format,
        )
    _write_output(_registers.write(table, args.format), args.output, args.format)
    return 0


def _retention_due(args: argparse.Namespace) -> int:
    from saraban.archive import _registers

    with _open() as archive:
        table = _registers.retention_due(archive, args.year)
    _write_output(_registers.write(table, args.format), args.output, args.format)
    return 0


def _import(args: argparse.Namespace) -> int:
    """Import each file in turn. A file that fails is reported and stores nothing; the
    others go on. Exit 2 if any file failed."""
    from saraban.usecases.importing import AlreadyImported, import_file

    results: list[dict[str, Any]] = []
    failed = 0
    total = len(args.files)
    with _open() as archive:
        for number, path in enumerate(args.files, start=1):
            _say(f"[{number}/{total}] {path}", err=True)
            try:
                imported = import_file(archive, path, actor=_actor(args))
            except SarabanError as exc:
                failed += 1
                results.append({"file": str(path), "ok": False, "error": exc.message})
                if isinstance(exc, AlreadyImported):
                    results[-1]["duplicate_of"] = exc.earlier_json()
                if not args.json:
                    _say(
                        exc.message if str(path.name) in exc.message else f"{path}: {exc.message}",
                        err=True,
                    )
                continue
            results.append(
                {
                    "file": str(path),
                    "ok": True,
                    "id": imported.record.id,
                    "letter": imported.letter,
                    "needs_review": imported.needs_review,
                    "notes": imported.notes,
                }
            )
            if not args.json:
                review = ", ".join(imported.needs_review) or "-"
                _say(
                    f"{imported.record.id}\t{imported.letter.get('ref_no') or '-'}\t{path.name}"
                    f"\tตรวจทาน / review: {review}"
                )
    if args.json:
        _print_json(results)
    return 2 if failed else 0
