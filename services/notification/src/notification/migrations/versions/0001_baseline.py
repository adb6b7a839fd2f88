"""baseline: the service's own schema starts here

Revision ID: notification_0001
"""

from asn_shared.migrations import baseline

revision = "notification_0001"
down_revision = branch_labels = depends_on = None
upgrade = downgrade = baseline
