"""The whole suite as it runs in production: every service a ``nameko run`` process (or
several replicas), each with its own database, all on one broker virtual host."""

from __future__ import annotations

from pathlib import Path

from kombu import Connection

from asn_shared import config
from asn_shared.cli import installed_services, migrations_of
from asn_shared.topology import declare_service_topology
from kompas_demo.api import Services

from . import auth
from .processes import ServiceProcess

# Short polls and retries so a whole suite settles quickly in a test (production defaults are
# in each service's config.yaml); fewer workers, as the test database server is shared.
QUICK_ENV = {
    "OUTBOX_POLL_INTERVAL": "0.1",
    "EVENT_RETRY_DELAY": "0.2",
    "DISPATCH_INTERVAL": "0.2",
    "RETRY_BASE_DELAY": "1",
    "RETRY_MAX_DELAY": "2",
    "MAX_WORKERS": "4",
}


class Suite:
    def __init__(
        self,
        amqp_uri: str,
        databases: dict[str, str],
        *,
        services_dir: Path,
        log_dir: Path,
        env: dict[str, str] | None = None,
        replicas: dict[str, int] | None = None,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.databases = databases
        self.services_dir = services_dir
        self.log_dir = log_dir
        self.env = env or {}
        self.replicas = replicas or {}
        self.processes: dict[str, list[ServiceProcess]] = {}

    @staticmethod
    def migrations() -> dict[str, Path]:
        """Each installed service's migrations, to create its database with."""
        return {name: migrations_of(cls) for name, cls in installed_services().items()}

    def start(self, timeout: float = 60.0) -> Suite:
        """Declare every queue first (no event lost to a late subscriber), then start all."""
        services = installed_services()
        queue_type = config.queue_type(self.env.get("QUEUE_TYPE"))
        with Connection(self.amqp_uri) as connection:
            for service_cls in services.values():
                declare_service_topology(connection, service_cls, queue_type)
        for name, service_cls in services.items():
            target = f"{service_cls.__module__}:{service_cls.__name__}"
            self.processes[name] = [
                self._process(name, target, replica).spawn()
                for replica in range(self.replicas.get(name, 1))
            ]
        for process in self.all():
            process.wait_healthy(timeout)
        return self

    def _process(self, name: str, target: str, replica: int) -> ServiceProcess:
        env = {
            "AMQP_URI": self.amqp_uri,
            f"{name.upper()}_DATABASE_URL": self.databases[name],
            **self.env,
        }
        return ServiceProcess(
            name,
            target,
            self.services_dir / name / "config.yaml",
            env,
            self.log_dir / f"{name}-{replica}.log",
        )

    def url(self, name: str) -> str:
        return self.processes[name][0].url

    def services(self, token: str | None = None) -> Services:
        """The demo's HTTP client of each service (what seeds and reads them), sending
        ``token`` (default: a BKPSDM administrator's)."""
        urls = {
            name: self.url(name) for name in ("competency", "training", "budget", "notification")
        }
        return Services.at(urls, token=token or auth.token())

    def all(self) -> list[ServiceProcess]:
        return [process for replicas in self.processes.values() for process in replicas]

    def stop(self) -> None:
        """Stop every process at once: a graceful nameko shutdown takes seconds each."""
        for process in self.all():
            process.terminate()
        for process in self.all():
            process.stop()

    def kill(self) -> None:
        for process in self.all():
            process.kill()
