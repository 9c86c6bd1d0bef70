"""The clerk's letter form: flat form fields to a letter document and back, BE dates, and
which form field each problem belongs beside.

One parser serves the plain form post and the page's autosave (both send the same
``FormData``), so the document is built the same way whichever way it arrives.

Field names follow the document's dotted paths: ``sender.name``, ``signer.position`` (one
line each), ``references`` and ``enclosures.title``/``enclosures.quantity`` (repeated, in
order), and the body as blocks ``body.N.kind`` (``paragraph`` or ``items``) with
``body.N.text`` or the repeated ``body.N.items``. Rows left empty are dropped; the form
remembers where each kept row came from, so a problem about ``references.1`` is shown beside
the row the clerk typed it in even when an empty row stands before it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from saraban.errors import Problem
from saraban.letter import KINDS, SECRECIES, URGENCIES, new_letter
from saraban.thai import (
    ThaiDateError,
    parse_be_date,
    thai_date,
    to_thai_digits,
)

__all__ = ["letter_from_form", "parse_be_date", "show_be_date"]

FIELD_LABELS = {
    "kind": "ชนิดหนังสือ",
    "unit": "ส่วนราชการที่ออกหนังสือ",
    "circular": "หนังสือเวียน",
    "urgency": "ชั้นความเร็ว",
    "secrecy": "ชั้นความลับ",
    "ref_no": "ที่",
    "sender": "ส่วนราชการเจ้าของหนังสือ",
    "sender.name": "ส่วนราชการเจ้าของหนังสือ",
    "sender.address": "ที่ตั้ง",
    "date": "ลงวันที่",
    "subject": "เรื่อง",
    "salutation": "คำขึ้นต้น",
    "addressee": "ถึง (ผู้รับ)",
    "references": "อ้างถึง",
    "enclosures": "สิ่งที่ส่งมาด้วย",
    "body": "ข้อความ",
    "closing": "ย่อหน้าสรุป",
    "complimentary_close": "คำลงท้าย",
    "signer": "ผู้ลงนาม",
    "signer.name": "ชื่อผู้ลงนาม",
    "signer.position": "ตำแหน่งผู้ลงนาม",
    "owner_unit": "ส่วนราชการเจ้าของเรื่อง",
    "contact": "การติดต่อ",
    "contact.phone": "โทร.",
    "contact.fax": "โทรสาร",
    "contact.email": "ไปรษณีย์อิเล็กทรอนิกส์",
    "footer": "ข้อความท้ายหน้าแรก",
    "copies_to": "สำเนาส่ง",
}
_BODY_KEY_RE = re.compile(r"body\.(\d+)\.kind")


class FormData(Protocol):
    """The posted fields: a Werkzeug ``MultiDict`` (``request.form``) fits. Only the
    one-argument ``get`` is used; asking for a default would not match its overloads."""

    def get(self, key: str) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...

    def keys(self) -> Any: ...


def show_be_date(value: str | dt.date | None, style: str = "letter") -> str:
    """An ISO date (or a date, or a moment on the office's clock) as the clerk reads it:
    "๑๕ ธันวาคม ๒๕๖๘" (``style``: that of :func:`saraban.thai.thai_date`)."""
    if not value:
        return ""
    if isinstance(value, str):
        typed = value
        try:
            value = dt.date.fromisoformat(typed)
        except ValueError:
            return typed
    if isinstance(value, dt.datetime):
        value = value.astimezone().date()
    return thai_date(value, style)


@dataclass
class ParsedForm:
    doc: dict[str, Any]
    unit: str | None
    date_text: str | None
    errors: list[Problem] = field(default_factory=list)  # problems of the form itself
    paths: dict[str, str] = field(default_factory=dict)  # document path -> form path

    def form_path(self, doc_path: str) -> str:
        """Where a problem about ``doc_path`` is shown on the form."""
        parts = doc_path.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in self.paths:
                rest = parts[cut:]
                return ".".join([self.paths[prefix], *rest])
        return doc_path


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    value = str(value).replace("\r\n", "\n").strip()
    return value or None


def _lines(form: FormData, name: str) -> list[str]:
    value = form.get(name) or ""
    return [line.strip() for line in str(value).replace("\r\n", "\n").split("\n") if line.strip()]


def _choice(form: FormData, name: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(form, name)
    return value if value in allowed else None


def letter_from_form(form: FormData, base: Mapping[str, Any] | None = None) -> ParsedForm:
    """The letter document a form describes, over ``base`` (keys the form does not show,
    such as ``attachments_text`` of an imported letter, are kept)."""
    kind = _text(form, "kind") or (base or {}).get("kind") or "external"
    errors: list[Problem] = []
    if kind not in KINDS:
        errors.append(
            Problem("kind", "unknown_kind", f"unknown kind {kind!r}", f"ไม่รู้จักชนิดหนังสือ {kind}")
        )
        kind = "external"
    doc = new_letter(kind, **{k: v for k, v in (base or {}).items() if k != "kind"})
    paths: dict[str, str] = {}
    doc["circular"] = form.get("circular") in ("1", "on", "true", True)
    doc["urgency"] = _choice(form, "urgency", URGENCIES)
    doc["secrecy"] = _choice(form, "secrecy", SECRECIES)
    doc["sender"] = {"name": _text(form, "sender.name"), "address": _lines(form, "sender.address")}
    doc["subject"] = _text(form, "subject")
    doc["salutation"] = _text(form, "salutation")
    doc["addressee"] = _text(form, "addressee")
    doc["references"] = []
    for index, value in enumerate(form.getlist("references")):
        value = str(value).strip()
        if value:
            paths[f"references.{len(doc['references'])}"] = f"references.{index}"
            doc["references"].append(value)
    doc["enclosures"] = []
    titles, quantities = form.getlist("enclosures.title"), form.getlist("enclosures.quantity")
    for index, title in enumerate(titles):
        quantity = str(quantities[index]).strip() if index < len(quantities) else ""
        if str(title).strip() or quantity:
            paths[f"enclosures.{len(doc['enclosures'])}"] = f"enclosures.{index}"
            doc["enclosures"].append(
                {"title": str(title).strip() or None, "quantity": quantity or None}
            )
    doc["body"] = _body(form, paths)
    doc["closing"] = _text(form, "closing")
    doc["complimentary_close"] = _text(form, "complimentary_close")
    doc["signer"] = {
        "name": _text(form, "signer.name"),
        "position": _lines(form, "signer.position"),
    }
    doc["owner_unit"] = _lines(form, "owner_unit")
    doc["contact"] = {
        "phone": _text(form, "contact.phone"),
        "fax": _text(form, "contact.fax"),
        "email": _text(form, "contact.email"),
    }
    doc["footer"] = _text(form, "footer")
    doc["copies_to"] = _lines(form, "copies_to")
    doc["ref_no"] = None
    date_text = _text(form, "date")
    doc["date"] = None
    try:
        date = parse_be_date(date_text)
    except ThaiDateError as exc:
        errors.append(Problem("date", exc.code, exc.en, exc.th))
    else:
        doc["date"] = date.isoformat() if date else None
    return ParsedForm(doc, _text(form, "unit"), date_text, errors, paths)


def _body(form: FormData, paths: dict[str, str]) -> list[Any]:
    indices = sorted(
        int(m.group(1)) for key in form.keys() if (m := _BODY_KEY_RE.fullmatch(str(key)))
    )
    body: list[Any] = []
    for index in indices:
        kind = form.get(f"body.{index}.kind")
        if kind == "items":
            items: list[str] = []
            for item_index, value in enumerate(form.getlist(f"body.{index}.items")):
                value = str(value).replace("\r\n", "\n").strip()
                if value:
                    paths[f"body.{len(body)}.items.{len(items)}"] = (
                        f"body.{index}.items.{item_index}"
                    )
                    items.append(value)
            if items:
                paths[f"body.{len(body)}"] = f"body.{index}"
                body.append({"items": items})
        else:
            text = _text(form, f"body.{index}.text")
            if text:
                paths[f"body.{len(body)}"] = f"body.{index}"
                body.append(text)
    return body


def body_blocks(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The body as the form shows it: one entry per block, never empty (a blank paragraph
    to start typing in)."""
    blocks = []
    for block in doc.get("body") or []:
        if isinstance(block, dict):
            blocks.append({"kind": "items", "items": list(block.get("items") or []) or [""]})
        else:
            blocks.append({"kind": "paragraph", "text": str(block)})
    return blocks or [{"kind": "paragraph", "text": ""}]


def field_label(path: str) -> str:
    """A field path as a clerk reads it: "references.1" -> "อ้างถึง ลำดับที่ ๒",
    "body.2.items.0" -> "ข้อความ ส่วนที่ ๓ ข้อ ๑"."""
    parts = path.split(".")
    numbered = ("references", "enclosures", "copies_to")
    if parts[0] in numbered and len(parts) > 1 and parts[1].isdecimal():
        return f"{FIELD_LABELS[parts[0]]} ลำดับที่ {to_thai_digits(str(int(parts[1]) + 1))}"
    if parts[0] == "body" and len(parts) > 1 and parts[1].isdecimal():
        label = f"ข้อความ ส่วนที่ {to_thai_digits(str(int(parts[1]) + 1))}"
        if len(parts) > 3 and parts[2] == "items" and parts[3].isdecimal():
            label += f" ข้อ {to_thai_digits(str(int(parts[3]) + 1))}"
        return label
    for cut in range(len(parts), 0, -1):
        known = FIELD_LABELS.get(".".join(parts[:cut]))
        if known:
            return known
    return path


def problems_json(problems: list[Problem], parsed: ParsedForm | None) -> list[dict[str, str]]:
    """Problems for the page: each with the form field it belongs beside."""
    out = []
    for problem in problems:
        item = problem.as_dict()
        item["form_field"] = parsed.form_path(problem.field) if parsed else problem.field
        item["label"] = field_label(problem.field)
        out.append(item)
    return out
