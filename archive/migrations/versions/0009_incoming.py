"""Where a clerk moved the receipt stamp (``received.stamp_left_mm``/``stamp_top_mm``:
a stamped copy made again keeps it there). Routing to units: ``routings.unit_id`` (a
received letter sent to a unit, whose members all see it and any of whom marks it done)
and ``unit_members`` (who works in which unit; a member leaves by ``removed_at``, the row
is never deleted).

Revision ID: 0009_incoming
Revises: 0008_harden
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_incoming"
down_revision: str | None = "0008_harden"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NO_DELETE = "saraban: รายชื่อสมาชิกส่วนราชการลบไม่ได้ / unit members are never deleted"


def upgrade() -> None:
    op.add_column("received", sa.Column("stamp_left_mm", sa.Float))
    op.add_column("received", sa.Column("stamp_top_mm", sa.Float))
    op.add_column("routings", sa.Column("unit_id", sa.Integer))
    op.create_index("ix_routings_unit_id", "routings", ["unit_id", "done_at"])
    op.create_table(
        "unit_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("member", sa.String(200), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("removed_at", sa.DateTime),
        sa.Column("removed_by", sa.String(200)),
    )
    op.create_index("ix_unit_members_member", "unit_members", ["member"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION saraban_unit_members_no_delete() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_NO_DELETE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER unit_members_no_delete BEFORE DELETE ON unit_members "
            "FOR EACH ROW EXECUTE FUNCTION saraban_unit_members_no_delete()"
        )
    else:
        op.execute(
            "CREATE TRIGGER unit_members_no_delete BEFORE DELETE ON unit_members "
            f"BEGIN SELECT RAISE(ABORT, '{_NO_DELETE}'); END"
        )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
