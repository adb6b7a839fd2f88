"""The notification service's use cases: each takes a unit of work and plain arguments."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.event import listen
from sqlalchemy.orm import Session

from asn_shared.errors import Conflict, Invalid, NotFound
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork, fetch_page

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
    OFFICIAL_ROLES,
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
from .targets import TargetPolicy, TargetRefused

DELIVERIES, DELIVERY_ATTEMPTS = Delivery.__table__, DeliveryAttempt.__table__
EMPLOYEES = Employee.__table__


class RecipientUnknown(LookupError):
    """An audience names an employee this service has not heard of yet.

    Raised inside an event handler, so the event is retried with back-off (the
    employee.registered event may simply not have arrived yet) and parked if it never does.
    """


@dataclass(frozen=True)
class Delivering:
    """What planning and dispatching need: the senders, each channel's retry policy, the
    setup (read anew for every event without a cache) and how to wake the dispatcher."""

    email: SmtpSender | SmtpConnection  # a connection: several e-mails over one
    webhook: WebhookSender
    policies: dict[str, RetryPolicy]
    setup: SetupCache | None = None
    wake: Callable[[], None] | None = None  # called once an e-mail or webhook is committed

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


_RECIPIENT = ("nip", "name", "email", "language", "unit_code", "unit_name", "supervisor_nip")
_EMPLOYEE = select(*[EMPLOYEES.c[name] for name in _RECIPIENT]).where(
    EMPLOYEES.c.nip == bindparam("nip")
)


def _known(session: Session, nip: str) -> Any:
    """The employee as this service knows them (a row, or None), read once per transaction."""
    known = session.info.setdefault("employees", {})
    if nip not in known:
        known[nip] = session.execute(_EMPLOYEE, {"nip": nip}).first()
    return known[nip]


def _employee(session: Session, nip: str, role: str) -> Any:
    employee = _known(session, nip)
    if employee is None:
        raise RecipientUnknown(f"{role} {nip} is not known yet (no employee.registered seen)")
    return employee


def _as_recipient(person: Any) -> Recipient:
    """An official, or an employee (a row or an entity)."""
    key = str(person.id) if isinstance(person, Official) else person.nip
    return Recipient(key, person.name, person.email, language_of(person.language))


def audience(
    session: Session, kind: str, facts: EventFacts, setup: Setup | None = None
) -> list[Recipient]:
    """Who ``kind`` is for an event with these facts (officials from ``setup`` when given)."""
    if kind in (EMPLOYEE, SUPERVISOR):
        if facts.employee_nip is None:
            return []
        employee = _employee(session, facts.employee_nip, "employee")
        if kind == EMPLOYEE:
            return [_as_recipient(employee)]
        if employee.supervisor_nip is None:
            return []
        return [_as_recipient(_employee(session, employee.supervisor_nip, "supervisor"))]
    if kind not in OFFICIAL_ROLES or (kind == UNIT_OPERATOR and facts.unit_code is None):
        return []
    officials = (setup or read_setup(session)).officials
    return [
        who
        for role, unit_code, who in officials
        if role == kind and (kind == BKPSDM_ADMIN or unit_code == facts.unit_code)
    ]


def _unit_name(session: Session, facts: EventFacts, data: dict[str, Any]) -> str:
    """The unit's name: from the event itself, else from the employee it concerns, else from
    any employee of the unit."""
    if facts.unit_code is None:
        return "-"
    employee = data.get("employee")
    unit = employee.get("unit") if isinstance(employee, dict) else None
    if isinstance(unit, dict) and unit.get("code") == facts.unit_code and unit.get("name"):
        return unit["name"]
    if facts.employee_nip is not None:
        known = _known(session, facts.employee_nip)  # the audience needs it anyway
        if known is not None and known.unit_code == facts.unit_code:
            return known.unit_name
    name = session.scalar(
        select(Employee.unit_name).where(Employee.unit_code == facts.unit_code).limit(1)
    )
    return name or facts.unit_code


# --- the setup: rules, templates, subscriptions and officials -----------------------------


@dataclass(frozen=True)
class RuleSetting:
    audience: str
    channels: tuple[str, ...]
    template: str


@dataclass(frozen=True)
class Subscriber:
    id: uuid.UUID
    url: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Setup:
    """Who hears of which event and how the message reads, as committed at one moment."""

    rules: dict[str, list[RuleSetting]]  # active rules by event type, in rule order
    templates: dict[tuple[str, str], tuple[str, str]]  # (key, language) -> (subject, body)
    subscribers: list[Subscriber]  # active subscriptions
    officials: list[tuple[str, str | None, Recipient]]  # active: role, unit code, recipient


def read_setup(session: Session) -> Setup:
    rules: dict[str, list[RuleSetting]] = {}
    active_rules = select(Rule.event_type, Rule.audience, Rule.channels, Rule.template).where(
        Rule.active.is_(True)
    )
    for rule in session.execute(active_rules.order_by(Rule.id)):
        setting = RuleSetting(rule.audience, tuple(rule.channels), rule.template)
        rules.setdefault(rule.event_type, []).append(setting)
    templates = session.execute(
        select(Template.key, Template.language, Template.subject, Template.body)
    )
    subscriptions = session.execute(
        select(Subscription.id, Subscription.url, Subscription.patterns)
        .where(Subscription.active.is_(True))
        .order_by(Subscription.id)
    )
    officials = session.scalars(
        select(Official).where(Official.active.is_(True)).order_by(Official.id)
    )
    return Setup(
        rules=rules,
        templates={(t.key, t.language): (t.subject, t.body) for t in templates},
        subscribers=[Subscriber(s.id, s.url, tuple(s.patterns)) for s in subscriptions],
        officials=[(o.role, o.unit_code, _as_recipient(o)) for o in officials],
    )


_setup_changes = 0  # changes made through this process's API


def setup_changed() -> None:
    """A rule, template, subscription or official changed: cached setups are read anew."""
    global _setup_changes
    _setup_changes += 1


class SetupCache:
    """The setup read once and reused, so that planning an event needs no query for it.

    A change made through this process's API is seen at once; one made through another
    replica, or straight in the database, within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._setup: Setup | None = None
        self._changes = -1
        self._expires = 0.0

    def get(self, session: Session) -> Setup:
        if (
            self._setup is None
            or self._changes != _setup_changes
            or time.monotonic() >= self._expires
        ):
            changes = _setup_changes
            self._setup = read_setup(session)
            self._changes, self._expires = changes, time.monotonic() + self.ttl
        return self._setup


# --- planning: who hears of an event, over which channel ---------------------------------


@dataclass(frozen=True)
class _Planned:
    channel: str
    recipient: str
    address: str
    subject: str | None
    body: str


def notify(uow: UnitOfWork, event: Event, delivering: Delivering) -> list[uuid.UUID]:
    """Plan every delivery of ``event``: one per (recipient, channel), never two.

    Messages are rendered now, from the event and the recipients as known now; inbox
    messages are delivered at once; e-mail and webhooks wait for the dispatcher.
    """
    session = uow.session
    if isinstance(event.data.get("employee"), dict):  # the event carries the employee too
        upsert_employee(session, event.data["employee"])
    setup = delivering.setup.get(session) if delivering.setup else read_setup(session)
    planned = _tell_people(session, event, setup) if concerns_people(event.name, event.data) else []
    return _plan(uow, event, planned + _forward_to_agencies(event, setup), delivering)


def _tell_people(session: Session, event: Event, setup: Setup) -> list[_Planned]:
    """Each active rule's audience, over each of the rule's channels they can be reached by."""
    rules = setup.rules.get(event.name)
    if not rules:
        return []
    facts = facts_of(event.name, event.data)
    context = {
        "data": event.data,
        "event": {"id": event.id, "type": event.name, "time": event.time},
        "unit_name": _unit_name(session, facts, event.data),
    }
    planned = []
    for rule in rules:
        for recipient in audience(session, rule.audience, facts, setup):
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


def _plan(
    uow: UnitOfWork, event: Event, planned: list[_Planned], delivering: Delivering
) -> list[uuid.UUID]:
    """Insert, in one statement, the deliveries this event does not have yet (at most one per
    recipient and channel); inbox messages are delivered by this very transaction."""
    once: dict[tuple[str, str], _Planned] = {}
    for p in planned:
        once.setdefault((p.recipient, p.channel), p)
    if not once:
        return []
    wanted = list(once.values())
    now = utcnow()
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
        for p in wanted
    ]
    inserted = uow.session.execute(_PLAN_ONCE, rows).all()  # one statement for all rows
    ids = {(row.recipient, row.channel): row.id for row in inserted}
    inbox = [row for row in rows if row["channel"] == INBOX and (row["recipient"], INBOX) in ids]
    if inbox:  # written to the recipients' inboxes: delivered now, and announced
        uow.session.execute(
            DELIVERY_ATTEMPTS.insert(),
            [_attempt_row(row["id"], 1, now, None, 0) for row in inbox],
        )
        uow.publish_many(
            "notification.delivered",
            [(str(row["id"]), _announcement(row, attempts=1)) for row in inbox],
        )
    if delivering.wake is not None and any(channel != INBOX for _, channel in ids):
        listen(uow.session, "after_commit", lambda _session: delivering.wake(), once=True)
    return [ids[p.recipient, p.channel] for p in wanted if (p.recipient, p.channel) in ids]


_PLAN_ONCE = (
    pg_insert(DELIVERIES)
    .on_conflict_do_nothing(constraint="deliveries_once")
    .returning(DELIVERIES.c.id, DELIVERIES.c.recipient, DELIVERIES.c.channel)
)


def _attempt_row(
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


def _announcement(delivery: Any, *, attempts: int) -> dict[str, Any]:
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
            _attempt_row(
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
        data = _announcement(o.delivery, attempts=o.number)
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
    uow: UnitOfWork,
    targets: TargetPolicy,
    name: str,
    url: str,
    patterns: list[str],
    agency: str | None = None,
) -> tuple[Subscription, str]:
    """A new webhook subscription and its signing secret (returned only here); a URL the
    target policy refuses is an invalid ``url``."""
    try:
        targets.check_url(url)
    except TargetRefused as exc:
        raise Invalid({"url": [exc.message]}) from None
    secret = secrets.token_urlsafe(32)
    subscription = Subscription(
        id=uuid.uuid4(),
        agency=agency,
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
    setup_changed()
    return subscription, secret


def subscription_page(
    uow: UnitOfWork, query: dict[str, Any], page: int, per_page: int
) -> tuple[list[Subscription], int]:
    statement = select(Subscription).order_by(Subscription.created_at, Subscription.id)
    if query.get("active") is not None:
        statement = statement.where(Subscription.active.is_(query["active"]))
    if query.get("agency"):
        statement = statement.where(Subscription.agency == query["agency"])
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
    setup_changed()


# --- officials: unit operators and BKPSDM administrators ---------------------------------


def add_official(uow: UnitOfWork, official: dict[str, Any]) -> Official:
    if official["role"] == UNIT_OPERATOR and not official.get("unit_code"):
        raise Invalid({"unit_code": ["A unit operator needs the unit they serve."]})
    row = Official(id=uuid.uuid4(), active=True, created_at=utcnow(), **official)
    with uow:
        uow.session.add(row)
        uow.commit()
    setup_changed()
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
    setup_changed()


# --- rules and templates ------------------------------------------------------------------


def list_rules(uow: UnitOfWork) -> list[Rule]:
    with uow:
        rules = uow.session.scalars(select(Rule).order_by(Rule.event_type, Rule.audience))
        return _detached(uow, list(rules))


def add_rule(uow: UnitOfWork, rule: dict[str, Any]) -> Rule:
    if rule["event_type"] not in NOTIFIED_EVENTS:
        raise Invalid({"event_type": [f"Must be one of: {', '.join(NOTIFIED_EVENTS)}."]})
    with uow:
        if uow.session.get(Template, (rule["template"], DEFAULT_LANGUAGE)) is None:
            raise Invalid({"template": [f"No template {rule['template']!r} in Bahasa Indonesia."]})
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
    setup_changed()
    return row


def change_rule(uow: UnitOfWork, rule_id: int, changes: dict[str, Any]) -> Rule:
    with uow:
        rule = uow.session.get(Rule, rule_id, with_for_update=True)
        if rule is None:
            raise NotFound(f"No rule {rule_id}.")
        for name, value in changes.items():
            setattr(rule, name, value)
        uow.commit()
    setup_changed()
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
        raise Invalid(errors)
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
    setup_changed()
    return row
