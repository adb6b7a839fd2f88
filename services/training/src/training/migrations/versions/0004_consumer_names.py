"""inbox rows under the handlers' declared consumer names instead of their method names

Revision ID: training_0004
Revises: training_0003
Create Date: 2026-12-01
"""

from asn_shared.migrations import inbox_consumer_renames

revision = "training_0004"
down_revision = "training_0003"
branch_labels = None
depends_on = None

RENAMES = {
    "training.on_employee_registered": "training.employee_registrations",
    "training.on_employee_updated": "training.employee_updates",
    "training.on_assessment_recorded": "training.planning",
    "training.on_budget_reserved": "training.budget_reservations",
    "training.on_budget_rejected": "training.budget_rejections",
    "training.on_unit_registered": "training.unit_registrations",
    "training.on_unit_updated": "training.unit_updates",
}

upgrade, downgrade = inbox_consumer_renames(RENAMES)
