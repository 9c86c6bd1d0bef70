"""Drafts, from the first click to the issued letter: shared by the pages and the API.

A draft belongs to the clerk who made it (anyone else gets 404). It is checked with the
letter module's own rules (errors from :func:`saraban.letter.validate`, warnings from
:func:`saraban.letter.lint`), previewed as the PDF that issuing will print (the unit's
sender, contact, footer and signer filled in, dated today unless a date is typed), and
issued by the archive under the draft's unit. Issuing claims the draft first, so a double
click cannot take two numbers.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from saraban.archive import IssuedLetter, UnitInfo, with_unit_defaults
from saraban.errors import BadRequest, Conflict, InvalidLetter, NotFound, Problem
from saraban.letter import lint, new_letter, validate
from saraban.service import _web
from saraban.service._letter_form import parse_be_date
from saraban.service._store import DraftInfo, UserInfo
from saraban.thai import ThaiDateError
from saraban.vocabulary import LETTER_KINDS

_PREVIEWS: OrderedDict[str, bytes] = OrderedDict()
_PREVIEWS_LOCK = threading.Lock()
_PREVIEWS_KEPT = 32


def draft_for(draft_id: int, user: UserInfo) -> DraftInfo:
    """The user's own draft, or NotFound (also for another clerk's draft)."""
    draft = _web.store().draft(draft_id)
    if draft is None or draft.owner_id != user.id:
        raise NotFound(f"ไม่พบร่างหนังสือรายการ {draft_id} / no draft {draft_id}")
    return draft


def unit_info(prefix: str | None) -> UnitInfo | None:
    if not prefix:
        return None
    for unit in _web.archive().units():
        if unit.prefix == prefix:
            return unit
    return None


def check_unit(prefix: str | None) -> str | None:
    if prefix and unit_info(prefix) is None:
        raise InvalidLetter(
            [
                Problem(
                    "unit",
                    "unknown_unit",
                    f"no unit with the prefix {prefix!r}",
                    f"ไม่พบส่วนราชการเลข {prefix}",
                )
            ]
        )
    return prefix or None


def starting_letter(kind: str, *, circular: bool, unit: UnitInfo | None) -> dict[str, Any]:
    """A new draft of ``kind`` with what a clerk would type anyway already in it."""
    if kind not in LETTER_KINDS:
        raise BadRequest(f"kind: ไม่รู้จักชนิดหนังสือ {kind!r} / unknown kind {kind!r}")
    fields: dict[str, Any] = {"circular": circular}
    if LETTER_KINDS[kind].prints("salutation"):
        fields["salutation"] = "เรียน"
    if LETTER_KINDS[kind].prints("complimentary_close"):
        fields["complimentary_close"] = "ขอแสดงความนับถือ"
    doc = new_letter(kind, **fields)
    return with_unit_defaults(doc, unit)


def create(
    user: UserInfo,
    kind: str,
    *,
    circular: bool = False,
    unit: str | None = None,
    letter: dict[str, Any] | None = None,
) -> DraftInfo:
    prefix = check_unit(unit)
    if letter is None:
        doc = starting_letter(kind, circular=circular, unit=unit_info(prefix))
    else:
        doc = copy.deepcopy(letter)
        doc["ref_no"] = None
    return _web.store().create_draft(user.id, doc, unit=prefix)


def findings(
    doc: dict[str, Any], date_text: str | None = None
) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of a draft. A date the clerk typed that could not be read is an
    error of its own: the letter must not silently take today's date instead."""
    errors = validate(doc)
    if date_text and not doc.get("date"):
        try:
            parse_be_date(date_text)
        except ThaiDateError as exc:
            errors.insert(0, Problem("date", exc.code, exc.en, exc.th))
    return errors, lint(doc)


def preview_pdf(draft: DraftInfo) -> bytes:
    """The PDF as issuing will print it, but without its number (the register gives it)."""
    from saraban.templates import render_pdf

    doc = with_unit_defaults(copy.deepcopy(draft.doc), unit_info(draft.unit))
    if not doc.get("date"):
        doc["date"] = dt.date.today().isoformat()
    key = hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    with _PREVIEWS_LOCK:
        if key in _PREVIEWS:
            _PREVIEWS.move_to_end(key)
            return _PREVIEWS[key]
    pdf = render_pdf(doc)
    with _PREVIEWS_LOCK:
        _PREVIEWS[key] = pdf
        while len(_PREVIEWS) > _PREVIEWS_KEPT:
            _PREVIEWS.popitem(last=False)
    return pdf


def issue(draft: DraftInfo, user: UserInfo) -> IssuedLetter:
    """Issue the draft under its unit: number, date, DOCX and PDF/A, audit (the search
    index, told by the archive, catches up in the background)."""
    if draft.letter_id:
        raise Conflict(
            f"ร่างนี้ออกเลขแล้วเป็นหนังสือรายการ {draft.letter_id} / this draft was issued "
            f"already as letter {draft.letter_id}"
        )
    if not draft.unit:
        raise InvalidLetter(
            [
                Problem(
                    "unit",
                    "required",
                    "choose the unit that issues the letter (its register gives the number)",
                    "เลือกส่วนราชการที่ออกหนังสือ (ทะเบียนของส่วนราชการจะออกเลขให้)",
                )
            ]
        )
    errors, _warnings = findings(draft.doc, draft.date_text)
    if errors:
        raise InvalidLetter(errors)
    store = _web.store()
    if not store.claim_draft(draft.id):
        raise Conflict("ร่างนี้กำลังออกเลขหรือออกเลขไปแล้ว / this draft is being issued or was issued")
    try:
        issued = _web.archive().issue(draft.doc, draft.unit, actor=user.name)
    except BaseException:
        store.release_draft(draft.id)
        raise
    store.mark_issued(draft.id, issued.id)
    return issued
