"""Reservations for proposals, their release on cancellation and spending at completion:
the event handlers. They do not commit: ``handle_once`` commits their effects with the inbox
row."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork

from .. import domain, repository
from ..models import ProposalItem
from ..repository import BudgetRepository
from .postings import position_data, position_of, post

log = logging.getLogger(__name__)


# --- reservations (proposal.created) ------------------------------------------------------


def reserve_for_proposal(uow: UnitOfWork, event: Event, *, rules: domain.Rules) -> None:
    """Reserve what fits of a proposal under the policy, or reject it; once per proposal."""
    data, repo = event.data, uow.repository(repository.sql)
    unit, year, proposal_id = data["unit_code"], data["fiscal_year"], data["proposal_id"]
    allocation = repo.locked_allocation(unit, year)
    items = [domain.Item(item["item_id"], item["cost_rupiah"]) for item in data["items"]]
    position = position_of(allocation)
    decision = domain.decide(items, position.available, rules.policy)
    if decision.accepted:
        status, reason, reservation_id = "reserved", None, uuid.uuid4()
    else:
        reason = "insufficient_funds" if allocation is not None else "no_allocation"
        status, reservation_id = "rejected", None
    if not _claim(repo, data, status, reason, reservation_id, decision):
        log.info("proposal already decided or cancelled: nothing reserved")
        return
    _record_items(repo, proposal_id, data["items"], decision)
    if not decision.accepted:
        uow.publish(
            "budget.rejected",
            {
                **position_data(unit, year, position),
                "proposal_id": proposal_id,
                "item_ids": [item.item_id for item in items],
                "requested_rupiah": decision.requested,
                "reason": reason,
            },
            subject=str(proposal_id),
        )
        return
    if allocation is not None:
        position = post(
            uow,
            allocation,
            decision.movement(),
            rules.thresholds,
            proposal_id=proposal_id,
            reservation_id=reservation_id,
            event_id=event.id,
        )
    uow.publish(
        "budget.reserved",
        {
            **position_data(unit, year, position),
            "reservation_id": reservation_id,
            "proposal_id": proposal_id,
            "item_ids": [item.item_id for item in decision.reserved],
            "rejected_item_ids": [item.item_id for item in decision.refused],
            "partial": decision.partial,
            "amount_rupiah": decision.amount,
        },
        subject=str(proposal_id),
    )


def _claim(
    repo: BudgetRepository,
    data: dict[str, Any],
    status: str,
    reason: str | None,
    reservation_id: uuid.UUID | None,
    decision: domain.Decision,
) -> bool:
    """Record the decision; False if this proposal was decided (or cancelled) before."""
    return _claim_proposal(
        repo,
        data,
        status=status,
        reason=reason,
        reservation_id=reservation_id,
        requested_rupiah=decision.requested,
        reserved_rupiah=decision.amount,
    )


def _claim_proposal(repo: BudgetRepository, data: dict[str, Any], **values: Any) -> bool:
    """The proposal's row, unless it has one already (its first answer is the only one)."""
    return repo.claim_proposal(
        {
            "proposal_id": data["proposal_id"],
            "unit_code": data["unit_code"],
            "fiscal_year": data["fiscal_year"],
            "employee_nip": data.get("employee_nip"),
            **values,
        }
    )


def _record_items(
    repo: BudgetRepository, proposal_id: uuid.UUID, items: list[dict], decision: domain.Decision
) -> None:
    reserved = {item.item_id for item in decision.reserved}
    repo.add_items(
        [
            {
                "proposal_id": proposal_id,
                "item_id": item["item_id"],
                "ordinal": ordinal,
                "programme_code": item["programme_code"],
                "cost_rupiah": item["cost_rupiah"],
                "state": "reserved" if item["item_id"] in reserved else "refused",
            }
            for ordinal, item in enumerate(items)
        ],
    )


# --- releases (proposal.cancelled) --------------------------------------------------------


def release_for_proposal(uow: UnitOfWork, event: Event, *, rules: domain.Rules) -> None:
    """Give back what is still reserved for a cancelled proposal, once."""
    data, repo = event.data, uow.repository(repository.sql)
    proposal_id = data["proposal_id"]
    known = repo.proposal(proposal_id)
    unit, year = (
        (known.unit_code, known.fiscal_year) if known else (data["unit_code"], data["fiscal_year"])
    )
    allocation = repo.locked_allocation(unit, year)
    if known is None and _claim_cancelled(repo, data):
        log.info("proposal cancelled before its creation arrived; it will not be reserved")
        return
    proposal = repo.proposal(proposal_id, lock=True)
    if proposal.status != "reserved":
        return  # rejected, already released, or cancelled before: nothing is reserved
    items = repo.reserved_items(proposal_id)
    amount = sum(item.cost_rupiah for item in items)
    for item in items:
        item.state = "released"
    proposal.status = "released"
    if not amount or allocation is None:
        return
    position = post(
        uow,
        allocation,
        domain.release(amount),
        rules.thresholds,
        proposal_id=proposal_id,
        reservation_id=proposal.reservation_id,
        event_id=event.id,
        note=data.get("reason"),
    )
    uow.publish(
        "budget.released",
        {
            **position_data(unit, year, position),
            "proposal_id": proposal_id,
            "amount_rupiah": amount,
        },
        subject=str(proposal_id),
    )


def _claim_cancelled(repo: BudgetRepository, data: dict[str, Any]) -> bool:
    """Remember a cancellation that overtook its proposal, so that it is never reserved."""
    return _claim_proposal(repo, data, status="cancelled", reason=data.get("reason"))


# --- spending (enrollment.completed) ------------------------------------------------------


def spend_for_enrollment(uow: UnitOfWork, event: Event, *, rules: domain.Rules) -> None:
    """Turn the reservation of the completed item into spending, once per enrollment.

    The item is the one the event names (``proposal_item_id``; events from before it was
    carried: the proposal's reserved item of the same programme). An item approved as
    funded another way (``funding`` other) charges nothing. A completion without a proposal
    (or whose proposal holds no reservation for it) is charged its cost from the available
    budget of its unit and year (``jp_year``); a free one changes nothing.
    """
    data, repo = event.data, uow.repository(repository.sql)
    enrollment_id, proposal_id = data["enrollment_id"], data["proposal_id"]
    if data.get("funding") == "other":
        log.info("completion funded another way: nothing charged")
        return
    proposal = repo.proposal(proposal_id) if proposal_id else None
    unit, year = (
        (proposal.unit_code, proposal.fiscal_year)
        if proposal
        else (data["unit_code"], data["jp_year"])
    )
    allocation = repo.locked_allocation(unit, year)
    if repo.already_spent(enrollment_id):
        log.info("enrollment already charged: nothing spent")
        return
    item = _reserved_item(repo, proposal_id, data) if proposal else None
    if allocation is None:
        if data["cost_rupiah"] > 0:
            log.warning(
                "completion not charged: the unit has no allocation for the year",
                extra={"unit_code": unit, "fiscal_year": year, "cost_rupiah": data["cost_rupiah"]},
            )
        return
    cost = data["cost_rupiah"]
    charge = domain.charge(position_of(allocation), item.cost_rupiah if item else 0, cost)
    if item is not None:
        item.state, item.enrollment_id, item.spent_rupiah = "spent", enrollment_id, charge.spent
    if not charge.moves_money:
        return
    note = None
    if charge.uncovered:
        note = (
            f"Rp {charge.uncovered:,} dari biaya Rp {cost:,} melebihi pagu tersedia; "
            "tidak dibebankan."
        )
        log.warning("completion cost beyond the budget", extra={"uncovered": charge.uncovered})
    position = post(
        uow,
        allocation,
        charge.movement(),
        rules.thresholds,
        proposal_id=proposal_id,
        reservation_id=proposal.reservation_id if proposal else None,
        enrollment_id=enrollment_id,
        event_id=event.id,
        note=note,
    )
    uow.publish(
        "budget.spent",
        {
            **position_data(unit, year, position),
            "proposal_id": proposal_id,
            "enrollment_id": enrollment_id,
            "amount_rupiah": charge.spent,
        },
        subject=str(enrollment_id),
    )


def _reserved_item(
    repo: BudgetRepository, proposal_id: uuid.UUID, completion: dict[str, Any]
) -> ProposalItem | None:
    """The reservation the completion settles: exactly the item it names, else (older
    events) the proposal's first reserved item of the same programme."""
    return repo.reserved_item(
        proposal_id, completion.get("proposal_item_id"), completion["programme_code"]
    )
