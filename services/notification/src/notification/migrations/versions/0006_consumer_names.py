"""inbox rows under the handlers' declared consumer names instead of their method names

Revision ID: notification_0006
Revises: notification_0005
Create Date: 2026-12-01
"""

from asn_shared.migrations import inbox_consumer_renames

revision = "notification_0006"
down_revision = "notification_0005"
branch_labels = None
depends_on = None

RENAMES = {
    "notification.on_employee": "notification.recipients",
    "notification.on_event": "notification.deliveries",
}

upgrade, downgrade = inbox_consumer_renames(RENAMES)
