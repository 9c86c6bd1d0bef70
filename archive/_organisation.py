"""Units and their registers (the numbering books), and audit events that concern no letter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    select,
)

from saraban.archive import _audit
from saraban.archive._core import (
    CIRCULAR_SERIES,
    NUMBER_FORMATS,
    ArchiveCore,
    _prefix_key,
)
from saraban.archive._models import (
    Register,
    Unit,
    utcnow,
)
from saraban.archive._records import RegisterInfo, UnitInfo
from saraban.errors import BadRequest, Conflict, NotFound
from saraban.vocabulary import typed_text

MAX_LINES = 8  # an address or a signer's position: a few lines


def _lines(lines: Any, field_name: str) -> list[str]:
    """Lines of text (an address, a position), each one line of text, empty ones dropped."""
    if isinstance(lines, str) or not isinstance(lines, list | tuple):
        raise BadRequest(f"{field_name}: ต้องเป็นรายการบรรทัด / must be a list of lines")
    if len(lines) > MAX_LINES:
        raise BadRequest(f"{field_name}: ไม่เกิน {MAX_LINES} บรรทัด / at most {MAX_LINES} lines")
    kept = [typed_text(line, field_name, required=False) for line in lines]
    return [line for line in kept if line]


class Organisation(ArchiveCore):
    """Units, registers, and the audit events of the organisation."""

    def add_register(
        self,
        name: str,
        *,
        circular_series: str = "separate",
        number_format: str = "plain",
        actor: str,
    ) -> RegisterInfo:
        """A new numbering book. ``circular_series``: "separate" (ว letters have their own
        series) or "shared" (one counter for both); ``number_format``: "plain"
        (``/๒๗๕๒๘``) or "year" (``/๖๑๙/๒๕๖๕``)."""
        name = typed_text(name, "name") or ""
        if circular_series not in CIRCULAR_SERIES:
            raise BadRequest(
                f"circular_series: ต้องเป็น separate หรือ shared / must be one of "
                f"{', '.join(CIRCULAR_SERIES)}, not {circular_series!r}"
            )
        if number_format not in NUMBER_FORMATS:
            raise BadRequest(
                f"number_format: ต้องเป็น plain หรือ year / must be one of "
                f"{', '.join(NUMBER_FORMATS)}, not {number_format!r}"
            )
        with self._write() as s:
            if s.scalar(select(Register.id).where(Register.name == name)) is not None:
                raise Conflict(f"มีทะเบียนชื่อ {name!r} แล้ว / register {name!r} already exists")
            register = Register(
                name=name,
                circular_series=circular_series,
                number_format=number_format,
                created_at=utcnow(),
            )
            s.add(register)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="register.add",
                detail={
                    "register": name,
                    "circular_series": circular_series,
                    "number_format": number_format,
                },
            )
            return RegisterInfo(register.id, name, circular_series, number_format, [])

    def add_unit(
        self,
        prefix: str,
        name: str,
        *,
        register: str | None = None,
        address: list[str] | tuple[str, ...] = (),
        phone: str | None = None,
        fax: str | None = None,
        email: str | None = None,
        footer: str | None = None,
        signer: Mapping[str, Any] | None = None,
        circular_series: str = "separate",
        number_format: str = "plain",
        actor: str,
    ) -> UnitInfo:
        """A unit issuing under ``prefix`` (e.g. ``นค ๐๐๑๙.๓``) into ``register`` (a register
        name: shared with the units already in it). Without ``register`` a new register
        named after the prefix is made with ``circular_series`` and ``number_format``."""
        prefix = " ".join((typed_text(prefix, "prefix") or "").split())
        key = _prefix_key(prefix)
        name = typed_text(name, "name") or ""
        address = _lines(address, "address")
        if signer is not None:
            if not isinstance(signer.get("name"), str) or not isinstance(
                signer.get("position"), list
            ):
                raise BadRequest(
                    "signer: ต้องมี name และ position (รายการบรรทัด) / needs name and a list "
                    "of position lines"
                )
            signer = {
                "name": typed_text(signer["name"], "signer.name"),
                "position": _lines(signer["position"], "signer.position"),
            }
        with self._read() as s:
            # before a register is made for it: a refused unit left its new register behind
            if s.scalar(select(Unit.id).where(Unit.prefix_key == key)) is not None:
                raise Conflict(
                    f"มีส่วนราชการเลข {prefix} แล้ว / a unit with prefix {prefix} exists already"
                )
        if register is None:
            with self._read() as s:
                exists = s.scalar(select(Register.id).where(Register.name == prefix))
            if exists is None:
                self.add_register(
                    prefix,
                    circular_series=circular_series,
                    number_format=number_format,
                    actor=actor,
                )
            register = prefix
        with self._write() as s:
            reg = s.scalar(select(Register).where(Register.name == register))
            if reg is None:
                raise NotFound(f"ไม่พบทะเบียน {register!r} / no register named {register!r}")
            if s.scalar(select(Unit.id).where(Unit.prefix_key == key)) is not None:
                raise Conflict(
                    f"มีส่วนราชการเลข {prefix} แล้ว / a unit with prefix {prefix} exists already"
                )
            unit = Unit(
                prefix=prefix,
                prefix_key=key,
                name=name,
                address=address,
                phone=typed_text(phone, "phone", required=False),
                fax=typed_text(fax, "fax", required=False),
                email=typed_text(email, "email", required=False),
                footer=typed_text(footer, "footer", required=False, lines=True),
                signer=dict(signer) if signer else None,
                register_id=reg.id,
                created_at=utcnow(),
            )
            s.add(unit)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="unit.add",
                detail={"prefix": prefix, "name": name, "register": reg.name},
            )
            return self._unit_info(unit, reg)

    @staticmethod
    def _unit_info(unit: Unit, register: Register) -> UnitInfo:
        return UnitInfo(
            unit.id,
            unit.prefix,
            unit.name,
            register.name,
            list(unit.address),
            unit.phone,
            unit.fax,
            unit.email,
            unit.footer,
            unit.signer,
        )

    def units(self) -> list[UnitInfo]:
        with self._read() as s:
            rows = s.execute(select(Unit, Register).join(Register).order_by(Unit.prefix_key)).all()
            return [self._unit_info(u, r) for u, r in rows]

    def registers(self) -> list[RegisterInfo]:
        with self._read() as s:
            result = []
            for reg in s.scalars(select(Register).order_by(Register.name)):
                prefixes = s.scalars(
                    select(Unit.prefix).where(Unit.register_id == reg.id).order_by(Unit.prefix)
                ).all()
                result.append(
                    RegisterInfo(
                        reg.id, reg.name, reg.circular_series, reg.number_format, list(prefixes)
                    )
                )
            return result

    def audit(self, action: str, detail: Mapping[str, Any] | None = None, *, actor: str) -> None:
        """Append an event that concerns no letter (a login, a new user) to the audit chain."""
        with self._write() as s:
            _audit.append(s, actor=actor, action=action, detail=dict(detail or {}))
