"""allocations, the append-only ledger, proposals' reservations and threshold alerts

Revision ID: budget_0002
Revises: budget_0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "budget_0002"
down_revision = "budget_0001"
branch_labels = None
depends_on = None

ZERO = sa.text("0")


def _now() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "allocations",
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=True),
        sa.Column("sub_activity_code", sa.Text(), nullable=False),
        sa.Column("sub_activity_name", sa.Text(), nullable=True),
        sa.Column("account_code", sa.Text(), nullable=False),
        sa.Column("account_name", sa.Text(), nullable=True),
        sa.Column("allocated_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("reserved_rupiah", sa.BigInteger(), nullable=False, server_default=ZERO),
        sa.Column("spent_rupiah", sa.BigInteger(), nullable=False, server_default=ZERO),
        _now(),
        sa.PrimaryKeyConstraint("unit_code", "fiscal_year", name="allocations_pkey"),
        sa.CheckConstraint("allocated_rupiah >= 0", name="allocations_allocated_not_negative"),
        sa.CheckConstraint("reserved_rupiah >= 0", name="allocations_reserved_not_negative"),
        sa.CheckConstraint("spent_rupiah >= 0", name="allocations_spent_not_negative"),
        sa.CheckConstraint(
            "reserved_rupiah + spent_rupiah <= allocated_rupiah",
            name="allocations_never_overcommitted",
        ),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("amount_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("allocated_delta", sa.BigInteger(), nullable=False, server_default=ZERO),
        sa.Column("reserved_delta", sa.BigInteger(), nullable=False, server_default=ZERO),
        sa.Column("spent_delta", sa.BigInteger(), nullable=False, server_default=ZERO),
        sa.Column("proposal_id", sa.Uuid(), nullable=True),
        sa.Column("reservation_id", sa.Uuid(), nullable=True),
        sa.Column("enrollment_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="ledger_entries_pkey"),
        sa.ForeignKeyConstraint(
            ["unit_code", "fiscal_year"],
            ["allocations.unit_code", "allocations.fiscal_year"],
            name="ledger_entries_allocation_fkey",
        ),
        sa.CheckConstraint(
            "kind IN ('allocation', 'amendment', 'reservation', 'release', 'spend')",
            name="ledger_entries_kind",
        ),
        sa.CheckConstraint("amount_rupiah >= 0", name="ledger_entries_amount_not_negative"),
    )
    op.create_index(
        "ledger_entries_by_unit_year_kind",
        "ledger_entries",
        ["unit_code", "fiscal_year", "kind", "id"],
    )
    op.create_index("ledger_entries_by_proposal", "ledger_entries", ["proposal_id"])
    op.create_index(
        "ledger_entries_one_spend_per_enrollment",
        "ledger_entries",
        ["enrollment_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'spend'"),
    )
    # The ledger is the record: an entry is corrected by a new entry, never edited away.
    op.execute(
        """
        CREATE FUNCTION ledger_entries_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER ledger_entries_append_only
        BEFORE UPDATE OR DELETE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()
        """
    )
    op.create_table(
        "proposals",
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("employee_nip", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reservation_id", sa.Uuid(), nullable=True),
        sa.Column("requested_rupiah", sa.BigInteger(), nullable=False, server_default=ZERO),
        sa.Column("reserved_rupiah", sa.BigInteger(), nullable=False, server_default=ZERO),
        sa.Column(
            "decided_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("proposal_id", name="proposals_pkey"),
        sa.CheckConstraint(
            "status IN ('reserved', 'rejected', 'released', 'cancelled')",
            name="proposals_status",
        ),
    )
    op.create_index("proposals_by_unit_year", "proposals", ["unit_code", "fiscal_year"])
    op.create_table(
        "proposal_items",
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("programme_code", sa.Text(), nullable=False),
        sa.Column("cost_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("enrollment_id", sa.Uuid(), nullable=True),
        sa.Column("spent_rupiah", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("proposal_id", "item_id", name="proposal_items_pkey"),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.proposal_id"], name="proposal_items_proposal_fkey"
        ),
        sa.CheckConstraint(
            "state IN ('reserved', 'refused', 'released', 'spent')", name="proposal_items_state"
        ),
    )
    op.create_table(
        "threshold_alerts",
        sa.Column("unit_code", sa.Text(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("threshold_percent", sa.Integer(), nullable=False),
        sa.Column("allocated_rupiah", sa.BigInteger(), nullable=False),
        sa.Column("committed_rupiah", sa.BigInteger(), nullable=False),
        sa.Column(
            "reached_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint(
            "unit_code", "fiscal_year", "threshold_percent", name="threshold_alerts_pkey"
        ),
    )


def downgrade() -> None:
    op.drop_table("threshold_alerts")
    op.drop_table("proposal_items")
    op.drop_index("proposals_by_unit_year", table_name="proposals")
    op.drop_table("proposals")
    op.execute("DROP TRIGGER ledger_entries_append_only ON ledger_entries")
    op.execute("DROP FUNCTION ledger_entries_append_only()")
    op.drop_index("ledger_entries_one_spend_per_enrollment", table_name="ledger_entries")
    op.drop_index("ledger_entries_by_proposal", table_name="ledger_entries")
    op.drop_index("ledger_entries_by_unit_year_kind", table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("allocations")
