"""The circulars' commands: ``saraban recipients``, ``holidays``, ``send``, ``tracking``,
``remind`` and ``mail``. Doors: they parse the command line, call
``saraban.usecases.sending`` / ``recipients`` and print. Heavy imports stay inside the
functions, so ``saraban --help`` does not pay for them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ALL_LETTERS = "ลับที่สุด"  # a command run on the instance itself sees every letter


def _open() -> Any:
    from saraban.archive import open_settings_archive
    from saraban.settings import Settings

    settings = Settings.load()
    return settings, open_settings_archive(settings)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _actor(args: argparse.Namespace) -> str:
    from saraban.archive import default_actor

    return args.actor or default_actor()


def _add_actor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--actor", help="who does it, for the audit trail (default: your login)")


def register(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("recipients", help="address book of recipients / สมุดรายชื่อผู้รับ")
    rec_sub = rec.add_subparsers(dest="recipients_command", metavar="ACTION", required=True)
    add = rec_sub.add_parser("add", help="add a recipient / เพิ่มผู้รับ")
    add.add_argument("name", help="the office, e.g. ที่ว่าการอำเภอเมืองหนองคาย")
    add.add_argument("--addressee", help="the addressee line, e.g. นายอำเภอเมืองหนองคาย")
    add.add_argument("--group", action="append", default=[], help="a group (repeat)")
    add.add_argument("--email")
    add.add_argument("--unit", help="the unit of this instance it stands for (prefix)")
    add.add_argument(
        "--update", action="store_true", help="change the recipient of this name if there is one"
    )
    add.add_argument("--json", action="store_true")
    _add_actor(add)
    add.set_defaults(func=_recipients_add)
    listing = rec_sub.add_parser("list", help="list recipients / รายชื่อผู้รับ")
    listing.add_argument("--group", help="only this group's members")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_recipients_list)
    imp = rec_sub.add_parser(
        "import",
        help="add or update recipients from CSV / นำเข้าจาก CSV",
        description="CSV (UTF-8) with a header row: name, and any of addressee, email, "
        "groups (separated by ;), unit. A recipient of the same name is updated.",
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--json", action="store_true")
    _add_actor(imp)
    imp.set_defaults(func=_recipients_import)
    seed = rec_sub.add_parser(
        "seed",
        help="add a province's districts (group ทุกอำเภอ) / เพิ่มอำเภอทั้งจังหวัด",
        description="Districts from the geothai package (DOPA codes and names, CC BY 4.0). "
        "--provinces adds every province's governor (group ทุกจังหวัด) instead.",
    )
    seed.add_argument("province", nargs="*", help="Thai name or code, e.g. หนองคาย or 43")
    seed.add_argument("--provinces", action="store_true")
    seed.add_argument("--json", action="store_true")
    _add_actor(seed)
    seed.set_defaults(func=_recipients_seed)
    remove = rec_sub.add_parser("remove", help="remove a recipient / ลบผู้รับ")
    remove.add_argument("id", type=int)
    _add_actor(remove)
    remove.set_defaults(func=_recipients_remove)

    hol = sub.add_parser("holidays", help="holiday calendar for working days / ปฏิทินวันหยุด")
    hol_sub = hol.add_subparsers(dest="holidays_command", metavar="ACTION", required=True)
    hl = hol_sub.add_parser("list", help="the days off of a year (BE) / วันหยุดของปี")
    hl.add_argument("--year", type=int, help="BE year (default: this year)")
    hl.add_argument("--json", action="store_true")
    hl.set_defaults(func=_holidays_list)
    ha = hol_sub.add_parser("add", help="add a day off / เพิ่มวันหยุด")
    ha.add_argument("date", help="in BE, e.g. 30/12/2569")
    ha.add_argument("name")
    _add_actor(ha)
    ha.set_defaults(func=_holidays_add)
    hr = hol_sub.add_parser("remove", help="make a day a working day / ยกเลิกวันหยุด")
    hr.add_argument("date", help="in BE")
    _add_actor(hr)
    hr.set_defaults(func=_holidays_remove)

    send = sub.add_parser(
        "send",
        help="send an issued letter to recipients / ส่งหนังสือถึงผู้รับ",
        description="One delivery per recipient, each with a private link (BASE_URL/d/TOKEN) "
        "e-mailed through the queue. Secret letters go only to units of this instance.",
    )
    send.add_argument("letter_id", type=int)
    send.add_argument(
        "--to",
        action="extend",
        nargs="+",
        required=True,
        help="groups or recipients (--to A B, or --to A --to B)",
    )
    send.add_argument("--due", help="reply due date in BE, e.g. 31/1/2570")
    send.add_argument("--working-days", type=int, help="reply due after N working days")
    send.add_argument("--form", help="the catalogue form recipients fill in reply")
    send.add_argument("--json", action="store_true")
    _add_actor(send)
    send.set_defaults(func=_send)

    track = sub.add_parser("tracking", help="who received and replied / ติดตามการตอบกลับ")
    track.add_argument("letter_id", type=int)
    track.add_argument("--json", action="store_true")
    track.set_defaults(func=_tracking)

    rem = sub.add_parser("remind", help="e-mail those who have not replied / ทวงถาม")
    rem.add_argument("letter_id", type=int)
    rem.add_argument("--json", action="store_true")
    _add_actor(rem)
    rem.set_defaults(func=_remind)

    cons = sub.add_parser(
        "consolidate",
        help="merge the form replies into one table / สรุปผลการรายงาน",
        description="A row per recipient that replied with the form, totals of the number "
        "columns, then those that replied by letter and those that did not reply.",
    )
    cons.add_argument("letter_id", type=int)
    cons.add_argument("-o", "--output", type=Path, required=True, help="OUT.xlsx|.csv|.docx|.pdf")
    cons.set_defaults(func=_consolidate)

    mail = sub.add_parser("mail", help="the queue of outgoing e-mail / อีเมลที่รอส่ง")
    mail_sub = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    ms = mail_sub.add_parser("send", help="send what waits now / ส่งอีเมลที่รอ")
    ms.set_defaults(func=_mail_send)
    ml = mail_sub.add_parser("list", help="the latest messages / รายการอีเมล")
    ml.add_argument("--json", action="store_true")
    ml.set_defaults(func=_mail_list)


def _recipient_line(r: Any) -> str:
    groups = ", ".join(r.groups)
    return f"{r.id}\t{r.name}\t{r.addressee}\t{r.email or '-'}\t{groups}"


def _recipients_add(args: argparse.Namespace) -> int:
    from saraban.usecases import recipients

    _settings, archive = _open()
    with archive:
        found = recipients.add(
            archive,
            args.name,
            actor=_actor(args),
            addressee=args.addressee,
            email=args.email,
            groups=args.group or (None if args.update else []),
            unit=args.unit,
            update=args.update,
        )
    if args.json:
        _print_json(found.as_dict())
    else:
        print(_recipient_line(found))
    return 0


def _recipients_list(args: argparse.Namespace) -> int:
    from saraban.usecases import recipients

    _settings, archive = _open()
    with archive:
        found = recipients.listing(archive, args.group)
    if args.json:
        _print_json({"recipients": [r.as_dict() for r in found]})
    else:
        for r in found:
            print(_recipient_line(r))
        print(f"{len(found)} recipients / ผู้รับ {len(found)} ราย", file=sys.stderr)
    return 0


def _recipients_import(args: argparse.Namespace) -> int:
    from saraban.errors import BadRequest
    from saraban.usecases import recipients

    try:
        with args.file.open("rb") as file:  # one byte past the limit: enough to refuse it
            data = file.read(recipients.MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise BadRequest(f"{args.file}: อ่านไฟล์ไม่ได้ / cannot read: {exc.strerror}") from None
    _settings, archive = _open()
    with archive:
        saved = recipients.import_csv(archive, data, actor=_actor(args))
    if args.json:
        _print_json({"saved": [r.as_dict() for r in saved]})
    else:
        print(f"saved {len(saved)} recipients / บันทึกผู้รับ {len(saved)} ราย")
    return 0


def _recipients_seed(args: argparse.Namespace) -> int:
    from saraban.errors import BadRequest
    from saraban.usecases import recipients

    if not args.province and not args.provinces:
        raise BadRequest("ระบุจังหวัด หรือ --provinces / name a province, or --provinces")
    _settings, archive = _open()
    added, kept = [], []
    with archive:
        runs = [recipients.seed_province(archive, p, actor=_actor(args)) for p in args.province]
        if args.provinces:
            runs.append(recipients.seed_provinces(archive, actor=_actor(args)))
    for run in runs:
        added += run.added
        kept += run.kept
    if args.json:
        _print_json({"added": [r.as_dict() for r in added], "kept": kept})
    else:
        for r in added:
            print(_recipient_line(r))
        print(
            f"added {len(added)}, already there {len(kept)} / เพิ่ม {len(added)} ราย", file=sys.stderr
        )
    return 0


def _recipients_remove(args: argparse.Namespace) -> int:
    from saraban.archive import circulars

    _settings, archive = _open()
    with archive:
        circulars.delete_recipient(archive, args.id, actor=_actor(args))
    return 0


def _be_date(text: str) -> Any:
    from saraban.errors import BadRequest
    from saraban.usecases.sending import parse_due

    found = parse_due(text)
    if found is None:
        raise BadRequest("date: ต้องระบุวันที่ / a date is required")
    return found


def _holidays_list(args: argparse.Namespace) -> int:
    import datetime as dt

    from saraban.archive import circulars
    from saraban.errors import BadRequest
    from saraban.thai import thai_date

    if args.year and not 2400 <= args.year <= 9999:
        raise BadRequest(
            f"--year: ต้องเป็นปี พ.ศ. 2400-9999 ไม่ใช่ {args.year} / a Buddhist-era year "
            f"2400-9999, not {args.year}"
            + (f" (CE {args.year} is BE {args.year + 543})" if 1857 <= args.year < 2400 else "")
        )
    year = (args.year - 543) if args.year else dt.date.today().year
    _settings, archive = _open()
    with archive:
        days = circulars.holidays(archive, year)
    if args.json:
        _print_json(
            {"holidays": [{"date": d.isoformat(), "name": n, "source": s} for d, n, s in days]}
        )
    else:
        for day, name, source in days:
            print(f"{thai_date(day)}\t{name}\t{source}")
    return 0


def _holidays_add(args: argparse.Namespace) -> int:
    from saraban.archive import circulars

    _settings, archive = _open()
    with archive:
        circulars.set_holiday(archive, _be_date(args.date), args.name, actor=_actor(args))
    return 0


def _holidays_remove(args: argparse.Namespace) -> int:
    from saraban.archive import circulars

    _settings, archive = _open()
    with archive:
        circulars.remove_holiday(archive, _be_date(args.date), actor=_actor(args))
    return 0


def _send(args: argparse.Namespace) -> int:
    from saraban.thai import thai_date
    from saraban.usecases import sending

    settings, archive = _open()
    with archive:
        sent = sending.send(
            archive,
            settings,
            args.letter_id,
            args.to,
            actor=_actor(args),
            clearance=ALL_LETTERS,
            due=sending.parse_due(args.due),
            working_days=args.working_days,
            form=args.form,
        )
    if args.json:
        _print_json({**sent.as_dict(), "letter": sent.letter_id})  # the id the operator typed
        return 0
    for d in sent.deliveries:
        print(f"{d.name}\t{d.email or '-'}\t{sent.links.get(d.id) or '(ลงทะเบียนรับในระบบ)'}")
    due = f", due {thai_date(sent.due)}" if sent.due else ""
    print(
        f"sent to {len(sent.deliveries)} recipients{due} / ส่งถึง {len(sent.deliveries)} ราย",
        file=sys.stderr,
    )
    if not settings.smtp_host:
        print(
            "SARABAN_SMTP_HOST is not set: e-mail waits in the queue (saraban mail list)",
            file=sys.stderr,
        )
    return 0


def _tracking(args: argparse.Namespace) -> int:
    # Read without opening the archive when it can be (no SQLAlchemy: a command that
    # starts at once), else the usual way; the same answer either way.
    from saraban.archive._tracking import STATUS_NAMES
    from saraban.settings import Settings
    from saraban.thai import thai_date
    from saraban.usecases import tracking

    settings = Settings.load()
    found = tracking.quick_tracking(
        settings.home, settings.database_url, args.letter_id, clearance=ALL_LETTERS
    )
    if found is None:
        _settings, archive = _open()
        with archive:
            found = tracking.tracking(archive, args.letter_id, clearance=ALL_LETTERS)
    if args.json:
        _print_json({**found.as_dict(), "letter": found.letter_id})  # the id typed
        return 0
    counts = found.counts()
    print(f"หนังสือ {found.ref_no} เรื่อง {found.subject or ''}")
    if found.due:
        print(f"กำหนดตอบ {thai_date(found.due)}")
    print(
        f"ผู้รับ {counts['recipients']} เปิดอ่าน {counts['opened']} ลงรับ {counts['acknowledged']} "
        f"ตอบกลับ {counts['replied']} ล่าช้า {counts['late']}"
    )
    for d in found.deliveries:
        late = " ล่าช้า" if d.id in found.late_ids else ""
        when = d.replied_at or d.acknowledged_at or d.opened_at or d.sent_at
        number = f" เลขรับ {d.receive_no}" if d.receive_no else ""
        print(f"{d.name}\t{STATUS_NAMES[d.status]}\t{tracking.be_moment(when)}{number}{late}")
    return 0


def _remind(args: argparse.Namespace) -> int:
    from saraban.usecases import sending

    settings, archive = _open()
    with archive:
        sent = sending.remind(
            archive, settings, args.letter_id, actor=_actor(args), clearance=ALL_LETTERS
        )
    if args.json:
        _print_json(
            {"reminded": [{"name": d.name, "email": d.email, "link": link} for d, link in sent]}
        )
    else:
        for d, link in sent:
            print(f"{d.name}\t{d.email or '-'}\t{link}")
        print(f"reminded {len(sent)} / ทวงถาม {len(sent)} ราย", file=sys.stderr)
    return 0


def _mail_send(args: argparse.Namespace) -> int:
    from saraban.errors import BadRequest
    from saraban.usecases import sending

    settings, archive = _open()
    if not settings.smtp_host:
        raise BadRequest("SARABAN_SMTP_HOST: ยังไม่ได้ตั้งค่าเซิร์ฟเวอร์อีเมล / no SMTP server is set")
    with archive:
        sent, failed = sending.send_mail(archive, settings)
    print(f"sent {sent}, failed {failed} / ส่ง {sent} ไม่สำเร็จ {failed}")
    return 1 if failed else 0


def _mail_list(args: argparse.Namespace) -> int:
    from saraban.archive import mail

    _settings, archive = _open()
    with archive:
        found = mail.queue(archive)
    if args.json:
        _print_json(
            {
                "mail": [
                    {
                        "id": m.id,
                        "to": m.to,
                        "subject": m.subject,
                        "status": m.status,
                        "attempts": m.attempts,
                        "error": m.last_error,
                    }
                    for m in found
                ]
            }
        )
    else:
        for m in found:
            print(f"{m.id}\t{m.status}\t{m.to}\t{m.subject}\t{m.last_error or ''}")
    return 0


def _consolidate(args: argparse.Namespace) -> int:
    from saraban.usecases import consolidating

    fmt = args.output.suffix.lower().lstrip(".")
    _settings, archive = _open()
    with archive:
        found = consolidating.consolidate(archive, args.letter_id, clearance=ALL_LETTERS)
        data = consolidating.write(found, fmt)
    args.output.write_bytes(data)
    print(
        f"{args.output}: {len(found.rows)} form replies, {len(found.by_letter)} by letter, "
        f"{len(found.missing)} not replied",
        file=sys.stderr,
    )
    return 0
