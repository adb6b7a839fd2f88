"""The setup: rules, templates, webhook subscriptions and officials, what administrators
change through the API, and the cached view of it that planning reads for every event."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from asn_shared.errors import Conflict, Invalid, NotFound
from asn_shared.persistence import UnitOfWork

from .. import rendering, repository
from ..domain import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    NOTIFIED_EVENTS,
    UNIT_OPERATOR,
    Recipient,
)
from ..models import Official, Rule, Subscription, Template
from ..targets import TargetPolicy, TargetRefused
from .common import as_recipient

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
        officials=[(o.role, o.unit_code, as_recipient(o)) for o in officials],
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
        created_at=uow.clock.now(),
    )
    with uow:
        uow.repository(repository.setup_sql).add(subscription)
        uow.commit()
    setup_changed()
    return subscription, secret


def subscription_page(
    uow: UnitOfWork, query: dict[str, Any], page: int, per_page: int
) -> tuple[list[Subscription], int]:
    with uow:
        return uow.repository(repository.setup_sql).subscription_page(query, page, per_page)


def get_subscription(uow: UnitOfWork, subscription_id: uuid.UUID) -> Subscription:
    with uow:
        subscription = uow.repository(repository.setup_sql).subscription(subscription_id)
    if subscription is None:
        raise NotFound(f"No subscription {subscription_id}.")
    return subscription


def cancel_subscription(uow: UnitOfWork, subscription_id: uuid.UUID) -> None:
    """Stop sending; pending deliveries to it are parked at their next attempt."""
    deactivate(uow, Subscription, subscription_id, f"No subscription {subscription_id}.")


def deactivate(
    uow: UnitOfWork, model: type[Subscription | Official], row_id: uuid.UUID, missing: str
) -> None:
    """Mark the row inactive (kept for the history that names it); NotFound without it."""
    with uow:
        if not uow.repository(repository.setup_sql).deactivate(model, row_id):
            raise NotFound(missing)
        uow.commit()
    setup_changed()


# --- officials: unit operators and BKPSDM administrators ---------------------------------


def add_official(uow: UnitOfWork, official: dict[str, Any]) -> Official:
    if official["role"] == UNIT_OPERATOR and not official.get("unit_code"):
        raise Invalid({"unit_code": ["A unit operator needs the unit they serve."]})
    row = Official(id=uuid.uuid4(), active=True, created_at=uow.clock.now(), **official)
    with uow:
        uow.repository(repository.setup_sql).add(row)
        uow.commit()
    setup_changed()
    return row


def change_official(uow: UnitOfWork, official_id: uuid.UUID, changes: dict[str, Any]) -> Official:
    """Change an active official's name, e-mail, role, unit or language."""
    with uow:
        row = uow.repository(repository.setup_sql).locked_official(official_id)
        if row is None or not row.active:
            raise NotFound(f"No official {official_id}.")
        for name, value in changes.items():
            setattr(row, name, value)
        if row.role == UNIT_OPERATOR and not row.unit_code:
            raise Invalid({"unit_code": ["A unit operator needs the unit they serve."]})
        uow.commit()
    setup_changed()
    return row


def official_page(
    uow: UnitOfWork, filters: dict[str, Any], page: int, per_page: int
) -> tuple[list[Official], int]:
    with uow:
        return uow.repository(repository.setup_sql).official_page(filters, page, per_page)


def remove_official(uow: UnitOfWork, official_id: uuid.UUID) -> None:
    deactivate(uow, Official, official_id, f"No official {official_id}.")


# --- rules and templates ------------------------------------------------------------------


def list_rules(uow: UnitOfWork) -> list[Rule]:
    with uow:
        return uow.repository(repository.setup_sql).rules()


def add_rule(uow: UnitOfWork, rule: dict[str, Any]) -> Rule:
    if rule["event_type"] not in NOTIFIED_EVENTS:
        raise Invalid({"event_type": [f"Must be one of: {', '.join(NOTIFIED_EVENTS)}."]})
    with uow:
        repo = uow.repository(repository.setup_sql)
        _require_template(repo, rule["template"])
        row = repo.add_rule(rule)
        if row is None:
            raise Conflict(
                f"A rule for {rule['event_type']} and {rule['audience']} exists; change it."
            )
        uow.commit()
    setup_changed()
    return row


def change_rule(uow: UnitOfWork, rule_id: int, changes: dict[str, Any]) -> Rule:
    with uow:
        repo = uow.repository(repository.setup_sql)
        rule = repo.locked_rule(rule_id)
        if rule is None:
            raise NotFound(f"No rule {rule_id}.")
        if changes.get("template"):
            _require_template(repo, changes["template"])
        for name, value in changes.items():
            setattr(rule, name, value)
        uow.commit()
    setup_changed()
    return rule


def _require_template(repo: repository.SetupRepository, key: str) -> None:
    """A rule's template exists in Bahasa Indonesia, the language every recipient falls
    back to; else the ``template`` field is invalid."""
    if not repo.has_template(key, DEFAULT_LANGUAGE):
        raise Invalid({"template": [f"No template {key!r} in Bahasa Indonesia."]})


def list_templates(uow: UnitOfWork) -> list[Template]:
    with uow:
        return uow.repository(repository.setup_sql).templates()


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
        row = uow.repository(repository.setup_sql).put_template(key, language, subject, body)
        uow.commit()
    setup_changed()
    return row
