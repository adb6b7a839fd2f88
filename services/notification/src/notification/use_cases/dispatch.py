"""Dispatching: e-mail and webhooks sent in batches, each attempt recorded, retried with
back-off and parked; a parked delivery resent on request."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from asn_shared.errors import Conflict, NotFound
from asn_shared.persistence import UnitOfWork

from ..channels import DeliveryError, Email, Webhook
from ..domain import (
    DELIVERED,
    EMAIL,
    PARKED,
    PENDING,
    WEBHOOK,
    delivery_outcome,
)
from ..models import Delivery, Employee, Official, Subscription
from .common import DELIVERIES, DELIVERY_ATTEMPTS, Delivering, utcnow
from .planning import announcement, attempt_row

# --- dispatching: e-mail and webhooks, retried with back-off -----------------------------


@dataclass(frozen=True)
class _Outcome:
    delivery: Any  # the locked row
    attempted_at: datetime
    duration_ms: int
    error: DeliveryError | None
    status: str
    next_attempt_at: datetime | None

    @property
    def number(self) -> int:
        return self.delivery.attempts + 1


def dispatch_due(uow: UnitOfWork, delivering: Delivering, limit: int) -> list[tuple[str, str]]:
    """Attempt up to ``limit`` due deliveries: each one's channel and new status ([]: none due).

    The rows stay locked (FOR UPDATE SKIP LOCKED) while they are sent, so replicas never
    send the same delivery at once; the attempts and their outcomes commit together.
    """
    with uow:
        session = uow.session
        due = session.execute(
            select(*[DELIVERIES.c[name] for name in _DISPATCHED])
            .where(DELIVERIES.c.status == PENDING, DELIVERIES.c.next_attempt_at <= utcnow())
            .order_by(DELIVERIES.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            return []
        names = _recipient_names(session, [d.recipient for d in due if d.channel == EMAIL])
        outcomes = [_attempt(session, delivering, delivery, names) for delivery in due]
        _record(uow, outcomes)
        uow.commit()
    return [(outcome.delivery.channel, outcome.status) for outcome in outcomes]


_DISPATCHED = (
    "id",
    "event_id",
    "event_type",
    "correlation_id",
    "channel",
    "recipient",
    "address",
    "subject",
    "body",
    "attempts",
    "attempt_limit",
)


def _attempt(
    session: Session, delivering: Delivering, delivery: Any, names: dict[str, str]
) -> _Outcome:
    attempted_at, started = utcnow(), time.monotonic()
    try:
        _send(session, delivering, delivery, names)
        error = None
    except DeliveryError as exc:
        error = exc
    duration_ms = round((time.monotonic() - started) * 1000)
    number = delivery.attempts + 1
    if error is None:
        return _Outcome(delivery, attempted_at, duration_ms, None, DELIVERED, None)
    status = PARKED if error.permanent else delivery_outcome(False, number, delivery.attempt_limit)
    retry_at = None
    if status == PENDING:
        delay = delivering.policies[delivery.channel].delay_after(number)
        retry_at = utcnow() + timedelta(seconds=delay)
    return _Outcome(delivery, attempted_at, duration_ms, error, status, retry_at)


def _send(session: Session, delivering: Delivering, delivery: Any, names: dict[str, str]) -> None:
    if delivery.channel == EMAIL:
        delivering.email.send(
            Email(
                str(delivery.id),
                names.get(delivery.recipient),
                delivery.address,
                delivery.subject or "",
                delivery.body,
            )
        )
    elif delivery.channel == WEBHOOK:
        subscription = session.get(Subscription, uuid.UUID(delivery.recipient))
        if subscription is None or not subscription.active:
            raise DeliveryError("the subscription was cancelled", permanent=True)
        delivering.webhook.send(
            Webhook(
                str(delivery.id),
                delivery.event_type,
                subscription.url,
                delivery.body.encode(),
                subscription.secret,
            )
        )
    else:
        raise DeliveryError(f"channel {delivery.channel} is not dispatched", permanent=True)


def _recipient_names(session: Session, keys: list[str]) -> dict[str, str]:
    """The names of e-mail recipients, employees (by NIP) or officials (by id)."""
    if not keys:
        return {}
    wanted = set(keys)
    names = dict(
        session.execute(select(Employee.nip, Employee.name).where(Employee.nip.in_(wanted))).all()
    )
    officials = []
    for key in wanted - set(names):
        try:
            officials.append(uuid.UUID(key))
        except ValueError:
            pass
    if officials:
        found = session.execute(
            select(Official.id, Official.name).where(Official.id.in_(officials))
        )
        names.update({str(official_id): name for official_id, name in found})
    return names


def _record(uow: UnitOfWork, outcomes: list[_Outcome]) -> None:
    """Every attempt and the deliveries' new states; delivered ones in one statement."""
    session, now = uow.session, utcnow()
    session.execute(
        DELIVERY_ATTEMPTS.insert(),
        [
            attempt_row(
                o.delivery.id,
                o.number,
                o.attempted_at,
                None if o.error is None else str(o.error),
                o.duration_ms,
            )
            for o in outcomes
        ],
    )
    delivered = [o for o in outcomes if o.error is None]
    if delivered:
        session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id.in_([o.delivery.id for o in delivered]))
            .values(
                status=DELIVERED,
                attempts=DELIVERIES.c.attempts + 1,
                delivered_at=now,
                next_attempt_at=None,
                last_error=None,
            )
        )
    for o in outcomes:
        if o.error is not None:
            session.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == o.delivery.id)
                .values(
                    status=o.status,
                    attempts=o.number,
                    next_attempt_at=o.next_attempt_at,
                    last_error=str(o.error),
                )
            )
    _announce(uow, delivered, "notification.delivered")
    _announce(uow, [o for o in outcomes if o.error is not None], "notification.failed")


def _announce(uow: UnitOfWork, outcomes: list[_Outcome], name: str) -> None:
    """One event per attempt, each in the story of the event that caused its delivery."""
    if not outcomes:
        return
    items = []
    for o in outcomes:
        data = announcement(o.delivery, attempts=o.number)
        if o.error is not None:
            data.update(error=str(o.error), parked=o.status == PARKED)
        items.append((str(o.delivery.id), data))
    causes = [(o.delivery.correlation_id, o.delivery.event_id) for o in outcomes]
    uow.publish_many(name, items, causes=causes)


def resend(uow: UnitOfWork, delivery_id: uuid.UUID, delivering: Delivering) -> Delivery:
    """Give a parked e-mail or webhook a fresh round of attempts, starting now."""
    with uow:
        delivery = uow.session.get(Delivery, delivery_id, with_for_update=True)
        if delivery is None:
            raise NotFound(f"No delivery {delivery_id}.")
        if delivery.status != PARKED:
            raise Conflict(
                f"Delivery {delivery_id} is {delivery.status}; only a parked one is resent.",
                status_now=delivery.status,
            )
        delivery.status = PENDING
        delivery.next_attempt_at = utcnow()
        delivery.attempt_limit = delivery.attempts + delivering.limit(delivery.channel)
        uow.commit()
    if delivering.wake is not None:
        delivering.wake()
    return delivery
