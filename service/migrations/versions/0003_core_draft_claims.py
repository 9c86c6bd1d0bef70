"""A draft's claim while it is issued: the idempotency key the archive records with the
letter, and who claimed it when, so that a crash between the two is repaired (the draft
shows its letter, or becomes editable again).

Revision ID: s0003_core
Revises: s0002_auth
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0003_core"
down_revision: str | None = "s0002_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("drafts", sa.Column("issue_key", sa.String(200)))
    op.add_column("drafts", sa.Column("claimed_by", sa.String(200)))
    op.add_column("drafts", sa.Column("claimed_at", sa.DateTime))


def downgrade() -> None:
    for column in ("claimed_at", "claimed_by", "issue_key"):
        op.drop_column("drafts", column)
