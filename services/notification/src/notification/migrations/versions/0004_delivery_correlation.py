"""deliveries keep the correlation id of the event that caused them

Revision ID: notification_0004
Revises: notification_0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0004"
down_revision = "notification_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("correlation_id", sa.Text()))


def downgrade() -> None:
    op.drop_column("deliveries", "correlation_id")
