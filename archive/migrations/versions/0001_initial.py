"""The first schema: registers, units, counters, letters, files, incoming register,
references, audit chain, index queue; and the triggers that keep the record unchangeable.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_READONLY = (
    "saraban: หนังสือที่ออกเลขแล้วแก้ไขไม่ได้ / an issued, cancelled or unused register row is read-only"  # noqa: E501
)
_NUMBER_FIXED = "saraban: เลขทะเบียนเปลี่ยนไม่ได้ / a register number cannot change"
_NO_DELETE = "saraban: ทะเบียนลบไม่ได้ / register rows are never deleted"
_AUDIT_APPEND_ONLY = "saraban: บันทึกการตรวจสอบเพิ่มได้อย่างเดียว / the audit trail is append-only"
_RECEIVED_FIXED = (
    "saraban: เลขรับ วันเวลารับ และต้นเรื่องแก้ไขไม่ได้ / the receive number, time and letter cannot change"  # noqa: E501
)

# Columns of ``letters`` that cancelling an issued letter may change; nothing else may.
_CANCEL_COLUMNS = ("status", "reason", "closed_at", "closed_by")
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
)


def upgrade() -> None:
    op.create_table(
        "registers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("circular_series", sa.String(10), nullable=False),
        sa.Column("number_format", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint(
            "circular_series IN ('separate', 'shared')", name="ck_registers_circular"
        ),
        sa.CheckConstraint("number_format IN ('plain', 'year')", name="ck_registers_format"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("prefix", sa.String(100), nullable=False, unique=True),
        sa.Column("prefix_key", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("address", sa.JSON, nullable=False),
        sa.Column("phone", sa.String(100)),
        sa.Column("fax", sa.String(100)),
        sa.Column("email", sa.String(200)),
        sa.Column("footer", sa.Text),
        sa.Column("signer", sa.JSON),
        sa.Column("register_id", sa.Integer, sa.ForeignKey("registers.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("register_id", sa.Integer, sa.ForeignKey("registers.id"), primary_key=True),
        sa.Column("series", sa.String(20), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("register_id", sa.Integer, sa.ForeignKey("registers.id")),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id")),
        sa.Column("series", sa.String(20)),
        sa.Column("year", sa.Integer),
        sa.Column("serial", sa.Integer),
        sa.Column("circular", sa.Boolean, nullable=False),
        sa.Column("ref_no", sa.String(200)),
        sa.Column("ref_key", sa.String(200)),
        sa.Column("date", sa.Date),
        sa.Column("subject", sa.Text),
        sa.Column("sender", sa.Text),
        sa.Column("addressee", sa.Text),
        sa.Column("secrecy", sa.String(20)),
        sa.Column("doc", sa.JSON),
        sa.Column("retention_years", sa.Integer),
        sa.Column("docx_sha256", sa.String(64)),
        sa.Column("pdf_sha256", sa.String(64)),
        sa.Column("original_sha256", sa.String(64)),
        sa.Column("original_name", sa.String(500)),
        sa.Column("needs_review", sa.JSON),
        sa.Column("note", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("worker", sa.String(200)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("issued_at", sa.DateTime),
        sa.Column("issued_by", sa.String(200)),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("closed_by", sa.String(200)),
        sa.UniqueConstraint("register_id", "series", "year", "serial", name="uq_letters_number"),
        sa.CheckConstraint(
            "status IN ('reserved', 'pending', 'issued', 'cancelled', 'unused', 'stored')",
            name="ck_letters_status",
        ),
        sa.CheckConstraint(
            "status NOT IN ('cancelled', 'unused') OR length(reason) > 0",
            name="ck_letters_reason",
        ),
    )
    op.create_index("ix_letters_ref_key", "letters", ["ref_key"])
    op.create_index("ix_letters_date", "letters", ["date"])
    op.create_index("ix_letters_status", "letters", ["status"])
    op.create_table(
        "received",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("register_id", sa.Integer, sa.ForeignKey("registers.id"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
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
        sa.UniqueConstraint("register_id", "year", "serial", name="uq_received_number"),
    )
    op.create_index("ix_received_received_at", "received", ["received_at"])
    op.create_table(
        "letter_references",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("letter_id", sa.Integer, sa.ForeignKey("letters.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("ref_key", sa.String(200)),
        sa.Column("ref_date", sa.Date),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("letters.id")),
    )
    op.create_index("ix_letter_references_ref_key", "letter_references", ["ref_key"])
    op.create_index("ix_letter_references_target", "letter_references", ["target_id"])
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("letter_id", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "index_queue",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("letter_id", sa.Integer, sa.ForeignKey("letters.id"), nullable=False),
        sa.Column("reason", sa.String(50), nullable=False),
        sa.Column("enqueued_at", sa.DateTime, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


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
    op.execute(
        f"""
        CREATE TRIGGER letters_number_fixed BEFORE UPDATE ON letters
        WHEN OLD.serial IS NOT NULL AND NOT (
            NEW.register_id IS OLD.register_id AND NEW.series IS OLD.series
            AND NEW.year IS OLD.year AND NEW.serial IS OLD.serial)
        BEGIN SELECT RAISE(ABORT, '{_NUMBER_FIXED}'); END
        """
    )
    op.execute(
        f"CREATE TRIGGER letters_no_delete BEFORE DELETE ON letters "
        f"BEGIN SELECT RAISE(ABORT, '{_NO_DELETE}'); END"
    )
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{_AUDIT_APPEND_ONLY}'); END"
        )
    fixed = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in _RECEIVED_FIXED_COLUMNS)
    op.execute(
        f"CREATE TRIGGER received_fixed BEFORE UPDATE ON received WHEN NOT ({fixed}) "
        f"BEGIN SELECT RAISE(ABORT, '{_RECEIVED_FIXED}'); END"
    )
    op.execute(
        f"CREATE TRIGGER received_no_delete BEFORE DELETE ON received "
        f"BEGIN SELECT RAISE(ABORT, '{_NO_DELETE}'); END"
    )


def _pg_array(columns: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{c}'" for c in columns) + "]"


def _postgres_triggers() -> None:
    op.execute(
        f"""
        CREATE FUNCTION saraban_letters_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION '{_NO_DELETE}';
            END IF;
            IF OLD.serial IS NOT NULL AND (NEW.register_id, NEW.series, NEW.year, NEW.serial)
                    IS DISTINCT FROM (OLD.register_id, OLD.series, OLD.year, OLD.serial) THEN
                RAISE EXCEPTION '{_NUMBER_FIXED}';
            END IF;
            IF OLD.status IN ('issued', 'cancelled', 'unused') AND NOT (
                    OLD.status = 'issued' AND NEW.status = 'cancelled'
                    AND (to_jsonb(NEW) - {_pg_array(_CANCEL_COLUMNS)})
                        = (to_jsonb(OLD) - {_pg_array(_CANCEL_COLUMNS)})) THEN
                RAISE EXCEPTION '{_READONLY}';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER letters_guard BEFORE UPDATE OR DELETE ON letters "
        "FOR EACH ROW EXECUTE FUNCTION saraban_letters_guard()"
    )
    op.execute(
        f"""
        CREATE FUNCTION saraban_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{_AUDIT_APPEND_ONLY}';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION saraban_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION saraban_append_only()"
    )
    fixed = _pg_array(_RECEIVED_FIXED_COLUMNS)
    op.execute(
        f"""
        CREATE FUNCTION saraban_received_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
    op.execute(
        "CREATE TRIGGER received_guard BEFORE UPDATE OR DELETE ON received "
        "FOR EACH ROW EXECUTE FUNCTION saraban_received_guard()"
    )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
