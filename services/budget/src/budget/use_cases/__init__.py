"""The budget service's use cases, by what they manage: allocations (HTTP), reservations,
releases and spending (events), reports. Each takes a UnitOfWork, applies the domain rules
under the unit-year row lock, writes ledger entries and announces what happened.

Every change of a unit's money first locks its ``allocations`` row (``SELECT ... FOR
UPDATE``) in the transaction that also holds the inbox row, the ledger entries and the
outbox rows. Replicas and concurrent handlers therefore decide one at a time per unit and
year, on committed figures, and the committed amount can never exceed the allocation.
Event handlers (``reserve_for_proposal``, ``release_for_proposal``, ``spend_for_enrollment``)
do not commit: ``handle_once`` commits their effects with the inbox row.
"""
