"""Letters in URLs: by their public id, never by the archive's row number.

The archive numbers its rows 1, 2, 3, ...; a URL or a JSON id with that number would tell an
uncleared clerk how many letters were written between two they can see (the hidden ones).
Every route that names a letter takes ``<letter:letter_id>``: the path holds the letter's
public id (12 random characters, ``archive/_models.py``) and the view receives the row
number. Building a URL takes a record (anything with ``public_id``), a public id, or a row
number (looked up once a request)::

    url_for("letters.letter", letter_id=record)      # or letter_url(record)
    url_for("api.letter_file", letter_id=hit.id, kind="pdf")

A path with a row number (``/letters/12``) or an unknown id names no letter: 404, the same
answer as a letter the user may not see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, g, url_for
from werkzeug.routing import BaseConverter

from saraban.archive._models import PUBLIC_ID_PATTERN

NO_LETTER = 0  # what a view receives for a public id that names no letter (no row is 0)


class LetterConverter(BaseConverter):
    """``<letter:letter_id>``: a public id in the path, the archive's row number in the view."""

    regex = PUBLIC_ID_PATTERN

    def to_python(self, value: str) -> int:
        # An unknown id still reaches the view, whose "not found" is the one a hidden letter
        # gets: the same words, the same status, no shortcut that answers faster.
        return current_app.extensions["archive"].letter_id_for(value) or NO_LETTER

    def to_url(self, value: Any) -> str:
        return public_id(value)


def public_id(letter: Any) -> str:
    """The public id of a record, a public id, or a row number."""
    found = getattr(letter, "public_id", None)
    if isinstance(found, str) and found:
        return found
    if isinstance(letter, str):
        return letter
    if isinstance(letter, int) and not isinstance(letter, bool):
        remember_public_ids([letter])
        known: dict[int, str] = g.saraban_public_ids
        if letter in known:
            return known[letter]
        raise LookupError(f"no letter {letter}")
    raise TypeError(f"a letter, its public id or its row number, not {letter!r}")


def remember_public_ids(letter_ids: Iterable[int]) -> None:
    """Look up the public ids of these rows in one query (a list page's links)."""
    known: dict[int, str] = g.setdefault("saraban_public_ids", {})
    wanted = [i for i in letter_ids if i not in known]
    if wanted:
        known.update(current_app.extensions["archive"].public_ids(wanted))


def known_public_ids(letter_ids: Iterable[int]) -> dict[int, str]:
    """The public ids of those of these rows the archive holds, remembered for the
    request's links (one query)."""
    wanted = list(letter_ids)
    remember_public_ids(wanted)
    known: dict[int, str] = g.saraban_public_ids
    return {i: known[i] for i in wanted if i in known}


def letter_url(letter: Any, endpoint: str = "letters.letter", **values: Any) -> str:
    """The URL of a letter's page (or of another route that names a letter)."""
    return url_for(endpoint, letter_id=letter, **values)


class ReceivedConverter(BaseConverter):
    """``<received:received_id>``: a received letter's public id in the path, its row in
    the incoming register in the view (0 for an unknown id: the view's "not found", the
    same answer a hidden one gets)."""

    regex = PUBLIC_ID_PATTERN

    def to_python(self, value: str) -> int:
        return current_app.extensions["archive"].received_id_for(value) or NO_LETTER

    def to_url(self, value: Any) -> str:
        return _own_public_id(value, "a received letter")


def received_url(received: Any, endpoint: str = "received.received", **values: Any) -> str:
    """The URL of a received letter's page (or another route that names one)."""
    return url_for(endpoint, received_id=received, **values)


class DraftConverter(BaseConverter):
    """``<draft:draft_id>``: a draft's public id in the path, its row in the view (0 for an
    unknown id: the owner check's "not found", the answer another clerk's draft gets). The
    row number counts every clerk's drafts; the command line may still use it."""

    regex = PUBLIC_ID_PATTERN

    def to_python(self, value: str) -> int:
        return current_app.extensions["saraban_store"].draft_id_for(value) or NO_LETTER

    def to_url(self, value: Any) -> str:
        return _own_public_id(value, "a draft")


def _own_public_id(value: Any, what: str) -> str:
    """The public id of a record (or a public id itself); never a row number, which would
    count the rows between two a user may see."""
    found = getattr(value, "public_id", None)
    if isinstance(found, str) and found:
        return found
    if isinstance(value, str):
        return value
    raise TypeError(f"{what} or its public id, not {value!r}")
