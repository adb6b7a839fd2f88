"""Proposals as records: create, find, cancel and announce them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from asn_shared import units
from asn_shared.auth import Principal
from asn_shared.persistence import UnitOfWork, page_of

from .. import domain, repository, views
from ..domain import ItemStatus, Status
from ..models import Proposal, ProposalItem
from ..repository import ProposalRepository
from . import common


def new_proposal(
    repo: ProposalRepository,
    nip: str,
    name: str,
    unit_code: str,
    plan: domain.Plan,
    programmes: dict[str, repository.ProgrammeFacts],
    **attributes: Any,
) -> Proposal:
    proposal = Proposal(
        id=uuid.uuid4(),
        employee_nip=nip,
        employee_name=name,
        unit_code=unit_code,
        status=Status.PENDING_BUDGET.value,
        total_cost_rupiah=plan.total_cost_rupiah,
        total_jp=plan.total_jp,
        reserved_rupiah=0,
        **attributes,
    )
    for position, planned in enumerate(plan.items):
        programme = programmes[planned.offer.code]
        proposal.items.append(
            ProposalItem(
                id=uuid.uuid4(),
                position=position,
                programme_code=programme.code,
                programme_title=programme.title,
                form=programme.form,
                activity=programme.activity,
                jp=programme.jp,
                cost_rupiah=programme.cost_rupiah,
                competency_codes=planned.competency_codes,
                batch=repo.batch(planned.offer.batch.batch_id),
                reasons=[views.reason_row(r) for r in planned.reasons],
                status=ItemStatus.PROPOSED.value,
            )
        )
    repo.add_proposal(proposal)
    return proposal


def publish_created(uow: UnitOfWork, proposal: Proposal) -> None:
    uow.publish(
        "proposal.created", views.proposal_created_data(proposal), subject=proposal.employee_nip
    )


def find_proposal(
    uow: UnitOfWork,
    proposal_id: uuid.UUID,
    caller: Principal | None = None,
    *,
    lock: bool = False,
) -> Proposal:
    """The proposal, if it exists and ``caller`` (when given) may reach it."""
    proposal = uow.repository(repository.sql).proposal(proposal_id, lock=lock)
    return common.reachable(uow, proposal, f"Usulan {proposal_id} tidak ada.", caller)


def cancel(uow: UnitOfWork, proposal: Proposal, reason: str) -> None:
    """Cancel a proposal, its items and open enrolments (seats freed); budget is told."""
    proposal.status = domain.transition(proposal.status, Status.CANCELLED).value
    proposal.status_reason = reason
    for item in proposal.items:
        if item.status != ItemStatus.COMPLETED:
            item.status = ItemStatus.CANCELLED.value
    repo = uow.repository(repository.sql)
    for enrollment in repo.open_enrolments(proposal.id):
        repo.free_seat(enrollment)
    uow.publish(
        "proposal.cancelled",
        {**views.proposal_facts(proposal), "reason": reason},
        subject=proposal.employee_nip,
    )


def publish_approved(uow: UnitOfWork, proposal: Proposal) -> None:
    approved = [i for i in proposal.items if i.status == ItemStatus.APPROVED]
    uow.publish(
        "proposal.approved",
        {
            **views.proposal_facts(proposal),
            "approved_items": [views.item_data(i) for i in approved],
            "reserved_rupiah": proposal.reserved_rupiah,
        },
        subject=proposal.employee_nip,
    )


def get_proposal(uow: UnitOfWork, proposal_id: uuid.UUID, caller: Principal) -> dict[str, Any]:
    with uow:
        return views.proposal_view(find_proposal(uow, proposal_id, caller))


def list_proposals(uow: UnitOfWork, query: dict[str, Any], caller: Principal) -> dict[str, Any]:
    with uow:
        query, scope = common.narrowed(uow.session, caller, query)
        statement = select(Proposal).order_by(Proposal.created_at.desc(), Proposal.id)
        for name in ("employee_nip", "unit_code", "status", "fiscal_year"):
            if name in query:
                statement = statement.where(getattr(Proposal, name) == query[name])
        statement = units.in_units(statement, Proposal.unit_code, scope).options(
            selectinload(Proposal.items).selectinload(ProposalItem.batch)
        )
        return page_of(uow.session, statement, query, views.proposal_view)
