"""Downloads of a delivery's files, one row per delivery and file: when it was first
downloaded and when it was last written to the audit chain, so that every download is
audited without a row per request (at most one event per file per window).

Revision ID: 0010_circ2
Revises: 0009_incoming
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_circ2"
down_revision: str | None = "0009_incoming"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_downloads",
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), primary_key=True),
        sa.Column("file_no", sa.Integer, primary_key=True),
        sa.Column("first_at", sa.DateTime, nullable=False),
        sa.Column("audited_at", sa.DateTime, nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
