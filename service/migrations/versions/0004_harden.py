"""Drafts named by ids that do not count, and failed logins shared by every process.

``drafts.public_id``: 12 random characters (as letters' and received rows'), what URLs and
JSON name a draft by, so a clerk does not learn how many drafts the others make; every
older draft gets one. ``login_failures``: one row per failed login and throttle key (its
SHA-256), so ``saraban serve --workers N`` throttles as one process would.

Revision ID: s0004_harden
Revises: s0003_core
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from saraban.archive._models import new_public_id

revision: str = "s0004_harden"
down_revision: str | None = "s0003_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("drafts", sa.Column("public_id", sa.String(20)))
    bind = op.get_bind()
    ids = bind.execute(sa.text("SELECT id FROM drafts")).scalars().all()
    taken: set[str] = set()
    rows = []
    for row_id in ids:
        value = new_public_id()
        while value in taken:
            value = new_public_id()
        taken.add(value)
        rows.append({"id": row_id, "public_id": value})
    if rows:
        bind.execute(sa.text("UPDATE drafts SET public_id = :public_id WHERE id = :id"), rows)
    op.create_index("uq_drafts_public_id", "drafts", ["public_id"], unique=True)
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["key_hash", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_index("uq_drafts_public_id", "drafts")
    op.drop_column("drafts", "public_id")
