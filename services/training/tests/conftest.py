"""Fixtures for the training service's tests against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from kombu import Connection, Exchange, Producer, Queue

import training
from asn_shared.events import new_event, registry

SERVICE_DIR = Path(__file__).resolve().parents[1]
MIGRATIONS = Path(training.__file__).parent / "migrations"


def day(offset: int) -> date:
    """``offset`` days from today, kept inside this year (proposals plan the current year)."""
    today = date.today()
    return min(today + timedelta(days=offset), date(today.year, 12, 31))


def wait_for(predicate, *, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class Api:
    """The service's HTTP API; every call asserts the status it expects."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> Any:
        response = requests.request(method, self.url + path, timeout=10, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def get(self, path: str, expect: int = 200, **params) -> Any:
        return self.call("GET", path, expect, params=params)

    def post(self, path: str, body: dict | None = None, expect: int = 200) -> Any:
        return self.call("POST", path, expect, json=body if body is not None else {})


class Observer:
    """A queue of the test's own, bound to ``training.events`` before anything happens."""

    def __init__(self, amqp_uri: str) -> None:
        self.amqp_uri = amqp_uri
        self.queue = Queue(
            f"observer-{uuid.uuid4().hex[:8]}",
            exchange=Exchange("training.events", "topic", durable=True),
            routing_key="#",
            durable=True,
        )
        with Connection(amqp_uri) as connection:
            self.queue(connection.channel()).declare()
        self.seen: list[dict[str, Any]] = []

    def _drain(self, connection, wait: float) -> None:
        simple = connection.SimpleQueue(self.queue)
        try:
            while True:
                try:
                    message = simple.get(block=True, timeout=wait)
                except simple.Empty:
                    return
                message.ack()
                self.seen.append(json.loads(message.body))
        finally:
            simple.close()

    def events(self, name: str) -> list[dict[str, Any]]:
        suffix = f".training.{name}.v1"
        return [e for e in self.seen if e["type"].endswith(suffix)]

    def wait(self, name: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The data of the first ``count`` ``name`` events, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with Connection(self.amqp_uri) as connection:
            while len(self.events(name)) < count:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{count} {name} expected, got {self.events(name)}")
                self._drain(connection, 0.3)
        return [e["data"] for e in self.events(name)[:count]]

    def settle(self, quiet: float = 1.0) -> None:
        """Take whatever is still arriving, until the queue stays empty for ``quiet`` s."""
        with Connection(self.amqp_uri) as connection:
            self._drain(connection, quiet)


@pytest.fixture
def training_service(database, run_service):
    url = database(migrations=MIGRATIONS)
    return run_service(
        "training", "training.service:TrainingService", SERVICE_DIR / "config.yaml", url
    )


@pytest.fixture
def api(training_service) -> Api:
    return Api(training_service.url)


@pytest.fixture
def observer(amqp_uri) -> Observer:
    return Observer(amqp_uri)


@pytest.fixture
def publish(amqp_uri):
    """Publish an event of another service as a plain kombu client would; returns it."""

    def send(name: str, data: dict[str, Any], *, event=None, times: int = 1):
        definition = registry.get(name, 1)
        event = event or new_event(definition, data)
        with Connection(amqp_uri) as connection:
            producer = Producer(
                connection, exchange=Exchange(definition.exchange, "topic", durable=True)
            )
            for _ in range(times):
                producer.publish(event.to_json(), routing_key=name, **event.amqp_properties())
        return event

    return send


NIP = "198609262015051001"


def employee(nip: str = NIP, unit: str = "KEC-PLAJU", version: int = 1) -> dict[str, Any]:
    return {
        "nip": nip,
        "name": "Rina Marlina",
        "sex": "P",
        "golongan": "III/c",
        "unit": {"code": unit, "name": "Kecamatan Plaju", "parent_code": None},
        "jabatan": None,
        "email": "rina@example.go.id",
        "phone": None,
        "supervisor_nip": None,
        "language": "id",
        "version": version,
    }


def result(code: str, required: int, achieved: float) -> dict[str, Any]:
    return {
        "competency_code": code,
        "competency_name": code,
        "kind": "manajerial",
        "required_level": required,
        "achieved_level": achieved,
        "gap": achieved - required,
    }


def assessment(results: list[dict], *, assessed_on: date | None = None, **extra) -> dict:
    return {
        "assessment_id": uuid.uuid4(),
        "supersedes": None,
        "employee": employee(),
        "jabatan": {"code": "KASI-PEM", "name": "Kepala Seksi", "kind": "pengawas", "grade": None},
        "assessed_on": assessed_on or date.today(),
        "method": "assessment_centre",
        "results": results,
        "jpm": 80.0,
        "jpm_method": "capped",
        "category": {"code": "MMS", "label": "Masih Memenuhi Syarat", "scheme": "jf"},
        **extra,
    }


def programme(code: str, cost: int, levels: dict[str, int], **fields) -> dict[str, Any]:
    body = {
        "code": code,
        "title": f"Pelatihan {code}",
        "form": "klasikal",
        "activity": "pelatihan_manajerial",
        "jp": 24,
        "cost_rupiah": cost,
        "provider": "BKPSDM Kota Palembang",
        "competencies": [{"competency_code": c, "level": lv} for c, lv in levels.items()],
        "batches": [
            {"starts_on": str(day(1)), "ends_on": str(day(3)), "place": "Plaju", "capacity": 30}
        ],
    }
    body.update(fields)
    return body


def budget_position(unit: str = "KEC-PLAJU") -> dict[str, Any]:
    return {
        "unit_code": unit,
        "fiscal_year": date.today().year,
        "allocated_rupiah": 10_000_000,
        "committed_rupiah": 9_000_000,
        "available_rupiah": 1_000_000,
    }


class Builders:
    """Event data and request bodies for the tests (a fixture: tests do not import this)."""

    NIP = NIP
    day = staticmethod(day)
    wait_for = staticmethod(wait_for)
    employee = staticmethod(employee)
    result = staticmethod(result)
    assessment = staticmethod(assessment)
    programme = staticmethod(programme)
    budget_position = staticmethod(budget_position)


@pytest.fixture
def build() -> type[Builders]:
    return Builders
