"""Received letters taken in from files: their searchable copy, the stamped copy, the
letter they answer, and confirmation.

``received.pdfa_sha256``: the searchable PDF/A made by OCR beside the untouched original
(which is the linked letter's ``original_sha256``); ``received.stamped_sha256``: a copy of
page one with the receipt stamp; ``received.answers_id``: the letter of ours it answers;
``received.confirmed_at``/``confirmed_by``: when a clerk confirmed the fields read from
the file. Until then the fields (sender, their number, date, addressee, subject) may be
corrected; from then on they are as fixed as every other received row. Rows entered
before this revision were typed by a clerk: they count as confirmed when they were made.

Revision ID: 0005_intake
Revises: 0004_snags
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_intake"
down_revision: str | None = "0004_snags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECEIVED_FIXED = (
    "saraban: เลขรับ วันเวลารับ และต้นเรื่องแก้ไขไม่ได้ / the receive number, time and letter cannot change"  # noqa: E501
)
_NO_DELETE = "saraban: ทะเบียนลบไม่ได้ / register rows are never deleted"
# Never change, confirmed or not.
_ALWAYS_FIXED = (
    "id",
    "register_id",
    "year",
    "serial",
    "received_at",
    "created_at",
    "created_by",
    "secrecy",
    "public_id",
)
# Read from the file: corrected until confirmed, then fixed (confirmation itself included).
_FIXED_ONCE_CONFIRMED = (
    "ref_no",
    "letter_date",
    "sender",
    "recipient",
    "subject",
    "confirmed_at",
    "confirmed_by",
)


def upgrade() -> None:
    op.add_column("received", sa.Column("pdfa_sha256", sa.String(64)))
    op.add_column("received", sa.Column("stamped_sha256", sa.String(64)))
    op.add_column("received", sa.Column("answers_id", sa.Integer))
    op.add_column("received", sa.Column("confirmed_at", sa.DateTime))
    op.add_column("received", sa.Column("confirmed_by", sa.String(200)))
    op.create_index("ix_received_letter_id", "received", ["letter_id"])
    op.create_index("ix_received_answers_id", "received", ["answers_id"])
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
        op.execute(
            "ALTER TABLE received DISABLE TRIGGER received_guard;"
            "UPDATE received SET confirmed_at = created_at, confirmed_by = created_by;"
            "ALTER TABLE received ENABLE TRIGGER received_guard"
        )
    else:
        op.execute("DROP TRIGGER received_fixed")
        op.execute("UPDATE received SET confirmed_at = created_at, confirmed_by = created_by")
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    always = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _ALWAYS_FIXED)
    once = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _FIXED_ONCE_CONFIRMED)
    op.execute(
        f"CREATE TRIGGER received_fixed BEFORE UPDATE ON received "
        f"WHEN NOT ({always}) OR (OLD.confirmed_at IS NOT NULL AND NOT ({once})) "
        f"BEGIN SELECT RAISE(ABORT, '{_RECEIVED_FIXED}'); END"
    )


def _pg_array(columns: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{c}'" for c in columns) + "]"


def _postgres_triggers() -> None:
    def picked(row: str, columns: Sequence[str]) -> str:
        return (
            f"(SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb({row})) "
            f"WHERE key = ANY({_pg_array(columns)}))"
        )

    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION saraban_received_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION '{_NO_DELETE}';
            END IF;
            IF {picked("NEW", _ALWAYS_FIXED)} IS DISTINCT FROM {picked("OLD", _ALWAYS_FIXED)}
               OR (OLD.confirmed_at IS NOT NULL AND
                   {picked("NEW", _FIXED_ONCE_CONFIRMED)}
                   IS DISTINCT FROM {picked("OLD", _FIXED_ONCE_CONFIRMED)}) THEN
                RAISE EXCEPTION '{_RECEIVED_FIXED}';
            END IF;
            RETURN NEW;
        END $$
        """
    )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
