"""The budget service's use cases: each takes a UnitOfWork, applies the domain rules under
the unit-year row lock, writes ledger entries and announces what happened.

Every change of a unit's money first locks its ``allocations`` row (``SELECT ... FOR
UPDATE``) in the transaction that also holds the inbox row, the ledger entries and the
outbox rows. Replicas and concurrent handlers therefore decide one at a time per unit and
year, on committed figures, and the committed amount can never exceed the allocation.
Event handlers (``reserve_for_proposal``, ``release_for_proposal``, ``spend_for_enrollment``)
do not commit: ``handle_once`` commits their effects with the inbox row.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from asn_shared import units
from asn_shared.auth import Principal
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork, fetch_page

from . import domain
from .models import Allocation, LedgerEntry, Proposal, ProposalItem, ThresholdAlert

log = logging.getLogger(__name__)


class AlreadyExists(Exception):
    """The thing to create exists already."""


class Missing(LookupError):
    """The thing asked for does not exist."""


# --- positions --------------------------------------------------------------------------


def position_of(allocation: Allocation | None) -> domain.Position:
    if allocation is None:
        return domain.Position()
    return domain.Position(
        allocation.allocated_rupiah, allocation.reserved_rupiah, allocation.spent_rupiah
    )


def position_data(unit_code: str, fiscal_year: int, position: domain.Position) -> dict[str, Any]:
    """The position fields every budget event carries."""
    return {
        "unit_code": unit_code,
        "fiscal_year": fiscal_year,
        "allocated_rupiah": position.allocated,
        "committed_rupiah": position.committed,
        "available_rupiah": position.available,
    }


def _lock(session: Session, unit_code: str, fiscal_year: int) -> Allocation | None:
    """The unit-year row, locked until the transaction ends; None without an allocation."""
    return session.get(Allocation, (unit_code, fiscal_year), with_for_update=True)


def _post(
    uow: UnitOfWork,
    allocation: Allocation,
    movement: domain.Movement,
    thresholds: tuple[int, ...],
    **references: Any,
) -> domain.Position:
    """Apply ``movement`` to the locked ``allocation`` and append its ledger entry."""
    after = domain.apply(position_of(allocation), movement)
    allocation.allocated_rupiah = after.allocated
    allocation.reserved_rupiah = after.reserved
    allocation.spent_rupiah = after.spent
    if movement.amount or movement.allocated or movement.reserved or movement.spent:
        uow.session.add(
            LedgerEntry(
                unit_code=allocation.unit_code,
                fiscal_year=allocation.fiscal_year,
                kind=movement.kind.value,
                amount_rupiah=movement.amount,
                allocated_delta=movement.allocated,
                reserved_delta=movement.reserved,
                spent_delta=movement.spent,
                **references,
            )
        )
    _announce_thresholds(uow, allocation, after, thresholds)
    return after


def _announce_thresholds(
    uow: UnitOfWork, allocation: Allocation, position: domain.Position, thresholds: tuple[int, ...]
) -> None:
    if not domain.reached_thresholds(position, thresholds):
        return
    unit, year = allocation.unit_code, allocation.fiscal_year
    announced = uow.session.scalars(
        select(ThresholdAlert.threshold_percent).where(
            ThresholdAlert.unit_code == unit, ThresholdAlert.fiscal_year == year
        )
    ).all()
    for threshold in domain.to_announce(position, thresholds, announced):
        # the primary key (unit, year, threshold) is the last word on "once per year"
        inserted = uow.session.execute(
            pg_insert(ThresholdAlert.__table__)
            .values(
                unit_code=unit,
                fiscal_year=year,
                threshold_percent=threshold,
                allocated_rupiah=position.allocated,
                committed_rupiah=position.committed,
            )
            .on_conflict_do_nothing()
            .returning(ThresholdAlert.__table__.c.threshold_percent)
        ).first()
        if inserted:
            uow.publish(
                "budget.threshold_reached",
                {**position_data(unit, year, position), "threshold_percent": threshold},
                subject=f"{unit}/{year}",
            )


# --- allocations and amendments (HTTP) ----------------------------------------------------


def create_allocation(uow: UnitOfWork, command: dict[str, Any], rules: domain.Rules) -> None:
    """Record a unit's initial allocation for a year; AlreadyExists if it has one."""
    movement = domain.allocation(command["amount_rupiah"])
    unit, year = command["unit_code"], command["fiscal_year"]
    created = uow.session.execute(
        pg_insert(Allocation.__table__)
        .values(
            unit_code=unit,
            fiscal_year=year,
            unit_name=command.get("unit_name"),
            sub_activity_code=command["sub_activity_code"],
            sub_activity_name=command.get("sub_activity_name"),
            account_code=command["account_code"],
            account_name=command.get("account_name"),
            allocated_rupiah=0,
        )
        .on_conflict_do_nothing()
        .returning(Allocation.__table__.c.unit_code)
    ).first()
    if not created:
        raise AlreadyExists(
            f"Unit {unit} sudah punya pagu tahun {year}; ubah dengan perubahan (amendment)."
        )
    allocation = _lock(uow.session, unit, year)
    _post(
        uow,
        allocation,
        movement,
        rules.thresholds,
        reference=command.get("reference"),
        note=command.get("note"),
    )
    uow.commit()


def amend_allocation(
    uow: UnitOfWork, unit: str, year: int, command: dict[str, Any], rules: domain.Rules
) -> None:
    """Set a new allocated total; the ledger records the difference."""
    allocation = _lock(uow.session, unit, year)
    if allocation is None:
        raise Missing(f"Unit {unit} belum punya pagu tahun {year}.")
    movement = domain.amendment(position_of(allocation), command["allocated_rupiah"])
    _post(
        uow,
        allocation,
        movement,
        rules.thresholds,
        reference=command.get("reference"),
        note=command.get("note"),
    )
    uow.commit()


# --- reservations (proposal.created) ------------------------------------------------------


def reserve_for_proposal(uow: UnitOfWork, event: Event, *, rules: domain.Rules) -> None:
    """Reserve what fits of a proposal under the policy, or reject it; once per proposal."""
    data = event.data
    unit, year, proposal_id = data["unit_code"], data["fiscal_year"], data["proposal_id"]
    allocation = _lock(uow.session, unit, year)
    items = [domain.Item(item["item_id"], item["cost_rupiah"]) for item in data["items"]]
    position = position_of(allocation)
    decision = domain.decide(items, position.available, rules.policy)
    if decision.accepted:
        status, reason, reservation_id = "reserved", None, uuid.uuid4()
    else:
        reason = "insufficient_funds" if allocation is not None else "no_allocation"
        status, reservation_id = "rejected", None
    if not _claim(uow.session, data, status, reason, reservation_id, decision):
        log.info("proposal already decided or cancelled: nothing reserved")
        return
    _record_items(uow.session, proposal_id, data["items"], decision)
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
        position = _post(
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
    session: Session,
    data: dict[str, Any],
    status: str,
    reason: str | None,
    reservation_id: uuid.UUID | None,
    decision: domain.Decision,
) -> bool:
    """Record the decision; False if this proposal was decided (or cancelled) before."""
    claimed = session.execute(
        pg_insert(Proposal.__table__)
        .values(
            proposal_id=data["proposal_id"],
            unit_code=data["unit_code"],
            fiscal_year=data["fiscal_year"],
            employee_nip=data.get("employee_nip"),
            status=status,
            reason=reason,
            reservation_id=reservation_id,
            requested_rupiah=decision.requested,
            reserved_rupiah=decision.amount,
        )
        .on_conflict_do_nothing()
        .returning(Proposal.__table__.c.proposal_id)
    ).first()
    return claimed is not None


def _record_items(
    session: Session, proposal_id: uuid.UUID, items: list[dict], decision: domain.Decision
) -> None:
    reserved = {item.item_id for item in decision.reserved}
    session.execute(
        insert(ProposalItem.__table__),
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
    data = event.data
    session, proposal_id = uow.session, data["proposal_id"]
    known = session.get(Proposal, proposal_id)
    unit, year = (
        (known.unit_code, known.fiscal_year) if known else (data["unit_code"], data["fiscal_year"])
    )
    allocation = _lock(session, unit, year)
    if known is None and _claim_cancelled(session, data):
        log.info("proposal cancelled before its creation arrived; it will not be reserved")
        return
    proposal = session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
    if proposal.status != "reserved":
        return  # rejected, already released, or cancelled before: nothing is reserved
    items = session.scalars(
        select(ProposalItem)
        .where(ProposalItem.proposal_id == proposal_id, ProposalItem.state == "reserved")
        .with_for_update()
    ).all()
    amount = sum(item.cost_rupiah for item in items)
    for item in items:
        item.state = "released"
    proposal.status = "released"
    if not amount or allocation is None:
        return
    position = _post(
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


def _claim_cancelled(session: Session, data: dict[str, Any]) -> bool:
    """Remember a cancellation that overtook its proposal, so that it is never reserved."""
    claimed = session.execute(
        pg_insert(Proposal.__table__)
        .values(
            proposal_id=data["proposal_id"],
            unit_code=data["unit_code"],
            fiscal_year=data["fiscal_year"],
            employee_nip=data.get("employee_nip"),
            status="cancelled",
            reason=data.get("reason"),
        )
        .on_conflict_do_nothing()
        .returning(Proposal.__table__.c.proposal_id)
    ).first()
    return claimed is not None


# --- spending (enrollment.completed) ------------------------------------------------------


def spend_for_enrollment(uow: UnitOfWork, event: Event, *, rules: domain.Rules) -> None:
    """Turn the reservation of the completed item into spending, once per enrollment.

    The item is the one the event names (``proposal_item_id``; events from before it was
    carried: the proposal's reserved item of the same programme). An item approved as
    funded another way (``funding`` other) charges nothing. A completion without a proposal
    (or whose proposal holds no reservation for it) is charged its cost from the available
    budget of its unit and year (``jp_year``); a free one changes nothing.
    """
    data = event.data
    session = uow.session
    enrollment_id, proposal_id = data["enrollment_id"], data["proposal_id"]
    if data.get("funding") == "other":
        log.info("completion funded another way: nothing charged")
        return
    proposal = session.get(Proposal, proposal_id) if proposal_id else None
    unit, year = (
        (proposal.unit_code, proposal.fiscal_year)
        if proposal
        else (data["unit_code"], data["jp_year"])
    )
    allocation = _lock(session, unit, year)
    if _already_spent(session, enrollment_id):
        log.info("enrollment already charged: nothing spent")
        return
    item = _reserved_item(session, proposal_id, data) if proposal else None
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
    position = _post(
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


def _already_spent(session: Session, enrollment_id: uuid.UUID) -> bool:
    charged = select(LedgerEntry.id).where(
        LedgerEntry.kind == "spend", LedgerEntry.enrollment_id == enrollment_id
    )
    marked = select(ProposalItem.item_id).where(ProposalItem.enrollment_id == enrollment_id)
    return bool(session.scalar(select(charged.exists())) or session.scalar(select(marked.exists())))


def _reserved_item(
    session: Session, proposal_id: uuid.UUID, completion: dict[str, Any]
) -> ProposalItem | None:
    """The reservation the completion settles: exactly the item it names, else (older
    events) the proposal's first reserved item of the same programme."""
    statement = select(ProposalItem).where(
        ProposalItem.proposal_id == proposal_id, ProposalItem.state == "reserved"
    )
    if completion.get("proposal_item_id"):
        statement = statement.where(ProposalItem.item_id == completion["proposal_item_id"])
    else:
        statement = statement.where(ProposalItem.programme_code == completion["programme_code"])
    return session.scalars(
        statement.order_by(ProposalItem.ordinal).limit(1).with_for_update()
    ).first()


# --- queries ------------------------------------------------------------------------------


def ledger_positions(
    session: Session, *, fiscal_year: int | None = None, keys: list[tuple[str, int]] | None = None
) -> dict[tuple[str, int], domain.Position]:
    """Each unit-year's position summed from its ledger entries (the definition of it)."""
    statement = select(
        LedgerEntry.unit_code,
        LedgerEntry.fiscal_year,
        func.sum(LedgerEntry.allocated_delta),
        func.sum(LedgerEntry.reserved_delta),
        func.sum(LedgerEntry.spent_delta),
    ).group_by(LedgerEntry.unit_code, LedgerEntry.fiscal_year)
    if fiscal_year is not None:
        statement = statement.where(LedgerEntry.fiscal_year == fiscal_year)
    if keys is not None:
        statement = statement.where(
            tuple_(LedgerEntry.unit_code, LedgerEntry.fiscal_year).in_(keys)
        )
    return {
        (unit, year): domain.Position(int(allocated), int(reserved), int(spent))
        for unit, year, allocated, reserved, spent in session.execute(statement)
    }


def _thresholds(session: Session, keys: list[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
    found: dict[tuple[str, int], list[int]] = {key: [] for key in keys}
    if not keys:
        return found
    rows = session.execute(
        select(
            ThresholdAlert.unit_code, ThresholdAlert.fiscal_year, ThresholdAlert.threshold_percent
        )
        .where(tuple_(ThresholdAlert.unit_code, ThresholdAlert.fiscal_year).in_(keys))
        .order_by(ThresholdAlert.threshold_percent)
    )
    for unit, year, threshold in rows:
        found[(unit, year)].append(threshold)
    return found


def _views(session: Session, allocations: list[Allocation], **options: Any) -> list[dict]:
    keys = [(a.unit_code, a.fiscal_year) for a in allocations]
    positions = ledger_positions(session, keys=keys, **options) if keys else {}
    thresholds = _thresholds(session, keys)
    return [
        _view(a, positions.get((a.unit_code, a.fiscal_year), domain.Position()), thresholds[key])
        for a, key in zip(allocations, keys, strict=True)
    ]


def _view(allocation: Allocation, position: domain.Position, thresholds: list[int]) -> dict:
    return {
        "unit_code": allocation.unit_code,
        "unit_name": allocation.unit_name,
        "fiscal_year": allocation.fiscal_year,
        "sub_activity_code": allocation.sub_activity_code,
        "sub_activity_name": allocation.sub_activity_name,
        "account_code": allocation.account_code,
        "account_name": allocation.account_name,
        **_figures(position),
        "thresholds_reached": thresholds,
    }


def _figures(position: domain.Position) -> dict[str, Any]:
    return {
        "allocated_rupiah": position.allocated,
        "reserved_rupiah": position.reserved,
        "spent_rupiah": position.spent,
        "committed_rupiah": position.committed,
        "available_rupiah": position.available,
        "utilisation_percent": position.utilisation_percent,
    }


def allocation_view(
    session: Session, unit: str, year: int, caller: Principal | None = None
) -> dict[str, Any]:
    """A unit's allocation and position for a year, summed from the ledger; ``caller``, when
    given, must reach the unit."""
    if caller is not None:
        units.reachable_units(session, caller, unit)
    allocation = session.get(Allocation, (unit, year))
    if allocation is None:
        raise Missing(f"Unit {unit} belum punya pagu tahun {year}.")
    return _views(session, [allocation])[0]


def allocations_page(
    session: Session, query: dict[str, Any], caller: Principal
) -> tuple[list[dict], int]:
    scope = units.reachable_units(session, caller, query.get("unit_code") or None)
    statement = select(Allocation).order_by(Allocation.fiscal_year.desc(), Allocation.unit_code)
    if query.get("fiscal_year") is not None:
        statement = statement.where(Allocation.fiscal_year == query["fiscal_year"])
    if query.get("unit_code"):
        statement = statement.where(Allocation.unit_code == query["unit_code"])
    statement = units.in_units(statement, Allocation.unit_code, scope)
    rows, total = fetch_page(session, statement, page=query["page"], per_page=query["per_page"])
    return _views(session, rows), total


def ledger_page(
    session: Session, query: dict[str, Any], caller: Principal
) -> tuple[list[LedgerEntry], int]:
    scope = units.reachable_units(session, caller, query.get("unit_code"))
    statement = select(LedgerEntry).order_by(LedgerEntry.id)
    for name in ("unit_code", "fiscal_year", "kind", "proposal_id"):
        if query.get(name) is not None:
            statement = statement.where(getattr(LedgerEntry, name) == query[name])
    statement = units.in_units(statement, LedgerEntry.unit_code, scope)
    return fetch_page(session, statement, page=query["page"], per_page=query["per_page"])


def utilisation_report(session: Session, fiscal_year: int, caller: Principal) -> dict[str, Any]:
    """Every unit's position for the year (of the caller's units), highest utilisation first,
    with their totals."""
    statement = select(Allocation).where(Allocation.fiscal_year == fiscal_year)
    scope = units.reachable_units(session, caller)
    allocations = session.scalars(units.in_units(statement, Allocation.unit_code, scope)).all()
    positions = sorted(
        _views(session, list(allocations), fiscal_year=fiscal_year),
        key=lambda view: (-view["utilisation_percent"], view["unit_code"]),
    )
    totals = domain.total(
        domain.Position(u["allocated_rupiah"], u["reserved_rupiah"], u["spent_rupiah"])
        for u in positions
    )
    return {"fiscal_year": fiscal_year, "units": positions, "totals": _figures(totals)}


def proposal_view(session: Session, proposal_id: uuid.UUID, caller: Principal) -> dict[str, Any]:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise Missing(f"Usulan {proposal_id} belum diterima oleh layanan anggaran.")
    caller.require_unit(proposal.unit_code, units.reachable_units(session, caller))
    items = session.scalars(
        select(ProposalItem)
        .where(ProposalItem.proposal_id == proposal_id)
        .order_by(ProposalItem.ordinal)
    ).all()
    return {
        **{
            name: getattr(proposal, name)
            for name in (
                "proposal_id",
                "unit_code",
                "fiscal_year",
                "employee_nip",
                "status",
                "reason",
                "reservation_id",
                "requested_rupiah",
                "reserved_rupiah",
            )
        },
        "items": items,
    }
