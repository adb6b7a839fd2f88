"""What happens to a proposal: the budget's answers and an operator's decisions."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from asn_shared.auth import Principal
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork
from asn_shared.vocabulary import Funding

from .. import domain, repository, views
from ..domain import IllegalTransition, ItemStatus, Status
from ..models import Proposal
from . import common, planning, proposals

log = logging.getLogger(__name__)


def apply(proposal: Proposal, settlement: domain.Settlement) -> None:
    proposal.status = settlement.status.value
    for item in proposal.items:
        status = settlement.items[item.id]
        if status is ItemStatus.APPROVED and item.status != ItemStatus.APPROVED:
            item.funding = Funding.BUDGET.value  # the budget reserved it
        item.status = status.value


def settled(
    uow: UnitOfWork, event: Event, settle: Callable[[Proposal], domain.Settlement]
) -> tuple[Proposal, domain.Settlement] | None:
    """The proposal a budget answer names, with ``settle``'s settlement applied; None (and
    nothing changed) for an unknown proposal or a stale answer."""
    data = event.data
    proposal = uow.repository(repository.sql).locked_proposal(data["proposal_id"])
    if proposal is None:
        log.warning("budget answer for an unknown proposal", extra={"proposal": str(data)})
        return None
    try:
        settlement = settle(proposal)
    except IllegalTransition as exc:
        log.warning(f"stale {event.name} ignored", extra={"reason": str(exc)})
        return None
    apply(proposal, settlement)
    return proposal, settlement


def prepare(uow: UnitOfWork, events: list[Event]) -> None:
    """The proposals a batch of budget answers names, locked with one statement."""
    uow.repository(repository.sql).prepare_proposals(e.data["proposal_id"] for e in events)


def budget_reserved(uow: UnitOfWork, event: Event) -> None:
    """``budget.reserved``: approve the items paid for; the rest wait, with alternatives."""
    data = event.data
    answer = settled(
        uow,
        event,
        lambda p: domain.settle_reservation(
            p.status, {i.id: i.status for i in p.items}, data["item_ids"]
        ),
    )
    if answer is None:
        return
    proposal, settlement = answer
    proposal.reserved_rupiah += data["amount_rupiah"]
    proposal.status_reason = None
    proposals.publish_approved(uow, proposal)
    if settlement.newly_waitlisted:
        waitlist(uow, proposal, settlement.newly_waitlisted, "insufficient_funds")


def budget_rejected(uow: UnitOfWork, event: Event) -> None:
    """``budget.rejected``: the items wait; a free or cheaper programme is proposed instead."""
    answer = settled(
        uow, event, lambda p: domain.settle_rejection(p.status, {i.id: i.status for i in p.items})
    )
    if answer is not None:
        proposal, settlement = answer
        waitlist(uow, proposal, settlement.newly_waitlisted, event.data["reason"])


def waitlist(uow: UnitOfWork, proposal: Proposal, item_ids: list[uuid.UUID], reason: str) -> None:
    proposal.status_reason = reason
    waiting = [i for i in proposal.items if i.id in set(item_ids)]
    alternative = planning.alternative(uow, proposal, waiting, uow.clock.today())
    if alternative is not None:
        proposals.publish_created(uow, alternative)
    uow.publish(
        "proposal.waitlisted",
        {
            **views.proposal_facts(proposal),
            "waitlisted_items": [views.item_data(i) for i in waiting],
            "reason": reason,
            "alternative_proposal_id": alternative.id if alternative else None,
        },
        subject=proposal.employee_nip,
    )


def approve_proposal(
    uow: UnitOfWork, proposal_id: uuid.UUID, note: str | None, caller: Principal
) -> dict:
    """An operator approves what the budget left waiting (funded another way)."""
    with uow:
        proposal = proposals.find_proposal(uow, proposal_id, caller, lock=True)
        proposal.status = common.checked(domain.operator_approval, proposal.status).value
        for item in proposal.items:
            if item.status in (ItemStatus.PROPOSED, ItemStatus.WAITLISTED):
                item.status = ItemStatus.APPROVED.value
                item.funding = Funding.OTHER.value  # never charged to the unit's budget
        proposal.status_reason = note or "disetujui operator"
        proposals.publish_approved(uow, proposal)
        uow.commit()
        return views.proposal_view(proposal)


def cancel_proposal(
    uow: UnitOfWork, proposal_id: uuid.UUID, reason: str, caller: Principal
) -> dict:
    with uow:
        proposal = proposals.find_proposal(uow, proposal_id, caller, lock=True)
        common.checked(domain.transition, proposal.status, Status.CANCELLED)
        proposals.cancel(uow, proposal, reason)
        uow.commit()
        return views.proposal_view(proposal)
