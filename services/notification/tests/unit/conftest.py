"""Planning an event's deliveries without broker or database: an in-memory repository
behind a fake unit of work, a setup written by the test."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from asn_testkit.fakes import FakeUnitOfWork, keep_newest
from notification.channels import SmtpSender, WebhookSender
from notification.domain import RetryPolicy, language_of
from notification.use_cases import common
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

    def a_unit_name(self, unit_code: str) -> str | None:
        names = [e.unit_name for e in self.employees.values() if e.unit_code == unit_code]
        return names[0] if names else None

    def add_deliveries(self, rows: list[dict[str, Any]]) -> list[Any]:
        inserted = []
        for row in rows:
            key = (row["event_id"], row["recipient"], row["channel"])
            if any((d["event_id"], d["recipient"], d["channel"]) == key for d in self.deliveries):
                continue  # deliveries_once
            self.deliveries.append(row)
            inserted.append(SimpleNamespace(**row))
        return inserted

    def add_attempts(self, rows: list[dict[str, Any]]) -> None:
        self.attempts.extend(rows)

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
