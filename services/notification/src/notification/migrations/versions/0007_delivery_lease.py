"""a dispatch round claims its deliveries with a lease instead of holding their row locks

Revision ID: notification_0007
Revises: notification_0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0007"
down_revision = "notification_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("claim", sa.Uuid()))
    op.add_column("deliveries", sa.Column("leased_until", sa.DateTime(timezone=True)))
    op.create_index(
        "deliveries_claim",
        "deliveries",
        ["claim"],
        postgresql_where=sa.text("claim IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("deliveries_claim", "deliveries")
    op.drop_column("deliveries", "leased_until")
    op.drop_column("deliveries", "claim")
