"""The JSON API of circulars (``/api/v1``, bearer tokens, the one error shape, as
``service/api.py``): the address book, sending a letter, its tracking and reminders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from saraban.errors import BadRequest
from saraban.service import _web
from saraban.settings import Settings
from saraban.usecases import recipients, sending

bp = Blueprint("circulars_api", __name__, url_prefix="/api/v1")


def _settings() -> Settings:
    settings: Settings = current_app.extensions["saraban_settings"]
    return settings


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name}: ต้องเป็นข้อความ / must be text")
    return value


def _texts(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name}: ต้องเป็นรายการข้อความ / must be a list of text")
    return value


@bp.get("/recipients")
@_web.login_required
def list_recipients() -> Any:
    page, per_page = _web.api_paging()
    found = recipients.listing(_web.archive(), request.args.get("group") or None)
    items = [r.as_dict() for r in found[(page - 1) * per_page : page * per_page]]
    return _web.json_ok(
        {
            "ok": True,
            "items": items,
            "page": page,
            "per_page": per_page,
            "total": len(found),
            "pages": max(1, -(-len(found) // per_page)),
        }
    )


@bp.post("/recipients")
@_web.admin_required
def add_recipient() -> Any:
    body = _web.json_body()
    found = recipients.add(
        _web.archive(),
        _text(body, "name") or "",
        actor=_web.user().name,
        addressee=_text(body, "addressee"),
        email=_text(body, "email"),
        groups=_texts(body, "groups"),
        unit=_text(body, "unit"),
    )
    return _web.json_ok({"ok": True, "recipient": found.as_dict()}, 201)


@bp.post("/letters/<letter:letter_id>/send")
@_web.login_required
def send(letter_id: int) -> Any:
    """``{to: [group or name...], due?: BE date text, working_days?: n, form?: name}``;
    answers ``{deliveries: [{name, email, link}]}`` (each link shown this once). A letter
    the user may not see is 404 before the body is read, like a letter that is not there."""
    _web.visible_letter(letter_id)
    body = _web.json_body()
    user = _web.user()
    working = body.get("working_days")
    if working is not None and (isinstance(working, bool) or not isinstance(working, int)):
        raise BadRequest("working_days: ต้องเป็นจำนวนเต็ม / must be a whole number")
    sent = sending.send(
        _web.archive(),
        _settings(),
        letter_id,
        _texts(body, "to"),
        actor=user.name,
        clearance=user.clearance,
        due=sending.parse_due(_text(body, "due")),
        working_days=working,
        form=_text(body, "form") or None,
    )
    current_app.extensions["saraban_mail"].poke()
    return _web.json_ok({"ok": True, **sent.as_dict()}, 201)


@bp.get("/letters/<letter:letter_id>/tracking")
@_web.login_required
def tracking(letter_id: int) -> Any:
    found = sending.tracking(_web.archive(), letter_id, clearance=_web.user().clearance)
    return _web.json_ok({"ok": True, **found.as_dict()})


@bp.post("/letters/<letter:letter_id>/remind")
@_web.login_required
def remind(letter_id: int) -> Any:
    user = _web.user()
    sent = sending.remind(
        _web.archive(), _settings(), letter_id, actor=user.name, clearance=user.clearance
    )
    current_app.extensions["saraban_mail"].poke()
    return _web.json_ok(
        {
            "ok": True,
            "reminded": [{"name": d.name, "email": d.email, "link": link} for d, link in sent],
        }
    )
