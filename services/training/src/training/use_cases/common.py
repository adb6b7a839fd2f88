"""What the use cases share: row locks, the caller's reach, state-machine refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from asn_shared import units
from asn_shared.auth import EMPLOYEE, Principal
from asn_shared.errors import Conflict, NotFound
from asn_shared.persistence import UnitOfWork

from .. import repository
from ..domain import IllegalTransition, ItemStatus, Status
from ..models import Batch, Enrollment, Proposal

Reached = TypeVar("Reached", bound="Enrollment | Proposal")


def reachable(
    uow: UnitOfWork, found: Reached | None, missing: str, caller: Principal | None
) -> Reached:
    """``found``, if it exists (NotFound with the ``missing`` sentence) and ``caller`` (when
    given) may reach its employee's unit."""
    if found is None:
        raise NotFound(missing)
    if caller is not None:
        uow.repository(repository.sql).check_reach(caller, found.employee_nip, found.unit_code)
    return found


def locked(session: Session, model: type, key: Any) -> Any:
    """The row, locked FOR UPDATE and re-read: what another transaction committed counts."""
    return session.get(model, key, with_for_update=True, populate_existing=True)


def narrowed(
    session: Session, principal: Principal, query: dict[str, Any]
) -> tuple[dict[str, Any], set[str] | None]:
    """A list query limited to the caller and the units it may list (``None``: all).

    An employee lists only their own NIP (an ``employee_nip`` filter for another is
    refused); an operator only its units (a ``unit_code`` filter outside them is refused).
    """
    if principal.role == EMPLOYEE:
        return {**query, "employee_nip": principal.own_nip(query.get("employee_nip"))}, None
    return query, units.reachable_units(session, principal, query.get("unit_code"))


BOOKED_ITEMS = (ItemStatus.APPROVED, ItemStatus.ENROLLED)


ACTIVE_PROPOSALS = (Status.APPROVED, Status.PARTIALLY_APPROVED, Status.ENROLLED)


def checked(rule: Callable[..., Status], *args: Any) -> Status:
    """Apply a state-machine rule; an illegal transition is the client's conflict."""
    try:
        return rule(*args)
    except IllegalTransition as exc:
        raise Conflict(str(exc), current_status=exc.current, requested_status=exc.target) from None


def free_seat(session: Session, enrollment: Enrollment) -> None:
    batch = locked(session, Batch, enrollment.batch_id)
    batch.enrolled -= 1
    enrollment.status = "cancelled"
