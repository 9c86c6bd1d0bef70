"""Since when, and by which process, a delivery's reply is being read: a second reply sent
meanwhile is refused by every serving process, not only the one reading the first.

Revision ID: 0012_reply_reading
Revises: 0011_letter_files
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_reply_reading"
down_revision: str | None = "0011_letter_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("reading_since", sa.DateTime))
    op.add_column("deliveries", sa.Column("reading_by", sa.String(200)))


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
