"""inbox rows under the handlers' declared consumer names instead of their method names

Revision ID: competency_0003
Revises: competency_0002
Create Date: 2026-12-01
"""

from asn_shared.migrations import rename_inbox_consumers

revision = "competency_0003"
down_revision = "competency_0002"
branch_labels = None
depends_on = None

RENAMES = {
    "competency.on_enrollment_completed": "competency.development",
}


def upgrade() -> None:
    rename_inbox_consumers(RENAMES)


def downgrade() -> None:
    rename_inbox_consumers({new: old for old, new in RENAMES.items()})
