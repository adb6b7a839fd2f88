"""inbox rows under the handlers' declared consumer names instead of their method names

Revision ID: budget_0003
Revises: budget_0002
Create Date: 2026-12-01
"""

from asn_shared.migrations import inbox_consumer_renames

revision = "budget_0003"
down_revision = "budget_0002"
branch_labels = None
depends_on = None

RENAMES = {
    "budget.on_proposal_created": "budget.reservations",
    "budget.on_proposal_cancelled": "budget.releases",
    "budget.on_enrollment_completed": "budget.spending",
    "budget.on_unit_registered": "budget.unit_registrations",
    "budget.on_unit_updated": "budget.unit_updates",
}

upgrade, downgrade = inbox_consumer_renames(RENAMES)
