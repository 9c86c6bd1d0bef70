"""Received letters numbered per secrecy level.

``received.series``: the counter a row's เลขรับ was taken from, ``incoming`` or a secret
level's own (``incoming ลับ``, ``incoming ลับมาก``, ``incoming ลับที่สุด``), as a secret sent
letter is numbered in its level's series; ``uq_received_number`` becomes (register, series,
year, serial). Rows entered before this revision keep their numbers in the ``incoming``
series (a register row never changes), so their counters and ``verify`` stay as they were;
from now on a secret received letter takes no number a clerk without clearance could miss.
The series is fixed like the number.

SQLite cannot change a table's UNIQUE constraint in place: the table is rebuilt (SQLite's
own procedure: foreign keys off for the upgrade, :meth:`archive._db.Database.upgrade`,
checked with ``PRAGMA foreign_key_check`` before commit), then its indexes and guards are
made again.

Revision ID: 0008_harden
Revises: 0007_circulars
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_harden"
down_revision: str | None = "0007_circulars"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECEIVED_FIXED = (
    "saraban: เลขรับ วันเวลารับ และต้นเรื่องแก้ไขไม่ได้ / the receive number, time and letter cannot change"  # noqa: E501
)
_NO_DELETE = "saraban: ทะเบียนลบไม่ได้ / register rows are never deleted"
# Never change, confirmed or not (0005_intake's list, and the series).
_ALWAYS_FIXED = (
    "id",
    "register_id",
    "year",
    "series",
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
_COLUMNS = (
    "id",
    "public_id",
    "register_id",
    "year",
    "serial",
    "received_at",
    "ref_no",
    "ref_key",
    "letter_date",
    "sender",
    "recipient",
    "subject",
    "action",
    "note",
    "letter_id",
    "created_at",
    "created_by",
    "secrecy",
    "pdfa_sha256",
    "stamped_sha256",
    "answers_id",
    "confirmed_at",
    "confirmed_by",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres()
    else:
        _sqlite()


def _postgres() -> None:
    # A column added with a default fills the old rows without an UPDATE (no guard fires).
    op.add_column(
        "received",
        sa.Column("series", sa.String(20), nullable=False, server_default="incoming"),
    )
    op.alter_column("received", "series", server_default=None)
    op.drop_constraint("uq_received_number", "received", type_="unique")
    op.create_unique_constraint(
        "uq_received_number", "received", ["register_id", "series", "year", "serial"]
    )
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION saraban_received_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION '{_NO_DELETE}';
            END IF;
            IF {_picked("NEW", _ALWAYS_FIXED)} IS DISTINCT FROM {_picked("OLD", _ALWAYS_FIXED)}
               OR (OLD.confirmed_at IS NOT NULL AND
                   {_picked("NEW", _FIXED_ONCE_CONFIRMED)}
                   IS DISTINCT FROM {_picked("OLD", _FIXED_ONCE_CONFIRMED)}) THEN
                RAISE EXCEPTION '{_RECEIVED_FIXED}';
            END IF;
            RETURN NEW;
        END $$
        """
    )


def _picked(row: str, columns: Sequence[str]) -> str:
    names = "ARRAY[" + ", ".join(f"'{c}'" for c in columns) + "]"
    return (
        f"(SELECT jsonb_object_agg(key, value) FROM jsonb_each(to_jsonb({row})) "
        f"WHERE key = ANY({names}))"
    )


def _sqlite() -> None:
    op.create_table(
        "received_new",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("public_id", sa.String(20)),
        sa.Column("register_id", sa.Integer, sa.ForeignKey("registers.id"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("series", sa.String(20), nullable=False),
        sa.Column("serial", sa.Integer, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("ref_no", sa.String(200)),
        sa.Column("ref_key", sa.String(200)),
        sa.Column("letter_date", sa.Date),
        sa.Column("sender", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("action", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("letter_id", sa.Integer, sa.ForeignKey("letters.id")),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("secrecy", sa.String(20)),
        sa.Column("pdfa_sha256", sa.String(64)),
        sa.Column("stamped_sha256", sa.String(64)),
        sa.Column("answers_id", sa.Integer),
        sa.Column("confirmed_at", sa.DateTime),
        sa.Column("confirmed_by", sa.String(200)),
        sa.UniqueConstraint("register_id", "series", "year", "serial", name="uq_received_number"),
    )
    columns = ", ".join(_COLUMNS)
    op.execute(
        f"INSERT INTO received_new ({columns}, series) SELECT {columns}, 'incoming' FROM received"
    )
    op.execute("DROP TABLE received")  # its triggers and indexes go with it
    op.execute("ALTER TABLE received_new RENAME TO received")
    op.create_index("ix_received_received_at", "received", ["received_at"])
    op.create_index("uq_received_public_id", "received", ["public_id"], unique=True)
    op.create_index("ix_received_letter_id", "received", ["letter_id"])
    op.create_index("ix_received_answers_id", "received", ["answers_id"])
    always = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _ALWAYS_FIXED)
    once = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _FIXED_ONCE_CONFIRMED)
    op.execute(
        f"CREATE TRIGGER received_fixed BEFORE UPDATE ON received "
        f"WHEN NOT ({always}) OR (OLD.confirmed_at IS NOT NULL AND NOT ({once})) "
        f"BEGIN SELECT RAISE(ABORT, '{_RECEIVED_FIXED}'); END"
    )
    op.execute(
        f"CREATE TRIGGER received_no_delete BEFORE DELETE ON received "
        f"BEGIN SELECT RAISE(ABORT, '{_NO_DELETE}'); END"
    )
    broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"0008_harden: foreign keys broken by the rebuild: {broken[:5]}")


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
