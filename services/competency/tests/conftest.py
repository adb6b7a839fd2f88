"""Fixtures: the competency service as a real ``nameko run`` process, a way to watch its
events from a queue of our own, and helpers that build units, jabatan and employees."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

import competency
from asn_testkit import auth
from asn_testkit.events import EventTap
from asn_testkit.processes import ServiceProcess

SERVICE_DIR = Path(__file__).resolve().parents[1]
MIGRATIONS = Path(competency.__file__).parent / "migrations"
TARGET = "competency.service:CompetencyService"
MANAGERIAL = ["M.01", "M.02", "M.03", "M.04", "M.05", "M.06", "M.07", "M.08", "SK.01"]
_serial = itertools.count(1)


def new_nip(sex: int = 1) -> str:
    """A valid NIP no other call returns: born 1970-1997, appointed 2020-2024."""
    n = next(_serial)  # injective below 50 million: birth day, then year, then serial
    birth = date(1970, 1, 1) + timedelta(days=n % 10_000)
    appointed = f"{2020 + n // 10_000 % 5}{1 + n % 12:02d}"
    return f"{birth:%Y%m%d}{appointed}{sex}{1 + n // 50_000 % 999:03d}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


class Api:
    """A thin HTTP client of one running service that fails loudly on unexpected status."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = auth.session()

    def call(self, method: str, path: str, expect: int | None = None, **kwargs):
        response = self.http.request(method, self.url + path, timeout=120, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        return response

    def get(self, path: str, expect: int | None = 200, **kwargs):
        return self.call("GET", path, expect, **kwargs)

    def post(self, path: str, expect: int | None = 201, **kwargs):
        return self.call("POST", path, expect, **kwargs)

    def patch(self, path: str, expect: int | None = 200, **kwargs):
        return self.call("PATCH", path, expect, **kwargs)

    def put(self, path: str, expect: int | None = 200, **kwargs):
        return self.call("PUT", path, expect, **kwargs)

    # --- builders -------------------------------------------------------------------------

    def unit(self, parent: str | None = None, **fields) -> str:
        code = fields.pop("code", None) or unique("U")
        body = {"code": code, "name": f"Unit {code}", "parent_code": parent, **fields}
        self.post("/units", json=body)
        return code

    def jabatan(self, unit: str, kind: str = "pengawas", grade: str | None = None, **fields):
        code = fields.pop("code", None) or unique("J")
        body = {"code": code, "name": f"Jabatan {code}", "kind": kind, "unit_code": unit}
        if grade:
            body["grade"] = grade
        return self.post("/jabatan", json={**body, **fields}).json()

    def employee(self, unit: str, jabatan: str | None, **fields) -> dict:
        body = {
            "nip": fields.pop("nip", None) or new_nip(),
            "name": fields.pop("name", "Pegawai Uji"),
            "unit_code": unit,
            "jabatan_code": jabatan,
            "email": "pegawai@example.go.id",
            **fields,
        }
        return self.post("/employees", json=body).json()

    def assess(self, nip: str, levels: dict, expect: int = 201, **fields):
        body = {
            "nip": nip,
            "assessed_on": fields.pop("assessed_on", "2026-03-02"),
            "method": fields.pop("method", "assessment_centre"),
            "levels": levels,
            **fields,
        }
        return self.post("/assessments", expect, json=body)


def start_service(broker, database_server, log_dir: Path, **env: str):
    vhost = broker.create_vhost()
    database_url = database_server.create(MIGRATIONS, None)
    amqp_uri = broker.uri(vhost)
    process = ServiceProcess(
        "competency",
        TARGET,
        SERVICE_DIR / "config.yaml",
        {"AMQP_URI": amqp_uri, "COMPETENCY_DATABASE_URL": database_url, **env},
        log_dir / f"competency-{vhost}.log",
    )

    def stop() -> None:
        process.stop()
        database_server.drop(database_url)
        broker.delete_vhost(vhost)

    try:
        process.start(timeout=60)
    except Exception:
        stop()
        raise
    return process, amqp_uri, stop


@pytest.fixture(scope="module")
def service(broker, database_server, tmp_path_factory) -> Iterator[ServiceProcess]:
    """One competency process (own vhost, own database) shared by a module's tests."""
    process, amqp_uri, stop = start_service(
        broker, database_server, tmp_path_factory.mktemp("logs")
    )
    process.amqp_uri = amqp_uri
    yield process
    stop()


@pytest.fixture
def api(service) -> Api:
    return Api(service.url)


@pytest.fixture
def listen(service) -> Iterator[Callable[[str], EventTap]]:
    """``listen("employee.*")``: an EventTap on the module's service, bound with that key."""
    taps: list[EventTap] = []

    def bind(routing_key: str = "#") -> EventTap:
        taps.append(EventTap(service.amqp_uri, "competency", routing_key=routing_key))
        return taps[-1]

    yield bind
    for tap in taps:
        tap.close()


@pytest.fixture
def org(api) -> dict:
    """A small tree: city → kecamatan → kelurahan, with a pengawas post in the kelurahan."""
    city = api.unit(kind="pemda")
    kecamatan = api.unit(city, kind="kecamatan")
    kelurahan = api.unit(kecamatan, kind="kelurahan")
    lurah = api.jabatan(kelurahan, "pengawas")
    return {"city": city, "kecamatan": kecamatan, "kelurahan": kelurahan, "lurah": lurah}


def levels(value: float = 2, overrides: dict | None = None) -> dict:
    """Achieved levels for the 9 managerial and socio-cultural competencies."""
    return {**{code: value for code in MANAGERIAL}, **(overrides or {})}


@pytest.fixture(scope="session")
def h() -> SimpleNamespace:
    """Plain helpers for the tests (test modules cannot import this conftest)."""
    return SimpleNamespace(
        levels=levels,
        new_nip=new_nip,
        unique=unique,
        managerial=MANAGERIAL,
        start_service=start_service,
        Api=Api,
    )
