"""Drafts, from the first click to the preview: shared by the pages and the API.

A draft belongs to the clerk who made it (anyone else gets NotFound). It is checked with the
letter module's own rules (errors from :func:`saraban.letter.validate`, warnings from
:func:`saraban.letter.lint`) and previewed as the PDF that issuing will print (the unit's
sender, contact, footer and signer filled in, dated today unless a date is typed).
Issuing it is :mod:`saraban.usecases.issuing`.

The drafts live in the web service's store; this module takes any store with the methods of
:class:`DraftStore`, so it never imports the service (or Flask).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

from saraban.archive import Archive, UnitInfo, with_unit_defaults
from saraban.errors import BadRequest, InvalidLetter, NotFound, Problem, SarabanError
from saraban.letter import lint, new_letter, validate
from saraban.thai import ThaiDateError, parse_be_date
from saraban.usecases._access import visible_letter
from saraban.vocabulary import LETTER_KINDS

if TYPE_CHECKING:
    from saraban.usecases.previews import Previews

_PREVIEWS: OrderedDict[str, bytes] = OrderedDict()
_PREVIEWS_LOCK = threading.Lock()
_PREVIEWS_KEPT = 32


class Draft(Protocol):
    """A draft as the store hands it out."""

    @property
    def id(self) -> int: ...
    @property
    def owner_id(self) -> int: ...
    @property
    def doc(self) -> dict[str, Any]: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def date_text(self) -> str | None: ...
    @property
    def letter_id(self) -> int | None: ...


class DraftStore(Protocol):
    """Where drafts are kept (the web service's :class:`~saraban.service._store.Store`)."""

    def draft(self, draft_id: int) -> Any: ...

    def create_draft(self, owner_id: int, doc: dict[str, Any], *, unit: str | None) -> Any: ...

    def update_draft(
        self, draft_id: int, doc: dict[str, Any], *, unit: str | None, date_text: str | None
    ) -> Any: ...

    def delete_draft(self, draft_id: int) -> None: ...


def draft_for(store: DraftStore, draft_id: int, owner_id: int) -> Any:
    """The owner's draft, or NotFound (also for another clerk's draft)."""
    draft = store.draft(draft_id)
    if draft is None or draft.owner_id != owner_id:
        # no number in the words: the row number counts every clerk's drafts
        raise NotFound("ไม่พบร่างหนังสือนี้ / no such draft")
    return draft


def unit_info(archive: Archive, prefix: str | None) -> UnitInfo | None:
    if not prefix:
        return None
    for unit in archive.units():
        if unit.prefix == prefix:
            return unit
    return None


def check_unit(archive: Archive, prefix: str | None) -> str | None:
    """The unit prefix a draft will issue under, if the archive has it; None for none."""
    if prefix and unit_info(archive, prefix) is None:
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
    archive: Archive,
    store: DraftStore,
    owner_id: int,
    kind: str,
    *,
    circular: bool = False,
    unit: str | None = None,
    letter: dict[str, Any] | None = None,
) -> Any:
    """A new draft: of ``kind`` from the unit's defaults, or a copy of ``letter`` (its
    number dropped: the register gives one)."""
    prefix = check_unit(archive, unit)
    if letter is None:
        doc = starting_letter(kind, circular=circular, unit=unit_info(archive, prefix))
    else:
        doc = copy.deepcopy(letter)
        doc["ref_no"] = None
    return store.create_draft(owner_id, doc, unit=prefix)


def save(
    archive: Archive,
    store: DraftStore,
    draft: Draft,
    doc: dict[str, Any],
    *,
    unit: str | None,
    date_text: str | None = None,
) -> Any:
    """Keep the draft's new text (and unit); a number typed in is dropped."""
    prefix = check_unit(archive, unit)
    return store.update_draft(draft.id, {**doc, "ref_no": None}, unit=prefix, date_text=date_text)


def delete(store: DraftStore, draft: Draft) -> None:
    store.delete_draft(draft.id)


def copy_letter(
    archive: Archive, store: DraftStore, owner_id: int, letter_id: int, clearance: str | None
) -> Any:
    """A new draft from a letter the user may see (the number and date left for the
    register); under the letter's unit when the archive still has it."""
    record = visible_letter(archive, letter_id, clearance)
    doc = archive.letter_document(letter_id)
    doc["date"] = None
    unit = record.unit if unit_info(archive, record.unit) else None
    return create(archive, store, owner_id, doc.get("kind", "external"), unit=unit, letter=doc)


def date_problem(doc: dict[str, Any], date_text: str | None) -> Problem | None:
    """A date the clerk typed that could not be read: an error of its own, so that the
    letter never silently takes today's date instead."""
    if date_text and not doc.get("date"):
        try:
            parse_be_date(date_text)
        except ThaiDateError as exc:
            return Problem("date", exc.code, exc.en, exc.th)
    return None


def findings(
    doc: dict[str, Any], date_text: str | None = None
) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of a draft."""
    errors = validate(doc)
    problem = date_problem(doc, date_text)
    if problem is not None:
        errors.insert(0, problem)
    if any(e.code in ("too_long", "too_many") for e in errors):
        return errors, []  # the advice can wait until the draft is within its bounds
    return errors, lint(doc)


def preview_pdf(archive: Archive, draft: Draft, previews: Previews | None = None) -> bytes:
    """The PDF as issuing will print it (the archive's renderer, the unit's defaults), but
    without its number (the register gives it). With ``previews`` it is rendered in their
    render processes, within their time limit (else ``previews.PreviewTooSlow``)."""
    doc = with_unit_defaults(copy.deepcopy(draft.doc), unit_info(archive, draft.unit))
    if not doc.get("date"):
        doc["date"] = dt.date.today().isoformat()
    renderer = archive.renderer
    shown = json.dumps(
        [doc, str(getattr(renderer, "emblem", "")), getattr(renderer, "digits", "")],
        ensure_ascii=False,
        sort_keys=True,
    )
    key = hashlib.sha256(shown.encode()).hexdigest()
    with _PREVIEWS_LOCK:
        if key in _PREVIEWS:
            _PREVIEWS.move_to_end(key)
            return _PREVIEWS[key]
    try:
        pdf = renderer.render_pdf(doc) if previews is None else previews.render(renderer, doc)
    except (SarabanError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - WeasyPrint raises BaseExceptions too
        raise SarabanError(
            f"แสดงตัวอย่างหนังสือไม่ได้ / the preview could not be rendered: {exc!r}"
        ) from exc
    with _PREVIEWS_LOCK:
        _PREVIEWS[key] = pdf
        while len(_PREVIEWS) > _PREVIEWS_KEPT:
            _PREVIEWS.popitem(last=False)
    return pdf
