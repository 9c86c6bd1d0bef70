"""Signed letters: one row per signed copy of an issued letter (the file that is sent), with
the token its QR code carries; rows are never changed or deleted.

Revision ID: 0002_signing
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_signing"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SIGNATURES_FIXED = (
    "saraban: บันทึกการลงนามแก้ไขหรือลบไม่ได้ / a signature record is never changed or deleted"
)


def upgrade() -> None:
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("letter_id", sa.Integer, sa.ForeignKey("letters.id"), nullable=False),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("issued_sha256", sa.String(64), nullable=False),
        sa.Column("certificate_sha256", sa.String(64), nullable=False),
        sa.Column("tsa_certificate_sha256", sa.String(64)),
        sa.Column("self_signed", sa.Boolean, nullable=False),
        sa.Column("signed_at", sa.DateTime, nullable=False),
        sa.Column("signed_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("letter_id", "certificate_sha256", name="uq_signatures_letter_key"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION saraban_signatures_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{_SIGNATURES_FIXED}';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER signatures_fixed BEFORE UPDATE OR DELETE ON signatures "
            "FOR EACH ROW EXECUTE FUNCTION saraban_signatures_fixed()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER signatures_no_{verb.lower()} BEFORE {verb} ON signatures "
                f"BEGIN SELECT RAISE(ABORT, '{_SIGNATURES_FIXED}'); END"
            )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
