"""The registers as a clerk reads them: the outgoing register (every number, cancelled and
unused ones with their reason) and the incoming one, for a period, as pages of rows or as
the official table, without the letters the user is not cleared for (the archive leaves
them out in its queries, so no count, page or row tells of them).
"""

from __future__ import annotations

import datetime as dt

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
    if fmt is not None:  # counted only: a page of no rows reads none
        total, _none = register_page(
            archive, kind, date_from, date_to, register=register, clearance=clearance,
            page=1, per_page=0,
        )  # fmt: skip
        check_rows(total, fmt)
    table_of = incoming_register if kind == "received" else outgoing_register
    return table_of(archive, date_from, date_to, register=register, clearance=clearance)


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
    rows of :func:`register_table`), and how many it has in all."""
    page_of = archive.sent_page if kind == "sent" else archive.received_page
    paging = Paging((page - 1) * per_page, per_page, newest_first)
    return page_of(date_from, date_to, register, clearance, paging)
