"""webhook subscriptions belong to an agency

Revision ID: notification_0005
Revises: notification_0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0005"
down_revision = "notification_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("agency", sa.Text()))
    op.create_index("subscriptions_agency", "subscriptions", ["agency"])


def downgrade() -> None:
    op.drop_index("subscriptions_agency", "subscriptions")
    op.drop_column("subscriptions", "agency")
