"""The notification service's use cases: each takes a unit of work and plain arguments."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork, fetch_page
from asn_shared.web import Conflict, NotFound

from . import rendering
from .channels import DeliveryError, Email, SmtpConnection, SmtpSender, Webhook, WebhookSender
from .domain import (
    BKPSDM_ADMIN,
    DEFAULT_LANGUAGE,
    DELIVERED,
    EMAIL,
    EMPLOYEE,
    INBOX,
    LANGUAGES,
    NOTIFIED_EVENTS,
    PARKED,
    PENDING,
    SUPERVISOR,
    UNIT_OPERATOR,
    WEBHOOK,
    EventFacts,
    Recipient,
    RetryPolicy,
    concerns_people,
    delivery_outcome,
    facts_of,
    language_of,
    pattern_matches,
)
from .models import Delivery, DeliveryAttempt, Employee, Official, Rule, Subscription, Template


class RecipientUnknown(LookupError):
    """An audience names an employee this service has not heard of yet.

    Raised inside an event handler, so the event is retried with back-off (the
    employee.registered event may simply not have arrived yet) and parked if it never does.
    """


@dataclass(frozen=True)
class Delivering:
    """What the dispatcher needs: the senders and each channel's retry policy."""

    email: SmtpSender | SmtpConnection  # a connection: several e-mails over one
    webhook: WebhookSender
    policies: dict[str, RetryPolicy]

    def limit(self, channel: str) -> int:
        policy = self.policies.get(channel)
        return policy.max_attempts if policy else 1


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- recipients ---------------------------------------------------------------------------


def record_employee(uow: UnitOfWork, event: Event) -> None:
    """employee.registered / employee.updated: keep the highest version, in any order."""
    upsert_employee(uow.session, event.data)


def upsert_employee(session: Session, employee: dict[str, Any]) -> None:
    unit = employee["unit"]
    values = {
        "nip": employee["nip"],
        "name": employee["name"],
        "email": employee.get("email"),
        "unit_code": unit["code"],
        "unit_name": unit["name"],
        "supervisor_nip": employee.get("supervisor_nip"),
        "language": language_of(employee.get("language")),
        "version": employee["version"],
    }
    statement = pg_insert(Employee).values(**values)
    changed = {name: statement.excluded[name] for name in values if name != "nip"}
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[Employee.nip],
            set_={**changed, "updated_at": func.now()},
            where=Employee.version < statement.excluded.version,
        )
    )


def get_employee(uow: UnitOfWork, nip: str) -> Employee:
    with uow:
        employee = _detached(uow, uow.session.get(Employee, nip))
    if employee is None:
        raise NotFound(f"No employee {nip} has been announced to this service.")
    return employee


def _employee(session: Session, nip: str, role: str) -> Employee:
    employee = session.get(Employee, nip)
    if employee is None:
        raise RecipientUnknown(f"{role} {nip} is not known yet (no employee.registered seen)")
    return employee


def _as_recipient(person: Employee | Official) -> Recipient:
    key = person.nip if isinstance(person, Employee) else str(person.id)
    return Recipient(key, person.name, person.email, language_of(person.language))


def audience(session: Session, kind: str, facts: EventFacts) -> list[Recipient]:
    """Who ``kind`` is for an event with these facts."""
    if kind in (EMPLOYEE, SUPERVISOR):
        if facts.employee_nip is None:
            return []
        employee = _employee(session, facts.employee_nip, "employee")
        if kind == EMPLOYEE:
            return [_as_recipient(employee)]
        if employee.supervisor_nip is None:
            return []
        return [_as_recipient(_employee(session, employee.supervisor_nip, "supervisor"))]
    officials = select(Official).where(Official.role == kind, Official.active.is_(True))
    if kind == UNIT_OPERATOR:
        if facts.unit_code is None:
            return []
        officials = officials.where(Official.unit_code == facts.unit_code)
    elif kind != BKPSDM_ADMIN:
        return []
    return [
        _as_recipient(official) for official in session.scalars(officials.order_by(Official.id))
    ]


def _unit_name(session: Session, unit_code: str | None) -> str:
    if unit_code is None:
        return "-"
    name = session.scalar(
        select(Employee.unit_name).where(Employee.unit_code == unit_code).limit(1)
    )
    return name or unit_code


# --- planning: who hears of an event, over which channel ---------------------------------


def notify(uow: UnitOfWork, event: Event, delivering: Delivering) -> list[uuid.UUID]:
    """Plan every delivery of ``event``: one per (recipient, channel), never two.

    Messages are rendered now, from the event and the recipients as known now; inbox
    messages are delivered at once; e-mail and webhooks wait for the dispatcher.
    """
    if isinstance(event.data.get("employee"), dict):  # the event carries the employee too
        upsert_employee(uow.session, event.data["employee"])
    planned = (
        _tell_people(uow, event, delivering) if concerns_people(event.name, event.data) else []
    )
    return planned + _forward_to_agencies(uow, event, delivering)


def _tell_people(uow: UnitOfWork, event: Event, delivering: Delivering) -> list[uuid.UUID]:
    """Each active rule's audience, over each of the rule's channels they can be reached by."""
    session = uow.session
    facts = facts_of(event.name, event.data)
    context = {
        "data": event.data,
        "event": {"id": event.id, "type": event.name, "time": event.time},
        "unit_name": _unit_name(session, facts.unit_code),
    }
    templates = _TemplateCache(session)
    rules = session.scalars(
        select(Rule).where(Rule.event_type == event.name, Rule.active.is_(True)).order_by(Rule.id)
    ).all()
    planned: list[uuid.UUID] = []
    for rule in rules:
        for recipient in audience(session, rule.audience, facts):
            subject, body = templates.render(rule.template, recipient, context)
            for channel in rule.channels:
                address = recipient.email if channel == EMAIL else recipient.key
                if address:
                    planned += _plan(
                        uow,
                        event,
                        channel=channel,
                        recipient=recipient.key,
                        address=address,
                        subject=subject,
                        body=body,
                        limit=delivering.limit(channel),
                    )
    return planned


def _forward_to_agencies(uow: UnitOfWork, event: Event, delivering: Delivering) -> list[uuid.UUID]:
    """The CloudEvent itself, to every active subscription with a matching pattern."""
    planned: list[uuid.UUID] = []
    body = event.to_json().decode()
    for subscription in _subscribers(uow.session, event.name):
        planned += _plan(
            uow,
            event,
            channel=WEBHOOK,
            recipient=str(subscription.id),
            address=subscription.url,
            subject=None,
            body=body,
            limit=delivering.limit(WEBHOOK),
        )
    return planned


class _TemplateCache:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.found: dict[tuple[str, str], Template | None] = {}

    def get(self, key: str, language: str) -> Template:
        for wanted in dict.fromkeys((language, DEFAULT_LANGUAGE)):
            if (key, wanted) not in self.found:
                self.found[key, wanted] = self.session.get(Template, (key, wanted))
            if self.found[key, wanted] is not None:
                return self.found[key, wanted]
        raise rendering.TemplateError(f"no template {key!r}")

    def render(self, key: str, recipient: Recipient, context: dict[str, Any]) -> tuple[str, str]:
        template = self.get(key, recipient.language)
        personal = {**context, "recipient": {"name": recipient.name, "key": recipient.key}}
        return rendering.render(template.subject, template.body, personal, template.language)


def _subscribers(session: Session, event_name: str) -> list[Subscription]:
    if event_name not in NOTIFIED_EVENTS:
        return []  # employee events carry personal data: they are not forwarded
    active = session.scalars(
        select(Subscription).where(Subscription.active.is_(True)).order_by(Subscription.id)
    )
    return [s for s in active if any(pattern_matches(p, event_name) for p in s.patterns)]


def _plan(
    uow: UnitOfWork,
    event: Event,
    *,
    channel: str,
    recipient: str,
    address: str,
    subject: str | None,
    body: str,
    limit: int,
) -> list[uuid.UUID]:
    """Insert one delivery unless this (event, recipient, channel) already has one."""
    now = utcnow()
    inbox = channel == INBOX
    delivery_id = uow.session.scalar(
        pg_insert(Delivery)
        .values(
            id=uuid.uuid4(),
            event_id=event.id,
            event_type=event.name,
            correlation_id=event.correlation_id,
            channel=channel,
            recipient=recipient,
            address=address,
            subject=subject,
            body=body,
            status=DELIVERED if inbox else PENDING,
            attempts=1 if inbox else 0,
            attempt_limit=limit,
            next_attempt_at=None if inbox else now,
            delivered_at=now if inbox else None,
        )
        .on_conflict_do_nothing(constraint="deliveries_once")
        .returning(Delivery.id)
    )
    if delivery_id is None:
        return []
    if inbox:  # written to the recipient's inbox: delivered by this very transaction
        delivery = uow.session.get(Delivery, delivery_id)
        uow.session.add(
            DeliveryAttempt(
                delivery_id=delivery_id, number=1, attempted_at=now, succeeded=True, duration_ms=0
            )
        )
        _announce(uow, delivery)
    return [delivery_id]


def _announce(uow: UnitOfWork, delivery: Delivery) -> None:
    data = {
        "delivery_id": delivery.id,
        "source_event_id": delivery.event_id,
        "source_event_type": delivery.event_type,
        "channel": delivery.channel,
        "recipient": delivery.address if delivery.channel == WEBHOOK else delivery.recipient,
        "attempts": delivery.attempts,
    }
    if delivery.status == DELIVERED:
        uow.publish("notification.delivered", data, subject=str(delivery.id))
    else:
        uow.publish(
            "notification.failed",
            {**data, "error": delivery.last_error or "", "parked": delivery.status == PARKED},
            subject=str(delivery.id),
        )


# --- dispatching: e-mail and webhooks, retried with back-off -----------------------------


def dispatch_next(uow: UnitOfWork, delivering: Delivering) -> tuple[str, str] | None:
    """Attempt the next due delivery: its channel and new status; None when none is due.

    The row stays locked (FOR UPDATE SKIP LOCKED) while it is sent, so replicas never send
    the same delivery at once; the attempt and its outcome commit together.
    """
    with uow:
        session = uow.session
        delivery = session.scalars(
            select(Delivery)
            .where(Delivery.status == PENDING, Delivery.next_attempt_at <= utcnow())
            .order_by(Delivery.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if delivery is None:
            return None
        # what the attempt announces belongs to the story of the event that caused it
        uow.correlation_id, uow.causation_id = delivery.correlation_id, delivery.event_id
        attempted_at, started = utcnow(), time.monotonic()
        try:
            _send(session, delivering, delivery)
            error = None
        except DeliveryError as exc:
            error = exc
        duration_ms = round((time.monotonic() - started) * 1000)
        _record_attempt(uow, delivery, error, attempted_at, duration_ms, delivering)
        uow.commit()
    return delivery.channel, delivery.status


def _send(session: Session, delivering: Delivering, delivery: Delivery) -> None:
    if delivery.channel == EMAIL:
        name = _recipient_name(session, delivery.recipient)
        delivering.email.send(
            Email(str(delivery.id), name, delivery.address, delivery.subject or "", delivery.body)
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


def _recipient_name(session: Session, key: str) -> str | None:
    employee = session.get(Employee, key)
    if employee is not None:
        return employee.name
    try:
        official = session.get(Official, uuid.UUID(key))
    except ValueError:
        return None
    return official.name if official else None


def _record_attempt(
    uow: UnitOfWork,
    delivery: Delivery,
    error: DeliveryError | None,
    attempted_at: datetime,
    duration_ms: int,
    delivering: Delivering,
) -> None:
    delivery.attempts += 1
    uow.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            attempted_at=attempted_at,
            succeeded=error is None,
            error=None if error is None else str(error),
            duration_ms=duration_ms,
        )
    )
    now = utcnow()
    if error is None:
        delivery.status, delivery.delivered_at, delivery.last_error = DELIVERED, now, None
        delivery.next_attempt_at = None
    else:
        delivery.last_error = str(error)
        delivery.status = (
            PARKED
            if error.permanent
            else delivery_outcome(False, delivery.attempts, delivery.attempt_limit)
        )
        delivery.next_attempt_at = None
        if delivery.status == PENDING:
            delay = delivering.policies[delivery.channel].delay_after(delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
    _announce(uow, delivery)


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
    return delivery


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
        return _detached(uow, fetch_page(uow.session, statement, page=page, per_page=per_page))


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
        return {**_fields(delivery), "attempt_log": [_fields(attempt) for attempt in attempts]}


def _detached(uow: UnitOfWork, result: Any) -> Any:
    """Detach what a read returns: leaving the unit of work rolls back and would expire it."""
    uow.session.expunge_all()
    return result


def _fields(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


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
        _detached(uow, None)
    return items, total, unread_count


def mark_read(uow: UnitOfWork, recipient: str, message_id: uuid.UUID, read: bool) -> Delivery:
    with uow:
        message = uow.session.scalars(
            _inbox(recipient).where(Delivery.id == message_id).with_for_update()
        ).first()
        if message is None:
            raise NotFound(f"No message {message_id} in the inbox of {recipient}.")
        if read and message.read_at is None:
            message.read_at = utcnow()
        elif not read:
            message.read_at = None
        uow.commit()
    return message


# --- subscriptions ------------------------------------------------------------------------


def subscribe(
    uow: UnitOfWork, name: str, url: str, patterns: list[str]
) -> tuple[Subscription, str]:
    """A new webhook subscription and its signing secret (returned only here)."""
    secret = secrets.token_urlsafe(32)
    subscription = Subscription(
        id=uuid.uuid4(),
        name=name,
        url=url,
        patterns=list(dict.fromkeys(patterns)),
        secret=secret,
        active=True,
        created_at=utcnow(),
    )
    with uow:
        uow.session.add(subscription)
        uow.commit()
    return subscription, secret


def subscription_page(
    uow: UnitOfWork, active: bool | None, page: int, per_page: int
) -> tuple[list[Subscription], int]:
    statement = select(Subscription).order_by(Subscription.created_at, Subscription.id)
    if active is not None:
        statement = statement.where(Subscription.active.is_(active))
    with uow:
        return _detached(uow, fetch_page(uow.session, statement, page=page, per_page=per_page))


def get_subscription(uow: UnitOfWork, subscription_id: uuid.UUID) -> Subscription:
    with uow:
        subscription = _detached(uow, uow.session.get(Subscription, subscription_id))
    if subscription is None:
        raise NotFound(f"No subscription {subscription_id}.")
    return subscription


def cancel_subscription(uow: UnitOfWork, subscription_id: uuid.UUID) -> None:
    """Stop sending; pending deliveries to it are parked at their next attempt."""
    with uow:
        cancelled = uow.session.execute(
            update(Subscription).where(Subscription.id == subscription_id).values(active=False)
        )
        if cancelled.rowcount == 0:
            raise NotFound(f"No subscription {subscription_id}.")
        uow.commit()


# --- officials: unit operators and BKPSDM administrators ---------------------------------


def add_official(uow: UnitOfWork, official: dict[str, Any]) -> Official:
    if official["role"] == UNIT_OPERATOR and not official.get("unit_code"):
        raise ValidationError({"unit_code": ["A unit operator needs the unit they serve."]})
    row = Official(id=uuid.uuid4(), active=True, created_at=utcnow(), **official)
    with uow:
        uow.session.add(row)
        uow.commit()
    return row


def official_page(
    uow: UnitOfWork, filters: dict[str, Any], page: int, per_page: int
) -> tuple[list[Official], int]:
    statement = select(Official).where(Official.active.is_(True))
    for name in ("role", "unit_code"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(Official, name) == filters[name])
    statement = statement.order_by(Official.created_at, Official.id)
    with uow:
        return _detached(uow, fetch_page(uow.session, statement, page=page, per_page=per_page))


def remove_official(uow: UnitOfWork, official_id: uuid.UUID) -> None:
    with uow:
        removed = uow.session.execute(
            update(Official).where(Official.id == official_id).values(active=False)
        )
        if removed.rowcount == 0:
            raise NotFound(f"No official {official_id}.")
        uow.commit()


# --- rules and templates ------------------------------------------------------------------


def list_rules(uow: UnitOfWork) -> list[Rule]:
    with uow:
        rules = uow.session.scalars(select(Rule).order_by(Rule.event_type, Rule.audience))
        return _detached(uow, list(rules))


def add_rule(uow: UnitOfWork, rule: dict[str, Any]) -> Rule:
    if rule["event_type"] not in NOTIFIED_EVENTS:
        raise ValidationError({"event_type": [f"Must be one of: {', '.join(NOTIFIED_EVENTS)}."]})
    with uow:
        if uow.session.get(Template, (rule["template"], DEFAULT_LANGUAGE)) is None:
            raise ValidationError(
                {"template": [f"No template {rule['template']!r} in Bahasa Indonesia."]}
            )
        row = uow.session.scalar(
            pg_insert(Rule)
            .values(**rule, active=True)
            .on_conflict_do_nothing(constraint="rules_event_audience")
            .returning(Rule)
        )
        if row is None:
            raise Conflict(
                f"A rule for {rule['event_type']} and {rule['audience']} exists; change it."
            )
        uow.commit()
    return row


def change_rule(uow: UnitOfWork, rule_id: int, changes: dict[str, Any]) -> Rule:
    with uow:
        rule = uow.session.get(Rule, rule_id, with_for_update=True)
        if rule is None:
            raise NotFound(f"No rule {rule_id}.")
        for name, value in changes.items():
            setattr(rule, name, value)
        uow.commit()
    return rule


def list_templates(uow: UnitOfWork) -> list[Template]:
    with uow:
        templates = uow.session.scalars(select(Template).order_by(Template.key, Template.language))
        return _detached(uow, list(templates))


def put_template(uow: UnitOfWork, key: str, language: str, subject: str, body: str) -> Template:
    """Create or replace a template; one that does not compile is refused, naming the field."""
    if language not in LANGUAGES:
        raise NotFound(f"No language {language!r}; templates are in: {', '.join(LANGUAGES)}.")
    errors = {}
    for name, source in (("subject", subject), ("body", body)):
        try:
            rendering.check(source, language)
        except rendering.TemplateError as exc:
            errors[name] = [f"Not a valid template: {exc}"]
    if errors:
        raise ValidationError(errors)
    with uow:
        statement = pg_insert(Template).values(
            key=key, language=language, subject=subject, body=body
        )
        row = uow.session.scalar(
            statement.on_conflict_do_update(
                index_elements=[Template.key, Template.language],
                set_={"subject": subject, "body": body, "updated_at": func.now()},
            ).returning(Template)
        )
        uow.commit()
    return row
