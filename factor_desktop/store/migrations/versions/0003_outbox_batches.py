"""outbox batches, pending customer creates, log entry states, cursors on QuickBooks' clock

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_request_id", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("batch_bid", sa.String(length=10), nullable=True))
    for table in ("clients", "projects"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("qbo_pending_name", sa.String(length=500), nullable=True))
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=12), nullable=True))
    with op.batch_alter_table("change_cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applied_through", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("change_cursors", schema=None) as batch_op:
        batch_op.drop_column("applied_through")
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.drop_column("state")
    for table in ("projects", "clients"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("qbo_pending_name")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("batch_bid")
        batch_op.drop_column("batch_request_id")
