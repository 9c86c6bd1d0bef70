"""The errors of the forms package: saraban errors, each with a status and both languages."""

from __future__ import annotations

from saraban.errors import BadRequest, NotFound, Problem, SarabanError, TooLarge


class FormNotFound(NotFound):
    """No built-in form has that name; the message lists the ones there are."""

    def __init__(self, name: object, known: list[str]) -> None:
        self.name = name
        self.known = list(known)
        super().__init__(
            f"ไม่มีแบบฟอร์มชื่อ {name!r} / no form named {name!r}; "
            f"แบบฟอร์มที่มี / known forms: {', '.join(known)}"
        )

    def as_dict(self) -> dict:
        return {**super().as_dict(), "known": self.known}


MAX_PROBLEMS = 50  # told at once: 100,000 unknown keys made a 62 MB answer


class _WithProblems(BadRequest):
    th = ""
    en = ""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems[:MAX_PROBLEMS])
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            self.problems.append(
                Problem(
                    "",
                    "more_problems",
                    f"and {more:,} more problems",
                    f"และปัญหาอื่นอีก {more:,} รายการ",
                )
            )
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"{self.th} / {self.en}: {lines}")

    def as_dict(self) -> dict:
        return {**super().as_dict(), "problems": [p.as_dict() for p in self.problems]}


class InvalidFormData(_WithProblems):
    """The data does not fit the form: every problem, each naming its field path."""

    th = "ข้อมูลแบบฟอร์มไม่ถูกต้อง"
    en = "invalid form data"


class InvalidTemplate(_WithProblems):
    """An uploaded template that cannot be used: a broken tag, an unsafe or too costly
    expression, or a file that is not a Word document. Each problem names the place."""

    th = "แม่แบบใช้ไม่ได้"
    en = "unusable template"


class TemplateTooLarge(TooLarge):
    """An upload over a size limit (checked before the file is opened)."""


class PdfUnavailable(SarabanError):
    """PDF of an uploaded template needs LibreOffice, which is not installed here."""

    status = 501


class ConversionFailed(SarabanError):
    """LibreOffice ran but gave no PDF (a fault of the machine, not of the input)."""

    status = 500
