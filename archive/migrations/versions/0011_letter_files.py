"""Files that came with a kept letter (the other attachments of the e-mail it arrived by:
its enclosures, a form to fill, a spreadsheet), each kept unchanged and in order.

Revision ID: 0011_letter_files
Revises: 0010_circ2
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_letter_files"
down_revision: str | None = "0010_circ2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "letter_files",
        sa.Column("letter_id", sa.Integer, sa.ForeignKey("letters.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("files.sha256"), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
