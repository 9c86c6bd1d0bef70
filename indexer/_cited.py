"""What a letter cites, as exact keys: every reference-like number in it (its dates are found
by the analyzer's own pass, :func:`saraban.indexer._thai.dates_of`).

A letter names other letters (``ตามหนังสือ ... ที่ นค ๐๐๑๙.๓/ว ๑๒๓๔``), orders (``คำสั่ง
จังหวัดที่ ๑๒/๒๕๖๗``), contracts (``สัญญาเลขที่ กจ. ๔๕/๒๕๖๗``) and dates in every form clerks
write (``๒๑ เดือน พฤศจิกายน พ.ศ. ๒๕๖๗``, ``21/11/67``). Read as words these are runs of
common syllables and digits that many letters share; kept as keys, a query for one finds
exactly the letters that cite it. The same functions read a query, so a number or a date is
one key whichever way it is typed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from saraban.thai import RefNo, RefNoError, find_ref_nos, parse_ref_no, to_arabic_digits

# A number after a label (``สัญญาเลขที่``, ``เลขที่``, ``ฉบับที่``, ``คำสั่งจังหวัดที่``; not
# ``ครั้งที่``, ``หมู่ที่``, ``ข้อที่``, ...), with an optional prefix of letters (``กจ.``):
# serial/BE year. A bare ``12/2567`` in a query is read the same way.
_LABELLED_RE = re.compile(
    r"(?:เลขที่|ฉบับที่|(?<!ครั้ง)(?<!หมู่)(?<!ข้อ)(?<!ลำดับ)(?<!ชั้น)(?<!เลข)(?<!ฉบับ)ที่)"
    r"\s*(?:(?P<prefix>[ก-ฮ]{1,4})\.?\s*)?"
    r"(?P<serial>[0-9๐-๙]+)\s*/\s*(?P<year>[0-9๐-๙]{4})(?![0-9๐-๙])"
)
_SEPARATOR = "\x00"  # between texts read at once: neither space, digit nor letter
_BARE_RE = re.compile(
    r"(?<![0-9๐-๙./])(?P<serial>[0-9๐-๙]+)\s*/\s*(?P<year>[0-9๐-๙]{4})(?![0-9๐-๙./])"
)


def _key(ref: RefNo, circular: bool, year: int | None) -> str:
    """:attr:`RefNo.key` of ``ref`` with another ``circular`` and ``year`` (made here
    rather than through a new RefNo, which checks every field again)."""
    tail = f"/{year}" if year is not None else ""
    if not ref.code:
        return f"{ref.serial}{tail}"
    return f"{ref.code}{ref.unit}/{'ว' if circular else ''}{ref.serial}{tail}"


def ref_keys(ref: RefNo) -> list[str]:
    """Keys under which a number is found: :attr:`RefNo.key` (``นค0019.3/ว2564``), then
    the same without ``ว`` and, for a letter number with a year tail, without the year:
    what a clerk who leaves those out types."""
    keys = [ref.key]
    for circular in (ref.circular, False):
        for year in (ref.year, None) if ref.code else (ref.year,):
            key = _key(ref, circular, year)
            if key not in keys:
                keys.append(key)
    return keys


def _around_slashes(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Matches of ``pattern`` (each holding a "/" within 40 characters of its start)
    looked for only around each "/": far cheaper than trying it at every character."""
    found: list[re.Match[str]] = []
    taken = 0
    slash = text.find("/")
    while slash >= 0:
        if slash >= taken:
            end = min(len(text), slash + 16)
            m = pattern.search(text, max(taken, slash - 40), end)
            if m is not None and m.end() >= end and end < len(text):
                m = pattern.search(text, m.start())  # it may go on past the window
            if m is not None and m.start() <= slash:
                found.append(m)
                taken = m.end()
        slash = text.find("/", slash + 1)
    return found


def own_keys(ref_no: str | None) -> list[str]:
    """The keys of a letter's own number (:func:`ref_keys`), read whole or, failing that,
    the first number in it; none for a letter without one."""
    if not ref_no:
        return []
    try:
        return ref_keys(parse_ref_no(ref_no))
    except RefNoError:
        found = find_ref_nos(ref_no)
        return ref_keys(found[0][2]) if found else []


def _labelled(m: re.Match[str]) -> list[str]:
    serial, year = to_arabic_digits(m["serial"]), to_arabic_digits(m["year"])
    if int(year) < 2400 or not int(serial):
        return []
    keys = [f"{int(serial)}/{year}"]
    if m["prefix"]:
        keys.insert(0, f"{m['prefix']}{serial}/{year}")
    return keys


def cited_keys(texts: Iterable[str]) -> list[str]:
    """Keys of every reference-like number in ``texts``: letter numbers, ที่ numbers of
    orders and numbers after เลขที่ / ฉบับที่ (contracts, announcements), each also as a
    clerk who leaves out ว, the year tail or a contract's prefix would type it."""
    found: dict[str, None] = {}
    text = _SEPARATOR.join(texts)  # one pass over all (no pattern spans the separator)
    for _start, _end, ref in find_ref_nos(text):
        found.update(dict.fromkeys(ref_keys(ref)))
    for m in _around_slashes(_LABELLED_RE, text):
        found.update(dict.fromkeys(_labelled(m)))
    return list(found)


def date_key(date: dt.date) -> str:
    return f"{date.year:04d}{date.month:02d}{date.day:02d}"


def query_numbers(text: str) -> list[tuple[int, int, RefNo]]:
    """The numbers in a query, as (start, end, RefNo): what :func:`find_ref_nos` reads, and
    a bare ``serial/BE year`` (an order's or a contract's number typed without ที่)."""
    found = find_ref_nos(text)
    taken = [(start, end) for start, end, _ref in found]
    for m in _BARE_RE.finditer(text):
        if any(start < m.end() and m.start() < end for start, end in taken):
            continue
        try:
            ref = RefNo(
                "", "", False, int(to_arabic_digits(m["serial"])), int(to_arabic_digits(m["year"]))
            )
        except RefNoError:
            continue
        found.append((m.start(), m.end(), ref))
    return sorted(found, key=lambda item: item[0])
