"""inbox rows under the handlers' declared consumer names instead of their method names

Revision ID: competency_0003
Revises: competency_0002
Create Date: 2026-12-01
"""

from asn_shared.migrations import inbox_consumer_renames

revision = "competency_0003"
down_revision = "competency_0002"
branch_labels = None
depends_on = None

RENAMES = {
    "competency.on_enrollment_completed": "competency.development",
}

upgrade, downgrade = inbox_consumer_renames(RENAMES)
