"""Search: a Thai query (words, a phrase in quotes, a reference number typed any way), with
filters, facets, highlighted snippets and pages. Only what the user is cleared for is ever
counted or shown (the index filters by clearance, facets included)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template, request

from saraban.errors import BadRequest
from saraban.indexer._query import check_length
from saraban.letter import KINDS, URGENCIES
from saraban.service import _web
from saraban.service._letter_form import parse_be_date
from saraban.service._letter_links import remember_public_ids
from saraban.thai import BE_OFFSET, ThaiDateError, to_arabic_digits

bp = Blueprint("search", __name__)
PER_PAGE = 10
DIRECTIONS = {"sent": "หนังสือส่ง", "received": "หนังสือรับ", "imported": "นำเข้า"}
SORTS = {"relevance": "ตรงที่สุด", "date": "ใหม่ที่สุด"}


def _be_year(text: str, field: str) -> int:
    digits = to_arabic_digits(text.strip())
    if not digits.isdecimal():
        raise BadRequest(f"{field}: '{text}' ไม่ใช่ปี พ.ศ. / not a year")
    year = int(digits)
    if year < 2400:
        raise BadRequest(
            f"{field}: ปี {year} เป็นปี ค.ศ. ให้ใช้ปี พ.ศ. ({year + BE_OFFSET}) / {year} looks "
            f"like a CE year: use the BE year {year + BE_OFFSET}"
        )
    if year > 2800:
        raise BadRequest(f"{field}: ปี {year} ไม่ถูกต้อง / {year} is not a plausible BE year")
    return year


def parse_search(args: Mapping[str, str]) -> tuple[str, dict[str, Any], str, dict[str, str]]:
    """(query, filters, sort, errors by field) from a query string; each error in Thai and
    English, naming the field. Used by the page and the API alike."""
    query = (args.get("q") or "").strip()
    filters: dict[str, Any] = {}
    errors: dict[str, str] = {}
    try:
        check_length(query)
    except BadRequest as exc:
        errors["q"] = exc.message
    for name in ("date_from", "date_to"):
        text = (args.get(name) or "").strip()
        if text:
            try:
                filters[name] = parse_be_date(text)
            except ThaiDateError as exc:
                errors[name] = f"{exc.th} / {exc.en}"
    year_text = (args.get("year") or "").strip()
    if year_text:
        try:
            year = _be_year(year_text, "year") - BE_OFFSET
            filters["date_from"] = max(filters.get("date_from") or dt.date.min, dt.date(year, 1, 1))
            filters["date_to"] = min(filters.get("date_to") or dt.date.max, dt.date(year, 12, 31))
        except BadRequest as exc:
            errors["year"] = exc.message
    fiscal = (args.get("fiscal_year") or "").strip()
    if fiscal:
        try:
            filters["fiscal_year"] = _be_year(fiscal, "fiscal_year")
        except BadRequest as exc:
            errors["fiscal_year"] = exc.message
    choices = {"kind": KINDS, "urgency": URGENCIES, "direction": tuple(DIRECTIONS)}
    for name, allowed in choices.items():
        value = (args.get(name) or "").strip()
        if value:
            if value in allowed:
                filters[name] = value
            else:
                errors[name] = (
                    f"{name}: ไม่รู้จักค่า {value!r} / unknown value {value!r}; use one of "
                    f"{', '.join(allowed)}"
                )
    unit = (args.get("unit") or "").strip()
    if unit:
        filters["unit"] = unit[:100]
    sort = (args.get("sort") or "relevance").strip()
    if sort not in SORTS:
        errors["sort"] = "sort: ต้องเป็น relevance หรือ date / must be relevance or date"
        sort = "relevance"
    return query, filters, sort, errors


@bp.get("/search")
@_web.login_required
def search() -> Any:
    user = _web.user()
    service = _web.search_service()
    query, filters, sort, errors = parse_search(request.args)
    page = _web.page_number()
    result = None
    unavailable = None if service.available else service.why_unavailable
    if (query or filters) and not errors and service.available:
        try:
            result = service.search(
                query,
                clearance=user.clearance,
                filters=filters,
                sort=sort,
                limit=PER_PAGE,
                offset=(page - 1) * PER_PAGE,
            )
        except BadRequest as exc:  # a query beyond the limits: said beside the box
            errors["q"] = exc.message.removeprefix("q: ")
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    if result is not None:
        remember_public_ids(h.id for h in result.hits)  # one query for the page's links
    return render_template(
        "search.html",
        query=query,
        args=args,
        result=result,
        page=page,
        pages=max(1, -(-result.total // PER_PAGE)) if result else 1,
        errors=errors,
        kinds=KINDS,
        urgencies=URGENCIES,
        directions=DIRECTIONS,
        sorts=SORTS,
        units=_web.archive().units(),
        unavailable=unavailable,
    ), (400 if errors else 200)
