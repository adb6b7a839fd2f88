"""Find (or start) the broker and the database server, and carve out isolated pieces of them.

A server named by an environment variable is used as it is; otherwise one answering on
localhost; otherwise a throwaway container is started with testcontainers (needs Docker).
Each test then gets its own RabbitMQ virtual host and its own databases, dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from sqlalchemy import MetaData, text
from sqlalchemy.pool import NullPool

from asn_shared import migrations
from asn_shared.persistence import make_engine


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class Broker:
    """A RabbitMQ server with its management API (virtual hosts are made through it)."""

    amqp_uri: str  # without a virtual host
    management_url: str
    user: str = "guest"
    password: str = "guest"

    @classmethod
    def discover(cls, containers: list) -> Broker:
        uri = os.environ.get("TEST_AMQP_URI") or os.environ.get("AMQP_URI")
        management = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://localhost:15672")
        if uri or answers("localhost", 5672):
            parts = urlsplit(uri or "amqp://guest:guest@localhost:5672/")
            return cls(
                urlunsplit(parts._replace(path="/")),
                management,
                parts.username or "guest",
                parts.password or "guest",
            )
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13-management").start()
        containers.append(container)
        host = container.get_container_host_ip()
        return cls(
            f"amqp://guest:guest@{host}:{container.get_exposed_port(5672)}/",
            f"http://{host}:{container.get_exposed_port(15672)}",
        )

    def _api(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(
            method,
            f"{self.management_url}/api/{path}",
            auth=(self.user, self.password),
            timeout=10,
            **kwargs,
        )
        response.raise_for_status()
        return response

    def create_vhost(self) -> str:
        """A fresh virtual host; its URI has the same credentials."""
        vhost = f"test-{uuid.uuid4().hex[:12]}"
        self._api("PUT", f"vhosts/{vhost}")
        self._api(
            "PUT",
            f"permissions/{vhost}/{quote(self.user)}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        )
        return vhost

    def delete_vhost(self, vhost: str) -> None:
        self._api("DELETE", f"vhosts/{vhost}")

    def uri(self, vhost: str) -> str:
        return self.amqp_uri.rstrip("/") + "/" + quote(vhost, safe="")

    def consumers(self, vhost: str) -> dict[str, int]:
        """Each queue of the virtual host and how many consumers it has."""
        queues = self._api("GET", f"queues/{quote(vhost, safe='')}").json()
        return {queue["name"]: queue.get("consumers", 0) for queue in queues}

    def queue_depth(self, vhost: str, queue: str) -> int:
        return self._api("GET", f"queues/{quote(vhost, safe='')}/{quote(queue, safe='')}").json()[
            "messages"
        ]


@dataclass
class DatabaseServer:
    """A PostgreSQL server on which tests create and drop databases."""

    admin_url: str  # a URL to a maintenance database, e.g. .../postgres
    _templates: dict[tuple, str] = field(default_factory=dict)

    @classmethod
    def discover(cls, containers: list) -> DatabaseServer:
        url = os.environ.get("TEST_DATABASE_URL")
        if url:
            return cls(url)
        if answers("127.0.0.1", 5432):
            return cls("postgresql://postgres@127.0.0.1:5432/postgres")
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", driver=None).start()
        containers.append(container)
        return cls(container.get_connection_url())

    def url(self, database: str) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{database}"))

    def _execute(self, statement: str) -> None:
        engine = make_engine(self.admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def create(self, migrations_path: Path | None = None, metadata: MetaData | None = None) -> str:
        """A new database with the messaging tables, the given migrations and tables.

        Migrations run once per distinct schema into a template database; each test's
        database is then a cheap copy of it.
        """
        key = (str(migrations_path), id(metadata))
        if key not in self._templates:
            template = f"tmpl_{uuid.uuid4().hex[:12]}"
            self._execute(f'CREATE DATABASE "{template}"')
            migrations.upgrade(self.url(template), migrations_path)
            if metadata is not None:
                engine = make_engine(self.url(template), pool_size=1)
                metadata.create_all(engine)
                engine.dispose()
            self._templates[key] = template
        name = f"test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._templates[key]}"')
        return self.url(name)

    def drop(self, url: str) -> None:
        database = urlsplit(url).path.lstrip("/")
        self._execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def drop_templates(self) -> None:
        for template in self._templates.values():
            self._execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        self._templates.clear()
