"""Server-side login sessions: a session ends on logout, on a password change (the others),
when its account is disabled, and when it expires, whatever cookie is still about.

Revision ID: s0002_auth
Revises: s0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0002_auth"
down_revision: str | None = "s0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime),
        sa.Column("address", sa.String(64)),
    )
    op.create_index("ix_login_sessions_user", "login_sessions", ["user_id", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_login_sessions_user", "login_sessions")
    op.drop_table("login_sessions")
