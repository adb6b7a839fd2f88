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

from asn_shared.errors import Conflict, NotFound
from asn_shared.persistence import UnitOfWork

from .. import repository
from ..channels import DeliveryError, Email, Webhook
from ..domain import (
    DELIVERED,
    EMAIL,
    PARKED,
    PENDING,
    WEBHOOK,
    delivery_outcome,
)
from ..models import Delivery
from .common import Delivering
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


def _claim(uow: UnitOfWork, limit: int, lease: float) -> _Claim:
    """Lease up to ``limit`` due deliveries to a new claim, committed."""
    token = uuid.uuid4()
    with uow:
        repo = uow.repository(repository.dispatch_sql)
        claimed = repo.claim_due(token, uow.clock.now(), limit, lease)
        if not claimed:
            return _Claim(token, [], {}, {})
        names = repo.recipient_names(d.recipient for d in claimed if d.channel == EMAIL)
        hooks = repo.webhook_targets(d.recipient for d in claimed if d.channel == WEBHOOK)
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
                    uow.repository(repository.dispatch_sql).renew_lease(self.token, self.seconds)
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


def _record(uow: UnitOfWork, token: uuid.UUID, outcomes: list[_Outcome]) -> list[_Outcome]:
    """Every attempt and the deliveries' new states, for the deliveries ``token`` still
    holds (delivered ones in one statement); return the outcomes recorded."""
    with uow:
        repo, now = uow.repository(repository.dispatch_sql), uow.clock.now()
        held = set()
        delivered = [o.delivery.id for o in outcomes if o.error is None]
        if delivered:
            held.update(repo.record_delivered(token, delivered, now))
        for o in outcomes:
            if o.error is not None:
                held.update(
                    repo.record_failed(
                        token,
                        o.delivery.id,
                        repository.Failure(o.status, o.number, o.next_attempt_at, str(o.error)),
                    )
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
    uow.repository(repository.dispatch_sql).add_attempts(
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
        delivery = uow.repository(repository.dispatch_sql).locked_delivery(delivery_id)
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
