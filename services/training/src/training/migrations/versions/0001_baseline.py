"""baseline: the service's own schema starts here

Revision ID: training_0001
Revises:
Create Date: 2026-11-28
"""

revision = "training_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
