"""pytest fixtures: ``amqp_uri``, ``database``, ``run_service`` and the servers behind them."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import idp
from .events import EventTap, publish
from .infrastructure import Broker, DatabaseServer
from .peers import SmtpServer, WebhookReceiver
from .processes import ServiceProcess
from .suite import Suite


@pytest.fixture(scope="session")
def _containers() -> Iterator[list]:
    started: list = []
    yield started
    for container in started:
        container.stop()


@pytest.fixture(scope="session")
def broker(_containers) -> Broker:
    return Broker.discover(_containers)


@pytest.fixture(scope="session")
def database_server(_containers) -> Iterator[DatabaseServer]:
    server = DatabaseServer.discover(_containers)
    yield server
    server.drop_templates()


@pytest.fixture
def vhost(broker: Broker) -> Iterator[str]:
    """A RabbitMQ virtual host of this test's own: no queue or message leaks between tests."""
    name = broker.create_vhost()
    yield name
    broker.delete_vhost(name)


@pytest.fixture
def amqp_uri(broker: Broker, vhost: str) -> str:
    return broker.uri(vhost)


@pytest.fixture
def database(database_server: DatabaseServer) -> Iterator:
    """``database(migrations=..., metadata=...)`` → the URL of a fresh database."""
    created: list[str] = []

    def create(migrations: Path | None = None, metadata=None) -> str:
        created.append(database_server.create(migrations, metadata))
        return created[-1]

    yield create
    for url in created:
        database_server.drop(url)


@pytest.fixture
def run_service(amqp_uri: str, database, tmp_path: Path) -> Iterator:
    """Start a service as a ``nameko run`` process and wait until ``/health`` answers 200.

    ``run_service("competency", "competency.service:CompetencyService", config, database_url)``
    Every process is stopped when the test ends.
    """
    processes: list[ServiceProcess] = []

    def start(
        service: str,
        target: str,
        config: Path,
        database_url: str,
        *,
        env: dict[str, str] | None = None,
        python_path: list[Path] = (),
        wait_healthy: bool = True,
    ) -> ServiceProcess:
        environment = {
            "AMQP_URI": amqp_uri,
            f"{service.upper()}_DATABASE_URL": database_url,
            **(env or {}),
        }
        process = ServiceProcess(
            service,
            target,
            config,
            environment,
            tmp_path / f"{service}-{len(processes)}.log",
            python_path,
        )
        processes.append(process)
        return process.start(wait_healthy=wait_healthy)

    yield start
    for process in processes:
        process.stop()


@pytest.fixture
def publish_event(amqp_uri: str):
    """``publish_event(name, data)`` (or ``event=...``, ``times=2``) as the producer would."""
    return lambda *args, **kwargs: publish(amqp_uri, *args, **kwargs)


@pytest.fixture
def tap(amqp_uri: str) -> Iterator:
    """``tap("budget", "training")``: an EventTap on those services' exchanges."""
    taps: list[EventTap] = []

    def open_tap(*producers: str, routing_key: str = "#") -> EventTap:
        taps.append(EventTap(amqp_uri, *producers, routing_key=routing_key))
        return taps[-1]

    yield open_tap
    for opened in taps:
        opened.close()


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path / "smtp")
    yield server
    server.stop()


@pytest.fixture
def webhook_receiver(tmp_path: Path) -> Iterator:
    """``webhook_receiver(fail="2")``: a new receiver failing its first 2 requests."""
    receivers: list[WebhookReceiver] = []

    def start(fail: str = "0") -> WebhookReceiver:
        receivers.append(WebhookReceiver(tmp_path / f"webhook-{len(receivers)}"))
        receivers[-1].fail(fail)
        return receivers[-1]

    yield start
    for receiver in receivers:
        receiver.stop()


@pytest.fixture
def suite(amqp_uri: str, database, tmp_path: Path, request) -> Iterator:
    """``suite(env={...}, replicas={"budget": 2})``: every installed service as processes."""
    started: list[Suite] = []

    def start(env: dict[str, str] | None = None, replicas: dict[str, int] | None = None) -> Suite:
        databases = {name: database(migrations=path) for name, path in Suite.migrations().items()}
        started.append(
            Suite(
                amqp_uri,
                databases,
                services_dir=request.config.rootpath / "services",
                log_dir=tmp_path,
                env=env,
                replicas=replicas,
            )
        )
        return started[-1].start()

    yield start
    for running in started:
        running.stop()


def pytest_sessionfinish(session, exitstatus) -> None:
    idp.stop_shared()


INFRASTRUCTURE = "infrastructure"
BROKER_RESTART = "broker_restart"


def pytest_configure(config: pytest.Config) -> None:
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # a shell ignores SIGINT in what it starts in the background, and the processes the
        # tests start would inherit that: Ctrl-C, which some tests send, would do nothing
        signal.signal(signal.SIGINT, signal.default_int_handler)
    config.addinivalue_line(
        "markers",
        f"{INFRASTRUCTURE}: the test uses the test kit's RabbitMQ or PostgreSQL (set by the kit "
        "on every test that asks for them; `make unit` leaves these out)",
    )
    config.addinivalue_line(
        "markers",
        f"{BROKER_RESTART}: the test stops and starts the shared RabbitMQ (`make test` runs "
        "these after the others, alone)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "_containers" in getattr(item, "fixturenames", ()):
            item.add_marker(INFRASTRUCTURE)
