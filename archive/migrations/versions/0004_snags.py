"""Public ids that do not count letters.

``letters.public_id`` and ``received.public_id``: 12 random characters (letters and
digits, see ``archive/_models.py``), unique, what users see in URLs and the API instead of
the sequential ``id``, whose gaps told an uncleared clerk where hidden letters are. Rows
written before this revision are given one here; the read-only guards then keep it fixed
like every other column of an issued letter or a received row.

Revision ID: 0004_snags
Revises: 0003_core
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saraban.archive._models import new_public_id

revision: str = "0004_snags"
down_revision: str | None = "0003_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_READONLY = (
    "saraban: หนังสือที่ออกเลขแล้วแก้ไขไม่ได้ / an issued, cancelled or unused register row is read-only"  # noqa: E501
)
_RECEIVED_FIXED = (
    "saraban: เลขรับ วันเวลารับ และต้นเรื่องแก้ไขไม่ได้ / the receive number, time and letter cannot change"  # noqa: E501
)
_NO_DELETE = "saraban: ทะเบียนลบไม่ได้ / register rows are never deleted"
# 0003's lists with public_id added (a migration keeps its own copy: later ones may differ).
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
    "public_id",
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
    "public_id",
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("letters", "received"):
        op.add_column(table, sa.Column("public_id", sa.String(20)))
    # The guards refuse any change to an issued row: lift them while old rows get their id.
    if postgres:
        op.execute("ALTER TABLE letters DISABLE TRIGGER letters_guard")
        op.execute("ALTER TABLE received DISABLE TRIGGER received_guard")
    else:
        op.execute("DROP TRIGGER letters_readonly")
        op.execute("DROP TRIGGER received_fixed")
    _fill("letters")
    _fill("received")
    for table in ("letters", "received"):
        op.create_index(f"uq_{table}_public_id", table, ["public_id"], unique=True)
    if postgres:
        op.execute("ALTER TABLE letters ENABLE TRIGGER letters_guard")
        op.execute("ALTER TABLE received ENABLE TRIGGER received_guard")
        _postgres_received_guard()
    else:
        _sqlite_triggers()


def _fill(table: str) -> None:
    bind = op.get_bind()
    ids = bind.execute(sa.text(f"SELECT id FROM {table} WHERE public_id IS NULL")).scalars().all()
    taken: set[str] = set()
    rows = []
    for row_id in ids:
        value = new_public_id()
        while value in taken:
            value = new_public_id()
        taken.add(value)
        rows.append({"id": row_id, "public_id": value})
    if rows:
        bind.execute(sa.text(f"UPDATE {table} SET public_id = :public_id WHERE id = :id"), rows)


def _sqlite_triggers() -> None:
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _LETTER_COLUMNS)
    op.execute(
        f"""
        CREATE TRIGGER letters_readonly BEFORE UPDATE ON letters
        WHEN OLD.status IN ('issued', 'cancelled', 'unused') AND NOT (
            OLD.status = 'issued' AND NEW.status = 'cancelled' AND {unchanged})
        BEGIN SELECT RAISE(ABORT, '{_READONLY}'); END
        """
    )
    fixed = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _RECEIVED_FIXED_COLUMNS)
    op.execute(
        f"CREATE TRIGGER received_fixed BEFORE UPDATE ON received WHEN NOT ({fixed}) "
        f"BEGIN SELECT RAISE(ABORT, '{_RECEIVED_FIXED}'); END"
    )


def _postgres_received_guard() -> None:
    """The letters guard compares whole rows (public_id included); the received guard
    names its columns: public_id joins them."""
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
