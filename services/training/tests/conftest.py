"""Fixtures for the training service's tests against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import training
from asn_testkit.auth import admin_http
from asn_testkit.events import EventTap, employee_data

SERVICE_DIR = Path(__file__).resolve().parents[1]
MIGRATIONS = Path(training.__file__).parent / "migrations"


def day(offset: int) -> date:
    """``offset`` days from today, kept inside this year (proposals plan the current year)."""
    today = date.today()
    return min(today + timedelta(days=offset), date(today.year, 12, 31))


class Api:
    """The service's HTTP API; every call asserts the status it expects."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> Any:
        response = admin_http.request(method, self.url + path, timeout=10, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def get(self, path: str, expect: int = 200, **params) -> Any:
        return self.call("GET", path, expect, params=params)

    def post(self, path: str, body: dict | None = None, expect: int = 200) -> Any:
        return self.call("POST", path, expect, json=body if body is not None else {})


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
def training_events(tap) -> EventTap:
    """What the service publishes, seen from a queue bound before the test acts."""
    return tap("training")


NIP = "198609262015051001"


def employee(nip: str = NIP, unit: str = "KEC-PLAJU", version: int = 1) -> dict[str, Any]:
    return employee_data(
        nip,
        unit,
        "Kecamatan Plaju",
        name="Rina Marlina",
        golongan="III/c",
        email="rina@example.go.id",
        version=version,
    )


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


def budget_position(unit: str = "KEC-PLAJU", year: int | None = None) -> dict[str, Any]:
    return {
        "unit_code": unit,
        "fiscal_year": year or date.today().year,
        "allocated_rupiah": 10_000_000,
        "committed_rupiah": 9_000_000,
        "available_rupiah": 1_000_000,
    }


def rejection(proposal: dict[str, Any], requested: int) -> dict[str, Any]:
    """``budget.rejected`` for every item of ``proposal`` (its ``proposal.created`` data)."""
    return {
        **budget_position(),
        "proposal_id": proposal["proposal_id"],
        "item_ids": [i["item_id"] for i in proposal["items"]],
        "requested_rupiah": requested,
        "reason": "insufficient_funds",
    }


class Builders:
    """Event data and request bodies for the tests (a fixture: tests do not import this)."""

    NIP = NIP
    day = staticmethod(day)
    employee = staticmethod(employee)
    result = staticmethod(result)
    assessment = staticmethod(assessment)
    programme = staticmethod(programme)
    budget_position = staticmethod(budget_position)
    rejection = staticmethod(rejection)


@pytest.fixture
def build() -> type[Builders]:
    return Builders
