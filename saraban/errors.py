"""One base error for saraban, with subclasses that carry an HTTP-like ``status``.

The web service turns any :class:`SarabanError` into the JSON shape
``{"ok": false, "error": ..., "status": ...}``; the CLI prints it and exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass


class SarabanError(Exception):
    """Base of every error saraban raises on purpose."""

    status = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        return {"ok": False, "error": self.message, "status": self.status}


class BadRequest(SarabanError):
    """The input is wrong; the message says what and where."""

    status = 400


class NotFound(SarabanError):
    status = 404


class Conflict(SarabanError):
    status = 409


class TooLarge(SarabanError):
    status = 413


@dataclass(frozen=True)
class Problem:
    """One finding about a letter document: an error or a warning, tied to a field path."""

    field: str  # dotted path, e.g. "signer.name", "references.0", "body.2.items.1"
    code: str  # stable machine code, e.g. "required", "ce_year"
    en: str  # English message
    th: str  # Thai message

    def __str__(self) -> str:
        return f"{self.field}: {self.en} ({self.th})"

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "en": self.en, "th": self.th}


class InvalidLetter(BadRequest):
    """A letter document that breaks the format; ``problems`` name every field at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"จดหมายไม่ถูกต้อง / invalid letter: {lines}")

    def as_dict(self) -> dict:
        return {**super().as_dict(), "problems": [p.as_dict() for p in self.problems]}
