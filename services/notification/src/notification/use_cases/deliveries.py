"""What was delivered: the delivery log and each recipient's inbox."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select

from asn_shared.errors import NotFound
from asn_shared.persistence import UnitOfWork, fetch_page, plain

from ..domain import (
    INBOX,
)
from ..models import Delivery, DeliveryAttempt
from .common import detached

# --- the delivery log ---------------------------------------------------------------------


def delivery_page(
    uow: UnitOfWork, filters: dict[str, Any], page: int, per_page: int
) -> tuple[list[Delivery], int]:
    statement: Select = select(Delivery)
    for name in ("status", "channel", "event_type", "event_id", "recipient"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(Delivery, name) == filters[name])
    statement = statement.order_by(Delivery.created_at.desc(), Delivery.id)
    with uow:
        return detached(uow, fetch_page(uow.session, statement, page=page, per_page=per_page))


def delivery_detail(uow: UnitOfWork, delivery_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        delivery = uow.session.get(Delivery, delivery_id)
        if delivery is None:
            raise NotFound(f"No delivery {delivery_id}.")
        attempts = uow.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.number)
        ).all()
        return {**plain(delivery), "attempt_log": [plain(attempt) for attempt in attempts]}


# --- the inbox ----------------------------------------------------------------------------


def _inbox(recipient: str) -> Select:
    return select(Delivery).where(Delivery.channel == INBOX, Delivery.recipient == recipient)


def inbox_page(
    uow: UnitOfWork, recipient: str, unread: bool | None, page: int, per_page: int
) -> tuple[list[Delivery], int, int]:
    """A recipient's messages, newest first, and how many are unread in all."""
    statement = _inbox(recipient)
    if unread is not None:
        read_filter = Delivery.read_at.is_(None) if unread else Delivery.read_at.is_not(None)
        statement = statement.where(read_filter)
    statement = statement.order_by(Delivery.created_at.desc(), Delivery.id)
    with uow:
        items, total = fetch_page(uow.session, statement, page=page, per_page=per_page)
        unread_count = uow.session.scalar(
            select(func.count()).select_from(
                _inbox(recipient).where(Delivery.read_at.is_(None)).subquery()
            )
        )
        detached(uow, None)
    return items, total, unread_count


def mark_read(uow: UnitOfWork, recipient: str, message_id: uuid.UUID, read: bool) -> Delivery:
    with uow:
        message = uow.session.scalars(
            _inbox(recipient).where(Delivery.id == message_id).with_for_update()
        ).first()
        if message is None:
            raise NotFound(f"No message {message_id} in the inbox of {recipient}.")
        if read and message.read_at is None:
            message.read_at = uow.clock.now()
        elif not read:
            message.read_at = None
        uow.commit()
    return message
