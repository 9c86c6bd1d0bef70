"""Crash-safe hand-overs and the secrecy of received letters.

``letters.idempotency_key``: the key of the hand-over that made the row (a draft's issue,
a batch item's import), unique, written in the transaction that writes the row, so that a
crash between the archive and the caller's own record is repaired by looking the key up
(the draft shows its letter; the batch item is not imported twice). ``letters.attempts``:
how many times a pending row was taken up to be finished; a letter whose rendering killed
its process again is recorded unused rather than tried for ever. ``received.secrecy``:
the secrecy level of a received letter (ลับ, ลับมาก, ลับที่สุด), fixed once entered, so that
the incoming register hides it from users not cleared for it.

Revision ID: 0003_core
Revises: 0002_signing
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_core"
down_revision: str | None = "0002_signing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_READONLY = (
    "saraban: หนังสือที่ออกเลขแล้วแก้ไขไม่ได้ / an issued, cancelled or unused register row is read-only"  # noqa: E501
)
_RECEIVED_FIXED = (
    "saraban: เลขรับ วันเวลารับ และต้นเรื่องแก้ไขไม่ได้ / the receive number, time and letter cannot change"  # noqa: E501
)
_NO_DELETE = "saraban: ทะเบียนลบไม่ได้ / register rows are never deleted"
# The columns of 0001 that cancelling must leave alone, and the new ones.
_LETTER_COLUMNS = (
    "id",
    "register_id",
    "unit_id",
    "series",
    "year",
    "serial",
    "circular",
    "ref_no",
    "ref_key",
    "date",
    "subject",
    "sender",
    "addressee",
    "secrecy",
    "doc",
    "retention_years",
    "docx_sha256",
    "pdf_sha256",
    "original_sha256",
    "original_name",
    "needs_review",
    "note",
    "worker",
    "created_at",
    "created_by",
    "issued_at",
    "issued_by",
    "idempotency_key",
    "attempts",
)
_RECEIVED_FIXED_COLUMNS = (
    "id",
    "register_id",
    "year",
    "serial",
    "received_at",
    "ref_no",
    "letter_date",
    "sender",
    "recipient",
    "subject",
    "created_at",
    "created_by",
    "secrecy",
)


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild, which would drop the triggers on SQLite).
    op.add_column("letters", sa.Column("idempotency_key", sa.String(200)))
    op.add_column("letters", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.create_index("uq_letters_idempotency_key", "letters", ["idempotency_key"], unique=True)
    op.add_column("received", sa.Column("secrecy", sa.String(20)))
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    """SQLite names the columns a trigger compares: the new ones join the lists."""
    op.execute("DROP TRIGGER letters_readonly")
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _LETTER_COLUMNS)
    op.execute(
        f"""
        CREATE TRIGGER letters_readonly BEFORE UPDATE ON letters
        WHEN OLD.status IN ('issued', 'cancelled', 'unused') AND NOT (
            OLD.status = 'issued' AND NEW.status = 'cancelled' AND {unchanged})
        BEGIN SELECT RAISE(ABORT, '{_READONLY}'); END
        """
    )
    op.execute("DROP TRIGGER received_fixed")
    fixed = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _RECEIVED_FIXED_COLUMNS)
    op.execute(
        f"CREATE TRIGGER received_fixed BEFORE UPDATE ON received WHEN NOT ({fixed}) "
        f"BEGIN SELECT RAISE(ABORT, '{_RECEIVED_FIXED}'); END"
    )


def _postgres_triggers() -> None:
    """PostgreSQL's letters guard compares whole rows (new columns included); the received
    guard names its columns: secrecy joins them."""
    fixed = "ARRAY[" + ", ".join(f"'{c}'" for c in _RECEIVED_FIXED_COLUMNS) + "]"
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION saraban_received_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION '{_NO_DELETE}';
            END IF;
            IF (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(NEW))
                    WHERE key = ANY({fixed}))
               IS DISTINCT FROM
               (SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb(OLD))
                    WHERE key = ANY({fixed})) THEN
                RAISE EXCEPTION '{_RECEIVED_FIXED}';
            END IF;
            RETURN NEW;
        END $$
        """
    )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
