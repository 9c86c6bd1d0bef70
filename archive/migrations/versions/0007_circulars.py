"""Circulars that come back: the address book of recipients, one delivery per recipient of
a sent letter (never deleted: part of the record), the hashes of the recipients' private
links, the working-day calendar, and the queue of outgoing e-mail.

Revision ID: 0007_circulars
Revises: 0006_routing
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_circulars"
down_revision: str | None = "0006_routing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NO_DELETE = "saraban: บันทึกการส่งหนังสือลบไม่ได้ / a delivery of a letter is never deleted"


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False, unique=True),
        sa.Column("addressee", sa.String(300), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("groups", sa.JSON, nullable=False),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id")),
        sa.Column("code", sa.String(20)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("letter_id", sa.Integer, sa.ForeignKey("letters.id"), nullable=False),
        sa.Column("recipient_id", sa.Integer, sa.ForeignKey("recipients.id"), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("addressee", sa.String(300), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("due", sa.Date),
        sa.Column("form", sa.String(100)),
        sa.Column("enclosures", sa.JSON, nullable=False),
        sa.Column("linked", sa.Boolean, nullable=False),
        sa.Column("inbox_received_id", sa.Integer, sa.ForeignKey("received.id")),
        sa.Column("sent_at", sa.DateTime, nullable=False),
        sa.Column("sent_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("opened_at", sa.DateTime),
        sa.Column("acknowledged_at", sa.DateTime),
        sa.Column("receive_no", sa.String(100)),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("replied_at", sa.DateTime),
        sa.Column("reply_letter_id", sa.Integer, sa.ForeignKey("letters.id")),
        sa.Column("reply_received_id", sa.Integer, sa.ForeignKey("received.id")),
        sa.Column("reply_data", sa.JSON),
        sa.Column("reminded_at", sa.DateTime),
        sa.Column("reminders", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("letter_id", "recipient_id", name="uq_deliveries_letter_recipient"),
    )
    op.create_index("ix_deliveries_letter", "deliveries", ["letter_id"])
    op.create_table(
        "delivery_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime),
    )
    op.create_table(
        "holidays",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("removed_at", sa.DateTime),
        sa.Column("changed_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("delivery_id", sa.Integer),
        sa.Column("to_addr", sa.String(254), nullable=False),
        sa.Column("from_addr", sa.String(254), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("failed_at", sa.DateTime),
        sa.Column("last_error", sa.Text),
    )
    op.create_index(
        "ix_outgoing_mail_due", "outgoing_mail", ["sent_at", "failed_at", "next_attempt_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION saraban_deliveries_kept() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{_NO_DELETE}';
            END $$
            """
        )
        for table in ("deliveries", "delivery_tokens"):
            op.execute(
                f"CREATE TRIGGER {table}_kept BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION saraban_deliveries_kept()"
            )
    else:
        for table in ("deliveries", "delivery_tokens"):
            op.execute(
                f"CREATE TRIGGER {table}_kept BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{_NO_DELETE}'); END"
            )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
