"""Routing received letters (เกษียน/สั่งการ): ``routings`` (a received letter sent to a
person with a note and a due date, and when and by whom it was done), ``received_orders``
(a superior's order, printed on a new stamped copy) and ``delegations`` (acting for
another user, รักษาการแทน, between two dates). Rows are never deleted; a routing changes
once (done), a delegation once (revoked).

Revision ID: 0006_routing
Revises: 0005_intake
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_routing"
down_revision: str | None = "0005_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NO_DELETE = "saraban: การเกษียนและการมอบหมายลบไม่ได้ / routing rows are never deleted"


def upgrade() -> None:
    op.create_table(
        "routings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("received_id", sa.Integer, sa.ForeignKey("received.id"), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("due", sa.Date),
        sa.Column("routed_at", sa.DateTime, nullable=False),
        sa.Column("routed_by", sa.String(200), nullable=False),
        sa.Column("done_at", sa.DateTime),
        sa.Column("done_by", sa.String(200)),
        sa.Column("done_note", sa.Text),
    )
    op.create_index("ix_routings_received_id", "routings", ["received_id"])
    op.create_index("ix_routings_assignee", "routings", ["assignee", "done_at"])
    op.create_table(
        "received_orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("received_id", sa.Integer, sa.ForeignKey("received.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("written_at", sa.DateTime, nullable=False),
        sa.Column("written_by", sa.String(200), nullable=False),
        sa.Column("stamped_sha256", sa.String(64)),
    )
    op.create_index("ix_received_orders_received_id", "received_orders", ["received_id"])
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("delegator", sa.String(200), nullable=False),
        sa.Column("delegate", sa.String(200), nullable=False),
        sa.Column("date_from", sa.Date, nullable=False),
        sa.Column("date_to", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("revoked_by", sa.String(200)),
    )
    op.create_index("ix_delegations_delegate", "delegations", ["delegate"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("routings", "received_orders", "delegations"):
        if postgres:
            op.execute(
                f"CREATE OR REPLACE FUNCTION saraban_{table}_no_delete() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_NO_DELETE}'; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION saraban_{table}_no_delete()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{_NO_DELETE}'); END"
            )


def downgrade() -> None:
    raise NotImplementedError("the archive is never downgraded: restore a backup instead")
