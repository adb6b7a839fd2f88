"""the current assessment per jabatan, an assessment's review, who funds an approved item

Revision ID: training_0003
Revises: training_0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "training_0003"
down_revision = "training_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("assessments", sa.Column("jabatan_code", sa.Text()))
    op.add_column("assessments", sa.Column("unit_code", sa.Text()))
    op.add_column("assessments", sa.Column("review", JSONB()))
    op.add_column("proposals", sa.Column("jabatan_code", sa.Text()))
    op.add_column("proposal_items", sa.Column("funding", sa.Text()))
    # NULL for items approved before: budget then matches their spending as it did before


def downgrade() -> None:
    op.drop_column("proposal_items", "funding")
    op.drop_column("proposals", "jabatan_code")
    op.drop_column("assessments", "review")
    op.drop_column("assessments", "unit_code")
    op.drop_column("assessments", "jabatan_code")
