"""What notification's use cases read and write, behind three narrow interfaces.

:class:`PlanningRepository` serves :func:`.use_cases.planning.notify` (who hears of an event,
over which channel, in which words), :class:`SetupRepository` the rules, templates,
subscriptions and officials, :class:`DispatchRepository` the claims, outcomes and the delivery
log. Each use case reaches its rows through ``uow.repository(sql)``: in production the SQL
below, over the unit of work's session; in the unit tests an in-memory fake with the same
methods.

Longer than most modules: each interface sits beside its SQL implementation, so that a
method's contract and its statements are read together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import Select, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.event import listen
from sqlalchemy.orm import Session

from asn_shared.persistence import fetch_page

from .domain import DELIVERED, INBOX, PENDING
from .models import Delivery, DeliveryAttempt, Employee, Official, Rule, Subscription, Template
from .use_cases import recipients
from .use_cases import setup as setups  # a module: setup's use cases read through this one

DELIVERIES, DELIVERY_ATTEMPTS = Delivery.__table__, DeliveryAttempt.__table__


def detached(session: Session, result: Any) -> Any:
    """``result``, read for the API, detached from ``session``: leaving the unit of work
    rolls back, which would expire it."""
    session.expunge_all()
    return result


@dataclass(frozen=True)
class Failure:
    """A failed attempt as a delivery records it: its status after it, the attempts so far,
    when to try again (``None``: parked) and the error."""

    status: str
    attempts: int
    next_attempt_at: datetime | None
    error: str

    def columns(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.error,
        }


class PlanningRepository(Protocol):
    def upsert_employee(self, employee: dict[str, Any]) -> None:
        """Keep the highest version of the employee seen."""
        ...

    def setup(self, cache: setups.SetupCache | None) -> setups.Setup:
        """The rules, templates, subscriptions and officials (from ``cache`` when given)."""
        ...

    def employee(self, nip: str) -> Any:
        """The employee as this service knows them (nip, name, email, language, unit_code,
        unit_name, supervisor_nip), or None."""
        ...

    def store_employees(self, employees: Iterable[dict[str, Any]]) -> None:
        """:meth:`upsert_employee` for many, with one statement (then :meth:`read_employees`
        reads them)."""
        ...

    def read_employees(self, nips: Iterable[str]) -> None:
        """Read the employees ``nips`` and their supervisors with one statement, for
        :meth:`employee` to answer for the rest of the transaction."""
        ...

    def a_unit_name(self, unit_code: str) -> str | None:
        """The unit's name as any of its known employees carries it."""
        ...

    def stored_employee(self, nip: str) -> Employee | None:
        """The employee's stored row, detached (for the API), or None."""
        ...

    def add_deliveries(self, rows: list[dict[str, Any]]) -> list[Any]:
        """Insert the deliveries an event does not have yet (at most one per recipient and
        channel), each inbox delivery with its first attempt, which succeeded at its
        ``delivered_at``; returns the inserted ones (``id``, ``recipient``, ``channel``)."""
        ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the transaction has committed."""
        ...


_PLANNED_COLUMNS = {
    "id": "uuid",
    "event_id": "text",
    "event_type": "text",
    "correlation_id": "text",
    "channel": "text",
    "recipient": "text",
    "address": "text",
    "subject": "text",
    "body": "text",
    "status": "text",
    "attempts": "integer",
    "attempt_limit": "integer",
    "next_attempt_at": "timestamptz",
    "delivered_at": "timestamptz",
}
_ARRAYS = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _PLANNED_COLUMNS.items())
_PLAN_ONCE = text(
    f"""
    WITH planned AS (
        INSERT INTO deliveries ({", ".join(_PLANNED_COLUMNS)})
        SELECT * FROM unnest({_ARRAYS})
        ON CONFLICT ON CONSTRAINT deliveries_once DO NOTHING
        RETURNING id, recipient, channel, delivered_at
    ), first_attempts AS (
        INSERT INTO delivery_attempts (delivery_id, number, attempted_at, succeeded, duration_ms)
        SELECT id, 1, delivered_at, true, 0 FROM planned WHERE channel = '{INBOX}'
    )
    SELECT CAST(id AS text) AS id, recipient, channel FROM planned
    """
)
"""One statement and one round trip for an event's deliveries and its inbox messages'
attempts (columns as arrays: compiled once, whatever the number of rows)."""


class SqlPlanningRepository:
    """The repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_employee(self, employee: dict[str, Any]) -> None:
        recipients.upsert_employee(self.session, employee)

    def setup(self, cache: setups.SetupCache | None) -> setups.Setup:
        return cache.get(self.session) if cache else setups.read_setup(self.session)

    def employee(self, nip: str) -> Any:
        return recipients.known(self.session, nip)

    def store_employees(self, employees: Iterable[dict[str, Any]]) -> None:
        recipients.store_employees(self.session, employees)

    def read_employees(self, nips: Iterable[str]) -> None:
        recipients.read_known(self.session, nips)

    def a_unit_name(self, unit_code: str) -> str | None:
        return self.session.scalar(
            select(Employee.unit_name).where(Employee.unit_code == unit_code).limit(1)
        )

    def stored_employee(self, nip: str) -> Employee | None:
        return detached(self.session, self.session.get(Employee, nip))

    def add_deliveries(self, rows: list[dict[str, Any]]) -> list[Any]:
        columns = {name: [row[name] for row in rows] for name in _PLANNED_COLUMNS}
        columns["id"] = [str(delivery_id) for delivery_id in columns["id"]]
        inserted = self.session.execute(_PLAN_ONCE, columns)
        return [SimpleNamespace(**{**row._asdict(), "id": uuid.UUID(row.id)}) for row in inserted]

    def after_commit(self, callback: Callable[[], None]) -> None:
        listen(self.session, "after_commit", lambda _session: callback(), once=True)


def sql(session: Session) -> PlanningRepository:
    """What ``uow.repository(sql)`` builds in production."""
    return SqlPlanningRepository(session)


# --- the setup: what administrators change through the API --------------------------------


class SetupRepository(Protocol):
    """Rules, templates, webhook subscriptions and officials. Reads answer detached rows:
    still readable once the unit of work has ended."""

    def add(self, row: Subscription | Official) -> None: ...

    def deactivate(self, model: type[Subscription | Official], row_id: uuid.UUID) -> bool:
        """Mark the row inactive; False if there is none."""
        ...

    def subscription(self, subscription_id: uuid.UUID) -> Subscription | None: ...

    def subscription_page(
        self, query: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Subscription], int]:
        """Subscriptions in the order they were made (``active``, ``agency`` filters)."""
        ...

    def locked_official(self, official_id: uuid.UUID) -> Official | None: ...

    def official_page(
        self, filters: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Official], int]:
        """Active officials in the order they were added (``role``, ``unit_code`` filters)."""
        ...

    def rules(self) -> list[Rule]:
        """Every rule, by event type and audience."""
        ...

    def locked_rule(self, rule_id: int) -> Rule | None: ...

    def add_rule(self, rule: dict[str, Any]) -> Rule | None:
        """Store an active rule; None if its event type and audience have one."""
        ...

    def has_template(self, key: str, language: str) -> bool: ...

    def templates(self) -> list[Template]:
        """Every template, by key and language."""
        ...

    def put_template(self, key: str, language: str, subject: str, body: str) -> Template:
        """Create the template or replace its subject and body."""
        ...


class SqlSetupRepository:
    """The setup's repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Subscription | Official) -> None:
        self.session.add(row)

    def deactivate(self, model: type[Subscription | Official], row_id: uuid.UUID) -> bool:
        deactivated = self.session.execute(
            update(model).where(model.id == row_id).values(active=False)
        )
        return bool(deactivated.rowcount)

    def subscription(self, subscription_id: uuid.UUID) -> Subscription | None:
        return detached(self.session, self.session.get(Subscription, subscription_id))

    def subscription_page(
        self, query: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Subscription], int]:
        statement = select(Subscription).order_by(Subscription.created_at, Subscription.id)
        if query.get("active") is not None:
            statement = statement.where(Subscription.active.is_(query["active"]))
        if query.get("agency"):
            statement = statement.where(Subscription.agency == query["agency"])
        return self._page(statement, page, per_page)

    def locked_official(self, official_id: uuid.UUID) -> Official | None:
        return self.session.get(Official, official_id, with_for_update=True)

    def official_page(
        self, filters: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Official], int]:
        statement = select(Official).where(Official.active.is_(True))
        for name in ("role", "unit_code"):
            if filters.get(name) is not None:
                statement = statement.where(getattr(Official, name) == filters[name])
        statement = statement.order_by(Official.created_at, Official.id)
        return self._page(statement, page, per_page)

    def _page(self, statement: Select[Any], page: int, per_page: int) -> tuple[list[Any], int]:
        return detached(
            self.session, fetch_page(self.session, statement, page=page, per_page=per_page)
        )

    def rules(self) -> list[Rule]:
        rules = self.session.scalars(select(Rule).order_by(Rule.event_type, Rule.audience))
        return detached(self.session, list(rules))

    def locked_rule(self, rule_id: int) -> Rule | None:
        return self.session.get(Rule, rule_id, with_for_update=True)

    def add_rule(self, rule: dict[str, Any]) -> Rule | None:
        return self.session.scalar(
            pg_insert(Rule)
            .values(**rule, active=True)
            .on_conflict_do_nothing(constraint="rules_event_audience")
            .returning(Rule)
        )

    def has_template(self, key: str, language: str) -> bool:
        return self.session.get(Template, (key, language)) is not None

    def templates(self) -> list[Template]:
        templates = self.session.scalars(select(Template).order_by(Template.key, Template.language))
        return detached(self.session, list(templates))

    def put_template(self, key: str, language: str, subject: str, body: str) -> Template:
        statement = pg_insert(Template).values(
            key=key, language=language, subject=subject, body=body
        )
        row: Template = self.session.scalar(
            statement.on_conflict_do_update(
                index_elements=[Template.key, Template.language],
                set_={"subject": subject, "body": body, "updated_at": func.now()},
            ).returning(Template)
        )
        return row


def setup_sql(session: Session) -> SetupRepository:
    """What ``uow.repository(setup_sql)`` builds in production."""
    return SqlSetupRepository(session)


# --- dispatching: claims, leases and the outcomes of attempts -------------------------------


class DispatchRepository(Protocol):
    """What a dispatch round reads and writes: it claims due deliveries under a token and a
    lease, and records outcomes only for the deliveries its claim still holds."""

    def claim_due(self, token: uuid.UUID, now: datetime, limit: int, lease: float) -> list[Any]:
        """Lease up to ``limit`` pending deliveries due by ``now`` (none leased to another
        claim) to ``token``, earliest due first; the rows claimed (see ``DISPATCHED``)."""
        ...

    def recipient_names(self, keys: Iterable[str]) -> dict[str, str]:
        """The names of e-mail recipients, employees (by NIP) or officials (by id)."""
        ...

    def webhook_targets(self, keys: Iterable[str]) -> dict[str, Any]:
        """The webhook subscriptions the deliveries go to (url, secret, active), by id."""
        ...

    def renew_lease(self, token: uuid.UUID, lease: float) -> None: ...

    def record_delivered(
        self, token: uuid.UUID, delivery_ids: list[uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        """Mark the deliveries ``token`` still holds delivered and release them; their ids."""
        ...

    def record_failed(
        self, token: uuid.UUID, delivery_id: uuid.UUID, failure: Failure
    ) -> set[uuid.UUID]:
        """Record a failed attempt on the delivery if ``token`` still holds it, and release
        it; its id, or nothing."""
        ...

    def add_attempts(self, rows: list[dict[str, Any]]) -> None: ...

    def locked_delivery(self, delivery_id: uuid.UUID) -> Delivery | None: ...

    # --- the delivery log and the inbox (:mod:`.use_cases.deliveries`) ----------------------

    def delivery_page(
        self, filters: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Delivery], int]:
        """Deliveries, newest first (``status``, ``channel``, ``event_type``, ``event_id``,
        ``recipient`` filters), detached."""
        ...

    def delivery(self, delivery_id: uuid.UUID) -> Delivery | None: ...

    def attempts_of(self, delivery_id: uuid.UUID) -> list[DeliveryAttempt]:
        """The delivery's attempts, in order."""
        ...

    def inbox_page(
        self, recipient: str, unread: bool | None, page: int, per_page: int
    ) -> tuple[list[Delivery], int, int]:
        """A recipient's messages, newest first (``unread``: only those unread, or read),
        detached; the total, and how many are unread in all."""
        ...

    def inbox_message(self, recipient: str, message_id: uuid.UUID) -> Delivery | None:
        """The message of the recipient's inbox, locked."""
        ...


DISPATCHED = (
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
"""The columns a claimed delivery is read with."""

_RELEASED = {"claim": None, "leased_until": None}


class SqlDispatchRepository:
    """The dispatcher's repository over a unit of work's session (PostgreSQL)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim_due(self, token: uuid.UUID, now: datetime, limit: int, lease: float) -> list[Any]:
        due = (
            select(DELIVERIES.c.id)
            .where(
                DELIVERIES.c.status == PENDING,
                DELIVERIES.c.next_attempt_at <= now,
                or_(DELIVERIES.c.leased_until.is_(None), DELIVERIES.c.leased_until <= func.now()),
            )
            .order_by(DELIVERIES.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = self.session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id.in_(due.scalar_subquery()))
            .values(claim=token, leased_until=func.now() + timedelta(seconds=lease))
            .returning(*[DELIVERIES.c[name] for name in DISPATCHED])
        ).all()
        claimed.sort(key=lambda delivery: delivery.next_attempt_at)
        return list(claimed)

    def recipient_names(self, keys: Iterable[str]) -> dict[str, str]:
        wanted = set(keys)
        if not wanted:
            return {}
        names = dict(
            self.session.execute(
                select(Employee.nip, Employee.name).where(Employee.nip.in_(wanted))
            ).all()
        )
        officials = _uuids(wanted - set(names))
        if officials:
            found = self.session.execute(
                select(Official.id, Official.name).where(Official.id.in_(officials))
            )
            names.update({str(official_id): name for official_id, name in found})
        return names

    def webhook_targets(self, keys: Iterable[str]) -> dict[str, Any]:
        ids = _uuids(set(keys))  # a key that is no id: no such subscription, the delivery parks
        if not ids:
            return {}
        rows = self.session.execute(
            select(
                Subscription.id, Subscription.url, Subscription.secret, Subscription.active
            ).where(Subscription.id.in_(ids))
        )
        return {str(row.id): row for row in rows}

    def renew_lease(self, token: uuid.UUID, lease: float) -> None:
        self.session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.claim == token)
            .values(leased_until=func.now() + timedelta(seconds=lease))
        )

    def record_delivered(
        self, token: uuid.UUID, delivery_ids: list[uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        return set(
            self.session.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id.in_(delivery_ids), DELIVERIES.c.claim == token)
                .values(
                    status=DELIVERED,
                    attempts=DELIVERIES.c.attempts + 1,
                    delivered_at=now,
                    next_attempt_at=None,
                    last_error=None,
                    **_RELEASED,
                )
                .returning(DELIVERIES.c.id)
            ).scalars()
        )

    def record_failed(
        self, token: uuid.UUID, delivery_id: uuid.UUID, failure: Failure
    ) -> set[uuid.UUID]:
        return set(
            self.session.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == delivery_id, DELIVERIES.c.claim == token)
                .values(**failure.columns(), **_RELEASED)
                .returning(DELIVERIES.c.id)
            ).scalars()
        )

    def add_attempts(self, rows: list[dict[str, Any]]) -> None:
        self.session.execute(DELIVERY_ATTEMPTS.insert(), rows)

    def locked_delivery(self, delivery_id: uuid.UUID) -> Delivery | None:
        return self.session.get(Delivery, delivery_id, with_for_update=True)

    def delivery_page(
        self, filters: dict[str, Any], page: int, per_page: int
    ) -> tuple[list[Delivery], int]:
        statement: Select[Any] = select(Delivery)
        for name in ("status", "channel", "event_type", "event_id", "recipient"):
            if filters.get(name) is not None:
                statement = statement.where(getattr(Delivery, name) == filters[name])
        statement = statement.order_by(Delivery.created_at.desc(), Delivery.id)
        return detached(
            self.session, fetch_page(self.session, statement, page=page, per_page=per_page)
        )

    def delivery(self, delivery_id: uuid.UUID) -> Delivery | None:
        return self.session.get(Delivery, delivery_id)

    def attempts_of(self, delivery_id: uuid.UUID) -> list[DeliveryAttempt]:
        return list(
            self.session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.number)
            ).all()
        )

    def inbox_page(
        self, recipient: str, unread: bool | None, page: int, per_page: int
    ) -> tuple[list[Delivery], int, int]:
        statement = _inbox(recipient)
        if unread is not None:
            read_filter = Delivery.read_at.is_(None) if unread else Delivery.read_at.is_not(None)
            statement = statement.where(read_filter)
        statement = statement.order_by(Delivery.created_at.desc(), Delivery.id)
        items, total = fetch_page(self.session, statement, page=page, per_page=per_page)
        unread_count = self.session.scalar(
            select(func.count()).select_from(
                _inbox(recipient).where(Delivery.read_at.is_(None)).subquery()
            )
        )
        return detached(self.session, (items, total, unread_count or 0))

    def inbox_message(self, recipient: str, message_id: uuid.UUID) -> Delivery | None:
        return self.session.scalars(
            _inbox(recipient).where(Delivery.id == message_id).with_for_update()
        ).first()


def _inbox(recipient: str) -> Select[Any]:
    return select(Delivery).where(Delivery.channel == INBOX, Delivery.recipient == recipient)


def _uuids(keys: Iterable[str]) -> list[uuid.UUID]:
    found = []
    for key in keys:
        try:
            found.append(uuid.UUID(key))
        except ValueError:
            pass
    return found


def dispatch_sql(session: Session) -> DispatchRepository:
    """What ``uow.repository(dispatch_sql)`` builds in production."""
    return SqlDispatchRepository(session)
