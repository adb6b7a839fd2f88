"""What was delivered: the delivery log and each recipient's inbox."""

from __future__ import annotations

import uuid
from typing import Any

from asn_shared.errors import NotFound
from asn_shared.persistence import UnitOfWork, plain

from .. import repository
from ..models import Delivery

# --- the delivery log ---------------------------------------------------------------------


def delivery_page(
    uow: UnitOfWork, filters: dict[str, Any], page: int, per_page: int
) -> tuple[list[Delivery], int]:
    with uow:
        return uow.repository(repository.dispatch_sql).delivery_page(filters, page, per_page)


def delivery_detail(uow: UnitOfWork, delivery_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.dispatch_sql)
        delivery = repo.delivery(delivery_id)
        if delivery is None:
            raise NotFound(f"No delivery {delivery_id}.")
        attempts = repo.attempts_of(delivery_id)
        return {**plain(delivery), "attempt_log": [plain(attempt) for attempt in attempts]}


# --- the inbox ----------------------------------------------------------------------------


def inbox_page(
    uow: UnitOfWork, recipient: str, unread: bool | None, page: int, per_page: int
) -> tuple[list[Delivery], int, int]:
    """A recipient's messages, newest first, and how many are unread in all."""
    with uow:
        return uow.repository(repository.dispatch_sql).inbox_page(recipient, unread, page, per_page)


def mark_read(uow: UnitOfWork, recipient: str, message_id: uuid.UUID, read: bool) -> Delivery:
    with uow:
        message = uow.repository(repository.dispatch_sql).inbox_message(recipient, message_id)
        if message is None:
            raise NotFound(f"No message {message_id} in the inbox of {recipient}.")
        if read and message.read_at is None:
            message.read_at = uow.clock.now()
        elif not read:
            message.read_at = None
        uow.commit()
    return message
