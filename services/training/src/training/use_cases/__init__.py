"""The training service's use cases: load, ask the domain, write, publish, commit.

One module for each thing the service manages: ``catalogue``, ``planning`` (from an
assessment to a proposal), ``proposals``, ``decisions`` (the budget's answers and an
operator's), ``enrolment``, ``ledger`` (the 20 JP), ``employees`` (a projection of
competency's events) and ``common``.

Event use cases take ``(uow, event)`` and never commit (``handle_once`` commits the inbox row
with their effects). HTTP use cases take a unit of work, the validated command and the
caller, check the caller's reach in the same transaction, commit, and return a view for the
output schema. Rows whose counters or states change are locked (``FOR UPDATE``): handlers
run concurrently and events arrive in any order.
"""
