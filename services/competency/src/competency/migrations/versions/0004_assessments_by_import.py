"""an index on assessments.import_id: the portal follows an import by its assessments

Revision ID: competency_0004
Revises: competency_0003
Create Date: 2026-12-06
"""

from alembic import op

revision = "competency_0004"
down_revision = "competency_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_assessments_import_id", "assessments", ["import_id"])


def downgrade() -> None:
    op.drop_index("ix_assessments_import_id", table_name="assessments")
