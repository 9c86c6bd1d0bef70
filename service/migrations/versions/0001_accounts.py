"""The service's first tables: users, API tokens, drafts, the address book and signers.

Revision ID: s0001
Revises:
Create Date: 2025-06-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("clearance", sa.String(20)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("password_changed_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("role IN ('clerk', 'admin')", name="ck_users_role"),
        sa.CheckConstraint(
            "clearance IS NULL OR clearance IN ('ลับ', 'ลับมาก', 'ลับที่สุด')",
            name="ck_users_clearance",
        ),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime),
        sa.Column("revoked_at", sa.DateTime),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("doc", sa.JSON, nullable=False),
        sa.Column("unit", sa.String(100)),
        sa.Column("date_text", sa.String(200)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("letter_id", sa.Integer),
        sa.Column("issued_at", sa.DateTime),
    )
    op.create_index("ix_drafts_owner", "drafts", ["owner_id", "updated_at"])
    op.create_table(
        "address_book",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("addressee", sa.String(500), nullable=False, unique=True),
        sa.Column("salutation", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "signers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.JSON, nullable=False),
        sa.Column("unit", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("signers", "address_book", "drafts", "api_tokens", "users"):
        op.drop_table(table)
