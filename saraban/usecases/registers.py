"""The registers as a clerk reads them: the outgoing register (every number, cancelled and
unused ones with their reason) and the incoming one, for a period, as rows or as the
official table, without the letters the user is not cleared for.
"""

from __future__ import annotations

import datetime as dt
import re

from saraban.archive import (
    Archive,
    LetterRecord,
    Paging,
    ReceivedRecord,
    Table,
    check_rows,
    incoming_register,
    outgoing_register,
)
from saraban.letter import SECRECIES, can_see
from saraban.thai import thai_date

_SECRECY_NOTE = re.compile(r"ชั้นความลับ: (\S+)")


def visible_sent(records: list[LetterRecord], clearance: str | None) -> list[LetterRecord]:
    """The outgoing register's rows the user may see (not the letters kept from outside)."""
    return [
        r
        for r in records
        if r.status != "stored" and r.serial is not None and can_see(clearance, r.secrecy)
    ]


def filter_table(table: Table, records: list[LetterRecord], clearance: str | None) -> Table:
    """The outgoing register without the rows of letters the user may not see.

    A row is dropped when it matches a hidden letter (number, unit and date), and, as a
    second guard, whenever its note names a secrecy level above the clearance.
    """
    hidden = {
        (
            r.serial_label,
            r.unit or "",
            thai_date(r.date, "short") if r.date else "",
        )
        for r in records
        if r.serial is not None and not can_see(clearance, r.secrecy)
    }
    rows = []
    for row in table.rows:
        if (row[1], row[2], row[3]) in hidden:
            continue
        marked = _SECRECY_NOTE.search(row[-1] or "")
        if marked and not can_see(clearance, marked.group(1).rstrip(";")):
            continue
        rows.append(row)
    return Table(table.title, table.subtitle, table.columns, rows)


def register_table(
    archive: Archive,
    kind: str,
    date_from: dt.date,
    date_to: dt.date,
    register: str | None,
    clearance: str | None,
    *,
    fmt: str | None = None,
) -> Table:
    """The outgoing ("sent") or incoming ("received") register of the period as the
    official table, without what ``clearance`` may not see. With ``fmt``, a register too
    long for that file (``check_rows``) is refused from its count, before a row is read."""
    if fmt is not None:
        total, _first = register_page(
            archive, kind, date_from, date_to, register=register, clearance=clearance,
            page=1, per_page=1,
        )  # fmt: skip
        check_rows(total, fmt)
    if kind == "received":
        return incoming_register(
            archive, date_from, date_to, register=register, clearance=clearance
        )
    table = outgoing_register(archive, date_from, date_to, register=register)
    if clearance == SECRECIES[-1]:
        return table
    records = archive.letters(date_from=date_from, date_to=date_to, register=register)
    return filter_table(table, records, clearance)


def sent_rows(
    archive: Archive,
    date_from: dt.date,
    date_to: dt.date,
    *,
    register: str | None,
    clearance: str | None,
) -> list[LetterRecord]:
    """The outgoing register of the period, oldest number first, as the user may see it."""
    records = archive.letters(date_from=date_from, date_to=date_to, register=register)
    return visible_sent(records, clearance)


def register_page(
    archive: Archive,
    kind: str,
    date_from: dt.date,
    date_to: dt.date,
    *,
    register: str | None,
    clearance: str | None,
    page: int,
    per_page: int,
    newest_first: bool = True,
) -> tuple[int, list[LetterRecord] | list[ReceivedRecord]]:
    """One page of the outgoing ("sent") or incoming register as the user may see it (the
    rows of :func:`sent_rows` or :func:`received_rows`), and how many it has in all."""
    page_of = archive.sent_page if kind == "sent" else archive.received_page
    paging = Paging((page - 1) * per_page, per_page, newest_first)
    return page_of(date_from, date_to, register, clearance, paging)


def received_rows(
    archive: Archive,
    date_from: dt.date,
    date_to: dt.date,
    *,
    register: str | None,
    clearance: str | None,
) -> list[ReceivedRecord]:
    """The incoming register of the period, in order of เลขรับ, as the user may see it."""
    return archive.received(
        date_from=date_from, date_to=date_to, register=register, clearance=clearance
    )
