"""What a clerk reads where the machine keeps other values: moments in the Buddhist era on
the office's clock, and audit events with Thai names for their actions and details. The
audit chain, the API and the CSV exports keep their machine values (``letter.issue``, ISO
dates), which programs read; the pages show these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from saraban.service._letter_form import show_be_date
from saraban.thai import thai_date, to_thai_digits

EVENT_NAMES = {
    "letter.issue": "ออกเลขและออกหนังสือ",
    "letter.cancel": "ยกเลิกหนังสือ",
    "letter.import": "นำเข้าหนังสือ",
    "letter.correct": "ตรวจแก้ข้อมูลหนังสือที่นำเข้า",
    "letter.confirm": "ยืนยันข้อมูลหนังสือที่นำเข้า",
    "letter.receive": "ลงทะเบียนรับ",
    "received.action": "บันทึกการปฏิบัติ",
    "received.correct": "ตรวจแก้ข้อมูลหนังสือรับ",
    "received.confirm": "ยืนยันข้อมูลหนังสือรับ",
    "received.stamp": "ประทับตรารับ",
    "received.route": "เกษียนส่งต่อ",
    "received.order": "สั่งการ",
    "received.done": "ดำเนินการแล้ว",
    "delegation.add": "มอบหมายให้รักษาการแทน",
    "delegation.revoke": "ยกเลิกการมอบหมายรักษาการแทน",
    "unit.member.add": "เพิ่มสมาชิกส่วนราชการ",
    "unit.member.remove": "นำสมาชิกออกจากส่วนราชการ",
    "number.reserve": "จองเลข",
    "number.unused": "บันทึกเลขที่ไม่ได้ใช้",
    "register.add": "เพิ่มทะเบียน",
    "unit.add": "เพิ่มส่วนราชการ",
    "user.add": "เพิ่มผู้ใช้",
    "user.update": "แก้ไขผู้ใช้",
    "user.password": "เปลี่ยนรหัสผ่าน",
    "user.login": "เข้าสู่ระบบ",
    "user.logout": "ออกจากระบบ",
    "user.login_failed": "เข้าสู่ระบบไม่สำเร็จ",
    "user.login_failed_more": "เข้าสู่ระบบไม่สำเร็จอีก (นับรวม ไม่แยกรายการ)",
    "user.login_failed_summary": "สรุปการเข้าสู่ระบบไม่สำเร็จ",
    "user.sessions_ended": "ออกจากระบบบนเครื่องอื่นทั้งหมด",
    "token.create": "สร้างโทเค็น API",
    "token.revoke": "เพิกถอนโทเค็น API",
    "search.reindex": "สร้างดัชนีค้นหาใหม่",
    "intake.retry": "นำไฟล์ที่รับไม่ได้กลับไปรับใหม่",
}

DETAIL_LABELS = {
    "ref_no": "ที่",
    "date": "ลงวันที่",
    "subject": "เรื่อง",
    "from": "จาก",
    "to": "ถึง",
    "reason": "เหตุผล",
    "register": "ทะเบียน",
    "serial": "เลขทะเบียน",
    "year": "ปี",
    "series": "ชุดเลข",
    "prefix": "เลขประจำส่วนราชการ",
    "name": "ชื่อ",
    "number_format": "รูปแบบเลข",
    "circular_series": "หนังสือเวียน",
    "original": "ไฟล์ต้นฉบับ",
    "action": "การปฏิบัติ",
    "note": "หมายเหตุ",
    "received_id": "รายการรับ",
    "user": "ผู้ใช้",
    "role": "บทบาท",
    "clearance": "ชั้นความลับ",
    "active": "ใช้งาน",
    "password_reset": "ตั้งรหัสผ่านใหม่",
    "ip": "จากเครื่อง",
    "ended": "จำนวนที่สิ้นสุด",
    "token_id": "โทเค็น",
    "label": "ใช้กับ",
    "count": "จำนวนครั้ง",
    "names": "ชื่อที่ใช้",
    "addresses": "จากเครื่อง",
    "repaired": "ซ่อมจากการค้าง",
}

# Details that only a program needs: file hashes (the chain's verification reads them).
_HIDDEN = {"sha256", "docx_sha256", "pdf_sha256"}
_ROLES = {"admin": "ผู้ดูแลระบบ", "clerk": "เจ้าหน้าที่สารบรรณ"}
_SERIES = {"normal": "ปกติ", "circular": "หนังสือเวียน (ว)"}
_NUMBER_FORMATS = {"plain": "เลขเรียงต่อเนื่อง", "year": "มีปีท้ายเลข"}
_CIRCULAR_SERIES = {"separate": "แยกชุดเลข", "shared": "ชุดเลขเดียวกับหนังสือปกติ"}
_NOTES = {"more failed logins this window are counted, not listed": "ครั้งต่อไปในช่วงนี้นับรวมในสรุป"}
_WORDS = {
    "role": _ROLES,
    "series": _SERIES,
    "number_format": _NUMBER_FORMATS,
    "circular_series": _CIRCULAR_SERIES,
    "note": _NOTES,
}


def event_name(action: str | None) -> str:
    """``letter.issue`` → ``ออกเลขและออกหนังสือ``; an action without a Thai name as it is."""
    return EVENT_NAMES.get(action or "", action or "")


def be_datetime(value: dt.datetime | str | None) -> str:
    """A moment on the office's clock as a clerk reads it: ``๑๕ ธ.ค. ๖๘ ๑๔.๓๐ น.``. An ISO
    string (a moment stored as text) too, UTC when it names no zone; other text as it is."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    else:
        moment = value
    local = moment.astimezone()
    return f"{thai_date(local.date(), 'short')} {to_thai_digits(local.strftime('%H.%M'))} น."


def detail_value(key: str, value: Any) -> str:
    """One detail as a clerk reads it: Thai words, BE dates, Thai digits in numbers."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "ใช่" if value else "ไม่ใช่"
    if isinstance(value, int | float):
        return to_thai_digits(str(value))
    if isinstance(value, dict):
        return ", ".join(f"{k} ({detail_value('', v)})" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return ", ".join(detail_value(key, v) for v in value) or "—"
    text = str(value)
    if key in _WORDS:
        return _WORDS[key].get(text, text)
    if key in ("date", "from", "to"):
        return be_datetime(text) if "T" in text else show_be_date(text)
    return text


_ORDER = {key: place for place, key in enumerate(DETAIL_LABELS)}


# Keys of an event's detail that hold the archive's row numbers (a received row, a delivery,
# a reply's letter, ...): each counts rows, hidden letters' too, and says nothing else.
_ROW_NUMBER_KEYS = frozenset(
    ("id", "letter", "letter_id", "received_id", "routing_id", "delivery", "reply_letter")
    + ("recipient", "delegation_id")
)


def row_number(key: str, value: Any) -> bool:
    """Whether an event's detail ``key`` holds a row number: never shown, on a page or in
    JSON."""
    return key in _ROW_NUMBER_KEYS and isinstance(value, int) and not isinstance(value, bool)


def event_details(detail: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The event's details as (Thai label, value) pairs, the letter's number first (the
    chain stores them in key order), without empty values, row numbers and the file hashes
    a person has no use for."""
    shown = [
        (key, value)
        for key, value in (detail or {}).items()
        if key not in _HIDDEN and value not in (None, "", [], {}) and not row_number(key, value)
    ]
    shown.sort(key=lambda item: _ORDER.get(item[0], len(_ORDER)))
    return [(DETAIL_LABELS.get(key, key), detail_value(key, value)) for key, value in shown]
