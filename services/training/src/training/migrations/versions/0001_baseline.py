"""baseline: the service's own schema starts here

Revision ID: training_0001
"""

from asn_shared.migrations import baseline

revision = "training_0001"
down_revision = branch_labels = depends_on = None
upgrade = downgrade = baseline
