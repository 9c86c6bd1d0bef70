"""The address book of recipients (ผู้รับ): offices letters are sent to, with their
addressee line, e-mail and groups (``ทุกอำเภอ``, ``ทุกจังหวัด``, the clerk's own).

A province's districts come from the ``geothai`` package (the Department of Provincial
Administration's codes and names; data CC BY 4.0, GeoThai/data): each district becomes
``ที่ว่าการอำเภอ<name>`` addressed to ``นายอำเภอ<name>`` in the group ``ทุกอำเภอ``
(Bangkok's districts: ``สำนักงานเขต<name>``, ``ผู้อำนวยการเขต<name>``, group ``ทุกเขต``).
E-mail addresses are not in any public data set: the clerk adds them, one by one or by CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from saraban.archive import Archive, circulars
from saraban.errors import BadRequest, NotFound

ALL_DISTRICTS = "ทุกอำเภอ"
ALL_BANGKOK_DISTRICTS = "ทุกเขต"
ALL_PROVINCES = "ทุกจังหวัด"
BANGKOK = "10"
CSV_COLUMNS = ("name", "addressee", "email", "groups", "unit")
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 5000


def add(
    archive: Archive,
    name: str,
    *,
    actor: str,
    addressee: str | None = None,
    email: str | None = None,
    groups: list[str] | None = None,
    unit: str | None = None,
    update: bool = False,
) -> circulars.RecipientInfo:
    """Add a recipient; with ``update``, change the one of the same name (what is not
    given is kept) instead of refusing it."""
    return circulars.save_recipient(
        archive,
        name,
        actor=actor,
        addressee=addressee,
        email=email,
        groups=groups,
        unit=unit,
        replace=update,
    )


def listing(archive: Archive, group: str | None = None) -> list[circulars.RecipientInfo]:
    return circulars.recipients(archive, group)


def _province(code_or_name: str) -> tuple[str, str]:
    import geothai

    wanted = code_or_name.strip().removeprefix("จังหวัด").strip()
    for province in geothai.provinces():
        if wanted in (province.code, province.name_th, province.name_en):
            return province.code, province.name_th
    raise NotFound(
        f"province: ไม่พบจังหวัด {code_or_name!r} / no province {code_or_name!r} (give its "
        "Thai name or its two-digit code, such as หนองคาย or 43)"
    )


@dataclass(frozen=True)
class Seeded:
    added: list[circulars.RecipientInfo]
    kept: list[str]  # already in the address book (by name), left as they are


def seed_province(archive: Archive, province: str, *, actor: str) -> Seeded:
    """Every district of a province into the address book, group ``ทุกอำเภอ``, in one
    transaction; a district already there is left as the clerk made it."""
    import geothai

    code, province_name = _province(province)
    known = {r.name: r for r in circulars.recipients(archive)}
    entries, kept = [], []
    for district in geothai.districts(code):
        if code == BANGKOK:
            name, addressee = f"สำนักงานเขต{district.name_th}", f"ผู้อำนวยการเขต{district.name_th}"
            group = ALL_BANGKOK_DISTRICTS
        else:
            name, addressee = f"ที่ว่าการอำเภอ{district.name_th}", f"นายอำเภอ{district.name_th}"
            group = ALL_DISTRICTS
        earlier = known.get(name)
        if earlier is not None and earlier.code not in (None, district.code):
            name = f"{name} จังหวัด{province_name}"  # the same district name in two provinces
            earlier = known.get(name)
        if earlier is not None:
            kept.append(name)
            continue
        entries.append(
            circulars.RecipientEntry(name, addressee, groups=[group], code=district.code)
        )
    return Seeded(circulars.save_recipients(archive, entries, actor=actor), kept)


def seed_provinces(archive: Archive, *, actor: str) -> Seeded:
    """Every province's governor (ผู้ว่าราชการจังหวัด), group ``ทุกจังหวัด``, in one
    transaction."""
    import geothai

    known = {r.name for r in circulars.recipients(archive)}
    entries, kept = [], []
    for province in geothai.provinces():
        if province.code == BANGKOK:
            continue
        name = f"ศาลากลางจังหวัด{province.name_th}"
        if name in known:
            kept.append(name)
            continue
        entries.append(
            circulars.RecipientEntry(
                name,
                f"ผู้ว่าราชการจังหวัด{province.name_th}",
                groups=[ALL_PROVINCES],
                code=province.code,
            )
        )
    return Seeded(circulars.save_recipients(archive, entries, actor=actor), kept)


def import_csv(archive: Archive, data: bytes, *, actor: str) -> list[circulars.RecipientInfo]:
    """Recipients from a CSV file with a header row naming its columns (``name``, and any
    of ``addressee``, ``email``, ``groups`` (separated by ``;``), ``unit``); UTF-8, with
    or without the BOM Excel writes. A recipient of the same name is updated. The whole
    file is saved in one transaction or not at all: a bad line is named
    (:class:`circulars.RecipientsRefused`, every bad line up to ten) and nothing is kept,
    so the clerk corrects the file and imports it again."""
    if len(data) > MAX_CSV_BYTES:
        raise BadRequest(
            f"ไฟล์ CSV ใหญ่เกิน {MAX_CSV_BYTES // (1024 * 1024)} MB / the CSV file is too large"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest(
            "ไฟล์ CSV ต้องเป็น UTF-8 (ใน Excel: บันทึกเป็น CSV UTF-8) / the CSV file must be UTF-8"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "name" not in columns:
        raise BadRequest(
            "ไฟล์ CSV ต้องมีแถวหัวตารางที่มีคอลัมน์ name / the CSV file needs a header row with "
            f"a name column (and any of {', '.join(CSV_COLUMNS[1:])})"
        )
    reader.fieldnames = columns
    entries: list[circulars.RecipientEntry] = []
    try:
        for row in reader:
            line = reader.line_num  # the file's line (a quoted value may span lines)
            if len(entries) >= MAX_CSV_ROWS:
                raise BadRequest(
                    f"บรรทัดที่ {line}: ไฟล์ CSV มีเกิน {MAX_CSV_ROWS:,} แถว แบ่งเป็นหลายไฟล์ / "
                    f"line {line}: more than {MAX_CSV_ROWS:,} rows; split the file"
                )
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue
            groups = None
            if "groups" in columns:
                groups = [g for g in (row.get("groups") or "").split(";") if g.strip()]
            entries.append(
                circulars.RecipientEntry(
                    row.get("name") or "",
                    addressee=row.get("addressee") or None,
                    email=row.get("email") if "email" in columns else None,
                    groups=groups,
                    unit=row.get("unit") or None,
                    line=line,
                )
            )
    except csv.Error as exc:
        raise BadRequest(
            f"บรรทัดที่ {reader.line_num}: อ่าน CSV ไม่ได้ / line {reader.line_num}: not "
            f"readable as CSV ({exc})"
        ) from None
    return circulars.save_recipients(archive, entries, actor=actor, replace=True)
