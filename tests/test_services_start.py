"""Every service starts as a real ``nameko run`` process and answers its common endpoints."""

from importlib import import_module
from pathlib import Path

import pytest

from asn_shared import migrations
from asn_testkit.auth import admin_http
from asn_testkit.processes import service_targets

SERVICES_DIR = Path(__file__).resolve().parents[1] / "services"
SERVICES = service_targets()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_starts_and_answers_health_metrics_and_problems(
    service: str, database, run_service
) -> None:
    package = import_module(service)
    database_url = database(migrations=Path(package.__file__).parent / "migrations")
    process = run_service(
        service,
        SERVICES[service],
        SERVICES_DIR / service / "config.yaml",
        database_url,
    )

    health = admin_http.get(f"{process.url}/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["checks"] == {"database": "ok", "broker": "ok"}

    metrics = admin_http.get(f"{process.url}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert f'asn_outbox_backlog{{service="{service}"}} 0.0' in metrics.text

    missing = admin_http.get(f"{process.url}/no-such-route", timeout=5)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    assert missing.json()["status"] == 404


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_migrations_build_exactly_the_tables_the_models_declare(service: str, database) -> None:
    package = import_module(service)
    models = import_module(f"{service}.models")
    database_url = database(migrations=Path(package.__file__).parent / "migrations")
    assert migrations.differences(database_url, models.metadata) == []
