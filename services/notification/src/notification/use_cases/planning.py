"""Planning: who hears of an event, over which channel, in which words; one delivery per
(event, recipient, channel), however often the event arrives and however many replicas run."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork

from .. import rendering, repository
from ..domain import (
    DEFAULT_LANGUAGE,
    DELIVERED,
    EMAIL,
    INBOX,
    NOTIFIED_EVENTS,
    PENDING,
    WEBHOOK,
    Recipient,
    concerns_people,
    facts_of,
    pattern_matches,
)
from ..repository import PlanningRepository
from .common import Delivering
from .recipients import audience, unit_name
from .setup import Setup

# --- planning: who hears of an event, over which channel ---------------------------------


@dataclass(frozen=True)
class _Planned:
    channel: str
    recipient: str
    address: str
    subject: str | None
    body: str


def notify(uow: UnitOfWork, event: Event, delivering: Delivering) -> None:
    """Plan every delivery of ``event``: one per (recipient, channel), never two.

    Messages are rendered now, from the event and the recipients as known now; inbox
    messages are delivered by the transaction that stores them; e-mail and webhooks wait
    for the dispatcher. The deliveries of a batch's events are stored together.
    """
    repo = uow.repository(repository.sql)
    if isinstance(event.data.get("employee"), dict):  # the event carries the employee too
        repo.upsert_employee(event.data["employee"])
    setup = repo.setup(delivering.setup)
    planned = _tell_people(repo, event, setup) if concerns_people(event.name, event.data) else []
    _plan(uow, event, planned + _forward_to_agencies(event, setup), delivering)


def prepare(uow: UnitOfWork, events: list[Event]) -> None:
    """The employees a batch's events carry stored with one statement, then who the events
    concern and their supervisors read with another."""
    carried = [e.data["employee"] for e in events if isinstance(e.data.get("employee"), dict)]
    nips = {facts_of(event.name, event.data).employee_nip for event in events}
    nips.update(employee.get("supervisor_nip") for employee in carried)
    repo = uow.repository(repository.sql)
    repo.store_employees(carried)
    repo.read_employees(nip for nip in nips if nip)


def _tell_people(repo: PlanningRepository, event: Event, setup: Setup) -> list[_Planned]:
    """Each active rule's audience, over each of the rule's channels they can be reached by."""
    rules = setup.rules.get(event.name)
    if not rules:
        return []
    facts = facts_of(event.name, event.data)
    context = {
        "data": event.data,
        "event": {"id": event.id, "type": event.name, "time": event.time},
        "unit_name": unit_name(repo, facts, event.data),
    }
    planned = []
    for rule in rules:
        for recipient in audience(repo, rule.audience, facts, setup):
            subject, body = _render(setup, rule.template, recipient, context)
            for channel in rule.channels:
                address = recipient.email if channel == EMAIL else recipient.key
                if address:
                    planned.append(_Planned(channel, recipient.key, address, subject, body))
    return planned


def _render(
    setup: Setup, key: str, recipient: Recipient, context: dict[str, Any]
) -> tuple[str, str]:
    """The template in the recipient's language, else in Bahasa Indonesia."""
    for language in dict.fromkeys((recipient.language, DEFAULT_LANGUAGE)):
        template = setup.templates.get((key, language))
        if template is not None:
            personal = {**context, "recipient": {"name": recipient.name, "key": recipient.key}}
            return rendering.render(*template, personal, language)
    raise rendering.TemplateError(f"no template {key!r}")


def _forward_to_agencies(event: Event, setup: Setup) -> list[_Planned]:
    """The CloudEvent itself, to every active subscription with a matching pattern."""
    if event.name not in NOTIFIED_EVENTS:
        return []  # employee events carry personal data: they are not forwarded
    subscribers = [
        s for s in setup.subscribers if any(pattern_matches(p, event.name) for p in s.patterns)
    ]
    if not subscribers:
        return []
    body = event.to_json().decode()
    return [_Planned(WEBHOOK, str(s.id), s.url, None, body) for s in subscribers]


def _plan(uow: UnitOfWork, event: Event, planned: list[_Planned], delivering: Delivering) -> None:
    """Collect the deliveries of this event, at most one per recipient and channel, for
    :func:`_store`."""
    once: dict[tuple[str, str], _Planned] = {}
    for p in planned:
        once.setdefault((p.recipient, p.channel), p)
    now = uow.clock.now()
    rows = [
        {
            "id": uuid.uuid4(),
            "event_id": event.id,
            "event_type": event.name,
            "correlation_id": event.correlation_id,
            "channel": p.channel,
            "recipient": p.recipient,
            "address": p.address,
            "subject": p.subject,
            "body": p.body,
            "status": DELIVERED if p.channel == INBOX else PENDING,
            "attempts": 1 if p.channel == INBOX else 0,
            "attempt_limit": delivering.limit(p.channel),
            "next_attempt_at": None if p.channel == INBOX else now,
            "delivered_at": now if p.channel == INBOX else None,
        }
        for p in once.values()
    ]
    if rows:
        uow.collect("deliveries", rows, lambda collected: _store(uow, collected, delivering))


def _store(uow: UnitOfWork, rows: list[dict[str, Any]], delivering: Delivering) -> None:
    """Insert, in one statement, the collected deliveries their events do not have yet.
    Inbox messages are delivered by it, and each announced as caused by its own event."""
    repo = uow.repository(repository.sql)
    inserted = {row.id for row in repo.add_deliveries(rows)}
    stored = [row for row in rows if row["id"] in inserted]
    inbox = [row for row in stored if row["channel"] == INBOX]
    if inbox:
        uow.publish_many(
            "notification.delivered",
            [(str(row["id"]), announcement(row, attempts=1)) for row in inbox],
            causes=[(row["correlation_id"] or row["event_id"], row["event_id"]) for row in inbox],
        )
    if delivering.wake is not None and len(inbox) < len(stored):
        repo.after_commit(delivering.wake)


def attempt_row(
    delivery_id: uuid.UUID, number: int, at: datetime, error: str | None, duration_ms: int
) -> dict[str, Any]:
    return {
        "delivery_id": delivery_id,
        "number": number,
        "attempted_at": at,
        "succeeded": error is None,
        "error": error,
        "duration_ms": duration_ms,
    }


def announcement(delivery: Any, *, attempts: int) -> dict[str, Any]:
    """What notification.delivered / .failed say of a delivery (a row or a mapping)."""
    get = delivery.get if isinstance(delivery, dict) else delivery._mapping.get
    channel = get("channel")
    return {
        "delivery_id": get("id"),
        "source_event_id": get("event_id"),
        "source_event_type": get("event_type"),
        "channel": channel,
        "recipient": get("address") if channel == WEBHOOK else get("recipient"),
        "attempts": attempts,
    }
