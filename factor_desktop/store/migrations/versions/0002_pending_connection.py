"""pending connection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_state", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("pending_redirect_uri", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("pending_environment", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("pending_started_at", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.drop_column("pending_started_at")
        batch_op.drop_column("pending_environment")
        batch_op.drop_column("pending_redirect_uri")
        batch_op.drop_column("pending_state")
