"""Planning an event's deliveries without broker or database: an in-memory repository
behind a fake unit of work, a setup written by the test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from asn_shared.clock import FixedClock
from asn_testkit.fakes import MIDSUMMER, FakeUnitOfWork, keep_newest
from notification.channels import SmtpSender, WebhookSender
from notification.domain import INBOX, PENDING, RetryPolicy, language_of
from notification.models import Delivery, DeliveryAttempt, Official, Rule, Subscription, Template
from notification.repository import DISPATCHED, Failure
from notification.use_cases import common
from notification.use_cases.planning import attempt_row
from notification.use_cases.setup import RuleSetting, Setup, SetupCache, Subscriber


class FakePlanningRepository:
    """``notification.repository.PlanningRepository`` over dicts and lists."""

    def __init__(self) -> None:
        self.employees: dict[str, SimpleNamespace] = {}
        self.the_setup = Setup(rules={}, templates={}, subscribers=[], officials=[])
        self.deliveries: list[dict[str, Any]] = []
        self.attempts: list[dict[str, Any]] = []
        self.on_commit: list[Callable[[], None]] = []

    def upsert_employee(self, employee: dict[str, Any]) -> None:
        row = SimpleNamespace(
            nip=employee["nip"],
            name=employee["name"],
            email=employee.get("email"),
            language=language_of(employee.get("language")),
            unit_code=employee["unit"]["code"],
            unit_name=employee["unit"]["name"],
            supervisor_nip=employee.get("supervisor_nip"),
            version=employee["version"],
        )
        keep_newest(self.employees, employee["nip"], row)

    def setup(self, cache: SetupCache | None) -> Setup:
        return self.the_setup

    def employee(self, nip: str) -> Any:
        return self.employees.get(nip)

    def store_employees(self, employees: Iterable[dict[str, Any]]) -> None:
        for employee in employees:
            self.upsert_employee(employee)

    def read_employees(self, nips: Iterable[str]) -> None:
        pass

    def a_unit_name(self, unit_code: str) -> str | None:
        names = [e.unit_name for e in self.employees.values() if e.unit_code == unit_code]
        return names[0] if names else None

    def stored_employee(self, nip: str) -> Any:
        return self.employees.get(nip)

    def add_deliveries(self, rows: list[dict[str, Any]]) -> list[Any]:
        inserted = []
        for row in rows:
            key = (row["event_id"], row["recipient"], row["channel"])
            if any((d["event_id"], d["recipient"], d["channel"]) == key for d in self.deliveries):
                continue  # deliveries_once
            self.deliveries.append(row)
            inserted.append(SimpleNamespace(**row))
            if row["channel"] == INBOX:
                self.attempts.append(attempt_row(row["id"], 1, row["delivered_at"], None, 0))
        return inserted

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.on_commit.append(callback)

    # --- what a test sets up ----------------------------------------------------------------

    def rule(self, event_type: str, audience: str, channels: tuple[str, ...], template: str):
        self.the_setup.rules.setdefault(event_type, []).append(
            RuleSetting(audience, channels, template)
        )

    def template(self, key: str, language: str, subject: str, body: str) -> None:
        self.the_setup.templates[key, language] = (subject, body)

    def subscriber(self, url: str, *patterns: str) -> uuid.UUID:
        subscriber = Subscriber(uuid.uuid4(), url, patterns)
        self.the_setup.subscribers.append(subscriber)
        return subscriber.id

    def official(self, role: str, unit_code: str | None, recipient: Any) -> None:
        self.the_setup.officials.append((role, unit_code, recipient))


@pytest.fixture
def repo() -> FakePlanningRepository:
    return FakePlanningRepository()


@pytest.fixture
def uow(repo) -> FakeUnitOfWork:
    return FakeUnitOfWork("notification", repo)


@pytest.fixture
def delivering() -> common.Delivering:
    """Planning never sends: senders that are never reached, and a wake-up that is counted."""
    woken: list[int] = []
    return common.Delivering(
        email=SmtpSender("unused.test", 25, "unused@test"),
        webhook=WebhookSender(),
        policies={"email": RetryPolicy(5, 1, 10), "webhook": RetryPolicy(8, 1, 10)},
        wake=lambda: woken.append(1),
    )


class FakeSetupRepository:
    """``notification.repository.SetupRepository`` over dicts: rules, templates,
    subscriptions and officials as administrators keep them."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Subscription | Official] = {}
        self.the_rules: dict[int, Rule] = {}
        self.the_templates: dict[tuple[str, str], Template] = {}

    def add(self, row: Subscription | Official) -> None:
        self.rows[row.id] = row

    def deactivate(self, model: type[Subscription | Official], row_id: uuid.UUID) -> bool:
        row = self.rows.get(row_id)
        if not isinstance(row, model):
            return False
        row.active = False
        return True

    def subscription(self, subscription_id: uuid.UUID) -> Subscription | None:
        row = self.rows.get(subscription_id)
        return row if isinstance(row, Subscription) else None

    def subscription_page(
        self, query: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Subscription], int]:
        found = [
            row
            for row in self._of(Subscription)
            if query.get("active") in (None, row.active)
            and (not query.get("agency") or row.agency == query["agency"])
        ]
        return found[(page - 1) * per_page : page * per_page], len(found)

    def locked_official(self, official_id: uuid.UUID) -> Official | None:
        row = self.rows.get(official_id)
        return row if isinstance(row, Official) else None

    def official_page(
        self, filters: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Official], int]:
        found = [
            row
            for row in self._of(Official)
            if row.active
            and all(filters.get(n) in (None, getattr(row, n)) for n in ("role", "unit_code"))
        ]
        return found[(page - 1) * per_page : page * per_page], len(found)

    def _of(self, model: type) -> list[Any]:
        rows = [row for row in self.rows.values() if isinstance(row, model)]
        return sorted(rows, key=lambda row: (row.created_at, str(row.id)))

    def rules(self) -> list[Rule]:
        return sorted(self.the_rules.values(), key=lambda r: (r.event_type, r.audience))

    def locked_rule(self, rule_id: int) -> Rule | None:
        return self.the_rules.get(rule_id)

    def add_rule(self, rule: dict[str, Any]) -> Rule | None:
        if any(
            (r.event_type, r.audience) == (rule["event_type"], rule["audience"])
            for r in self.the_rules.values()
        ):
            return None  # rules_event_audience
        row = Rule(id=len(self.the_rules) + 1, active=True, **rule)
        self.the_rules[row.id] = row
        return row

    def has_template(self, key: str, language: str) -> bool:
        return (key, language) in self.the_templates

    def templates(self) -> list[Template]:
        return [self.the_templates[key] for key in sorted(self.the_templates)]

    def put_template(self, key: str, language: str, subject: str, body: str) -> Template:
        row = Template(key=key, language=language, subject=subject, body=body)
        self.the_templates[key, language] = row
        return row


@pytest.fixture
def setup_repo() -> FakeSetupRepository:
    return FakeSetupRepository()


@pytest.fixture
def setup_uow(setup_repo) -> FakeUnitOfWork:
    return FakeUnitOfWork("notification", setup_repo)


class Row(SimpleNamespace):
    """A row as SQLAlchemy answers one: attributes, and ``_mapping``."""

    @property
    def _mapping(self) -> dict[str, Any]:
        return vars(self)


class FakeDispatchRepository:
    """``notification.repository.DispatchRepository`` over a dict of deliveries."""

    def __init__(self) -> None:
        self.deliveries: dict[uuid.UUID, Delivery] = {}
        self.names: dict[str, str] = {}
        self.hooks: dict[str, Row] = {}
        self.attempts: list[dict[str, Any]] = []

    def claim_due(self, token: uuid.UUID, now: datetime, limit: int, lease: float) -> list[Any]:
        due = sorted(
            (
                d
                for d in self.deliveries.values()
                if d.status == PENDING
                and d.next_attempt_at <= now
                and (d.leased_until is None or d.leased_until <= now)
            ),
            key=lambda d: d.next_attempt_at,
        )[:limit]
        for delivery in due:
            delivery.claim, delivery.leased_until = token, now + timedelta(seconds=lease)
        return [Row(**{name: getattr(d, name) for name in DISPATCHED}) for d in due]

    def recipient_names(self, keys: Iterable[str]) -> dict[str, str]:
        return {key: self.names[key] for key in set(keys) if key in self.names}

    def webhook_targets(self, keys: Iterable[str]) -> dict[str, Any]:
        return {key: self.hooks[key] for key in set(keys) if key in self.hooks}

    def renew_lease(self, token: uuid.UUID, lease: float) -> None:
        raise AssertionError("a unit test's dispatch round outlived a third of its lease")

    def record_delivered(
        self, token: uuid.UUID, delivery_ids: list[uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        held = self._held(token, delivery_ids)
        for delivery in held:
            delivery.status, delivery.attempts = "delivered", delivery.attempts + 1
            delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = now, None, None
        return {d.id for d in held}

    def record_failed(
        self, token: uuid.UUID, delivery_id: uuid.UUID, failure: Failure
    ) -> set[uuid.UUID]:
        held = self._held(token, [delivery_id])
        for delivery in held:
            for column, value in failure.columns().items():
                setattr(delivery, column, value)
        return {d.id for d in held}

    def _held(self, token: uuid.UUID, ids: list[uuid.UUID]) -> list[Delivery]:
        held = [self.deliveries[i] for i in ids if self.deliveries[i].claim == token]
        for delivery in held:
            delivery.claim = delivery.leased_until = None
        return held

    def add_attempts(self, rows: list[dict[str, Any]]) -> None:
        self.attempts.extend(rows)

    def locked_delivery(self, delivery_id: uuid.UUID) -> Any:
        return self.deliveries.get(delivery_id)

    def delivery_page(
        self, filters: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Any], int]:
        names = ("status", "channel", "event_type", "event_id", "recipient")
        found = [
            d
            for d in self._newest_first()
            if all(filters.get(n) in (None, getattr(d, n)) for n in names)
        ]
        return found[(page - 1) * per_page : page * per_page], len(found)

    def delivery(self, delivery_id: uuid.UUID) -> Any:
        return self.deliveries.get(delivery_id)

    def attempts_of(self, delivery_id: uuid.UUID) -> list[DeliveryAttempt]:
        mine = [a for a in self.attempts if a["delivery_id"] == delivery_id]
        return [DeliveryAttempt(**a) for a in sorted(mine, key=lambda a: a["number"])]

    def inbox_page(
        self, recipient: str, unread: bool | None, page: int, per_page: int
    ) -> tuple[list[Any], int, int]:
        inbox = [
            d for d in self._newest_first() if (d.channel, d.recipient) == ("inbox", recipient)
        ]
        found = [d for d in inbox if unread is None or (d.read_at is None) == unread]
        unread_count = sum(d.read_at is None for d in inbox)
        return found[(page - 1) * per_page : page * per_page], len(found), unread_count

    def inbox_message(self, recipient: str, message_id: uuid.UUID) -> Any:
        message = self.deliveries.get(message_id)
        if message is None or (message.channel, message.recipient) != ("inbox", recipient):
            return None
        return message

    def _newest_first(self) -> list[Any]:
        return sorted(
            self.deliveries.values(), key=lambda d: (-d.created_at.timestamp(), str(d.id))
        )

    # --- what a test sets up ----------------------------------------------------------------

    def inboxed(self, recipient: str, created_at: datetime, read_at: datetime | None = None):
        """A message delivered to ``recipient``'s inbox at ``created_at``."""
        message = Delivery(
            id=uuid.uuid4(),
            event_id=str(uuid.uuid4()),
            event_type="proposal.approved",
            channel="inbox",
            recipient=recipient,
            address=recipient,
            subject="Usulan disetujui",
            body="Usulan Anda disetujui.",
            status="delivered",
            attempts=1,
            attempt_limit=1,
            created_at=created_at,
            delivered_at=created_at,
            read_at=read_at,
        )
        self.deliveries[message.id] = message
        return message

    def pending(
        self, channel: str, recipient: str, address: str, *, attempts: int = 0, limit: int = 3
    ) -> Delivery:
        """A delivery due now (the fixed clock's morning)."""
        delivery = Delivery(
            id=uuid.uuid4(),
            event_id=str(uuid.uuid4()),
            event_type="proposal.created",
            correlation_id=str(uuid.uuid4()),
            channel=channel,
            recipient=recipient,
            address=address,
            subject="Usulan pengembangan" if channel == "email" else None,
            body='{"id": "x"}' if channel == "webhook" else "Halo",
            status=PENDING,
            attempts=attempts,
            attempt_limit=limit,
            next_attempt_at=FixedClock(MIDSUMMER).now(),
            last_error=None,
            delivered_at=None,
            created_at=FixedClock(MIDSUMMER).now(),
            claim=None,
            leased_until=None,
        )
        self.deliveries[delivery.id] = delivery
        return delivery


class FakeSender:
    """A channel's sender that keeps what it is given and fails as the test says: each
    ``send`` takes the next of ``outcomes`` (None: sent), then always succeeds."""

    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[Any] = []

    def send(self, message: Any) -> None:
        self.sent.append(message)
        failure = self.outcomes.pop(0) if self.outcomes else None
        if failure is not None:
            raise failure


@pytest.fixture
def dispatch_repo() -> FakeDispatchRepository:
    return FakeDispatchRepository()


@pytest.fixture
def dispatch_uow(dispatch_repo) -> FakeUnitOfWork:
    return FakeUnitOfWork("notification", dispatch_repo, FixedClock(MIDSUMMER))
