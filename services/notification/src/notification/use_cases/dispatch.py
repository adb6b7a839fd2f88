"""Dispatching: e-mail and webhooks sent in batches, each attempt recorded, retried with
back-off and parked; a parked delivery resent on request.

No transaction is open and no row locked while an e-mail or webhook is out. A batch is
claimed in one short transaction: its rows get a claim token and a lease (``leased_until``),
committed. Then they are sent, and the outcomes recorded in a second transaction, for the
rows the claim still holds. The lease is renewed while the batch is out; a replica that dies
mid-send leaves its claim to run out, and another replica sends the deliveries again: the
copy carries the same Message-ID and X-Kompas-Delivery id, so the receiver can drop it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
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
from .common import DELIVERIES, DELIVERY_ATTEMPTS, Delivering
from .planning import announcement, attempt_row

log = logging.getLogger(__name__)

# --- dispatching: e-mail and webhooks, retried with back-off -----------------------------


@dataclass(frozen=True)
class _Claim:
    """Deliveries leased to one dispatch round, with what sending them needs."""

    token: uuid.UUID
    deliveries: list[Any]
    names: dict[str, str]  # e-mail recipients' names
    subscriptions: dict[str, Any]  # webhook recipients: url, secret, active


@dataclass(frozen=True)
class _Outcome:
    delivery: Any  # the claimed row
    attempted_at: datetime
    duration_ms: int
    error: DeliveryError | None
    status: str
    next_attempt_at: datetime | None

    @property
    def number(self) -> int:
        return self.delivery.attempts + 1


def dispatch_due(
    units: Callable[[], UnitOfWork], delivering: Delivering, limit: int
) -> list[tuple[str, str]]:
    """Attempt up to ``limit`` due deliveries: each one's channel and new status ([]: none due).

    ``units`` gives a fresh unit of work for each of the round's short transactions: the
    claim, the lease's renewals and the record. Replicas never send a delivery at once
    while its lease holds; an outcome whose lease another replica took over is not recorded.
    """
    claim = _claim(units(), limit, delivering.lease)
    if not claim.deliveries:
        return []
    with _Lease(units, claim.token, delivering.lease):
        outcomes = [_attempt(delivering, delivery, claim) for delivery in claim.deliveries]
        recorded = _record(units(), claim.token, outcomes)
    return [(outcome.delivery.channel, outcome.status) for outcome in recorded]


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
    "next_attempt_at",
)


def _claim(uow: UnitOfWork, limit: int, lease: float) -> _Claim:
    """Lease up to ``limit`` due deliveries to a new claim, committed."""
    token = uuid.uuid4()
    due = (
        select(DELIVERIES.c.id)
        .where(
            DELIVERIES.c.status == PENDING,
            DELIVERIES.c.next_attempt_at <= uow.clock.now(),
            or_(DELIVERIES.c.leased_until.is_(None), DELIVERIES.c.leased_until <= func.now()),
        )
        .order_by(DELIVERIES.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with uow:
        session = uow.session
        claimed = session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id.in_(due.scalar_subquery()))
            .values(claim=token, leased_until=func.now() + timedelta(seconds=lease))
            .returning(*[DELIVERIES.c[name] for name in _DISPATCHED])
        ).all()
        if not claimed:
            return _Claim(token, [], {}, {})
        claimed.sort(key=lambda delivery: delivery.next_attempt_at)
        names = _recipient_names(session, [d.recipient for d in claimed if d.channel == EMAIL])
        hooks = _subscriptions(session, [d.recipient for d in claimed if d.channel == WEBHOOK])
        uow.commit()
    return _Claim(token, claimed, names, hooks)


class _Lease:
    """Renews a claim's lease every third of it while its batch is out, so a slow batch
    keeps its deliveries; a replica that stops renewing (it died) loses them."""

    def __init__(self, units: Callable[[], UnitOfWork], token: uuid.UUID, seconds: float):
        self.units, self.token, self.seconds = units, token, seconds
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._keep, daemon=True)

    def __enter__(self) -> _Lease:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.done.set()
        self.thread.join()

    def _keep(self) -> None:
        while not self.done.wait(self.seconds / 3):
            try:
                with self.units() as uow:
                    uow.session.execute(
                        update(DELIVERIES)
                        .where(DELIVERIES.c.claim == self.token)
                        .values(leased_until=func.now() + timedelta(seconds=self.seconds))
                    )
                    uow.commit()
            except Exception as exc:  # noqa: BLE001 - a failed renewal only shortens the lease
                log.warning("dispatch lease not renewed: %s: %s", type(exc).__name__, exc)


def _attempt(delivering: Delivering, delivery: Any, claim: _Claim) -> _Outcome:
    attempted_at, started = delivering.clock.now(), time.monotonic()
    try:
        _send(delivering, delivery, claim)
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
        retry_at = delivering.clock.now() + timedelta(seconds=delay)
    return _Outcome(delivery, attempted_at, duration_ms, error, status, retry_at)


def _send(delivering: Delivering, delivery: Any, claim: _Claim) -> None:
    if delivery.channel == EMAIL:
        delivering.email.send(
            Email(
                str(delivery.id),
                claim.names.get(delivery.recipient),
                delivery.address,
                delivery.subject or "",
                delivery.body,
            )
        )
    elif delivery.channel == WEBHOOK:
        subscription = claim.subscriptions.get(delivery.recipient)
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


def _subscriptions(session: Session, keys: list[str]) -> dict[str, Any]:
    """The webhook subscriptions the deliveries go to, by id."""
    ids = []
    for key in set(keys):
        try:
            ids.append(uuid.UUID(key))
        except ValueError:
            pass  # no such subscription: the delivery is parked
    if not ids:
        return {}
    rows = session.execute(
        select(Subscription.id, Subscription.url, Subscription.secret, Subscription.active).where(
            Subscription.id.in_(ids)
        )
    )
    return {str(row.id): row for row in rows}


def _record(uow: UnitOfWork, token: uuid.UUID, outcomes: list[_Outcome]) -> list[_Outcome]:
    """Every attempt and the deliveries' new states, for the deliveries ``token`` still
    holds (delivered ones in one statement); return the outcomes recorded."""
    with uow:
        session, now = uow.session, uow.clock.now()
        released = {"claim": None, "leased_until": None}
        ours = DELIVERIES.c.claim == token
        held = set()
        delivered = [o.delivery.id for o in outcomes if o.error is None]
        if delivered:
            held.update(
                session.execute(
                    update(DELIVERIES)
                    .where(DELIVERIES.c.id.in_(delivered), ours)
                    .values(
                        status=DELIVERED,
                        attempts=DELIVERIES.c.attempts + 1,
                        delivered_at=now,
                        next_attempt_at=None,
                        last_error=None,
                        **released,
                    )
                    .returning(DELIVERIES.c.id)
                ).scalars()
            )
        for o in outcomes:
            if o.error is not None:
                held.update(
                    session.execute(
                        update(DELIVERIES)
                        .where(DELIVERIES.c.id == o.delivery.id, ours)
                        .values(
                            status=o.status,
                            attempts=o.number,
                            next_attempt_at=o.next_attempt_at,
                            last_error=str(o.error),
                            **released,
                        )
                        .returning(DELIVERIES.c.id)
                    ).scalars()
                )
        recorded = [o for o in outcomes if o.delivery.id in held]
        if len(recorded) < len(outcomes):
            log.warning(
                "%d delivery outcome(s) not recorded: their lease ran out and another "
                "replica claimed them",
                len(outcomes) - len(recorded),
            )
        if recorded:
            _attempts(uow, recorded)
        uow.commit()
    return recorded


def _attempts(uow: UnitOfWork, outcomes: list[_Outcome]) -> None:
    """The attempts' rows, and an event announcing each."""
    uow.session.execute(
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
    _announce(uow, [o for o in outcomes if o.error is None], "notification.delivered")
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
        delivery.next_attempt_at = uow.clock.now()
        delivery.attempt_limit = delivery.attempts + delivering.limit(delivery.channel)
        uow.commit()
    if delivering.wake is not None:
        delivering.wake()
    return delivery
