"""The broker objects a service needs, read from its class: no list to keep in step by hand;
and the broker user of its own that may reach those objects and no others."""

from __future__ import annotations

import base64
import inspect
import json
import urllib.request
from dataclasses import asdict, dataclass, field
from urllib.parse import quote

from kombu import Connection

from .entrypoints import EventSubscriber
from .messaging import (
    Permissions,
    Subscription,
    broker_permissions,
    dead_letter_queue,
    declare_topology,
)


def subscriptions_of(service_cls: type, queue_type: str = "classic") -> list[Subscription]:
    found = []
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventSubscriber):
                entrypoint.method_name = method_name
                found.append(entrypoint.subscription(service_cls.name, queue_type))
    return found


def declare_service_topology(
    connection: Connection, service_cls: type, queue_type: str = "classic"
) -> list[Subscription]:
    """Declare the service's exchange, handler queues, retry queues and dead-letter queue."""
    subscriptions = subscriptions_of(service_cls, queue_type)
    declare_topology(
        connection,
        publishes=[service_cls.name],
        subscriptions=subscriptions,
        dead_letter_queues=[dead_letter_queue(service_cls.name, queue_type)],
    )
    return subscriptions


def permissions_of(service_cls: type) -> Permissions:
    """The broker permissions the service needs: its own objects, and binding its queues to
    the exchanges of the services whose events it handles."""
    producers = {subscription.producer for subscription in subscriptions_of(service_cls)}
    return broker_permissions(service_cls.name, producers)


@dataclass(frozen=True)
class ManagementApi:
    """RabbitMQ's management HTTP API, as an administrator."""

    url: str  # http://rabbitmq:15672
    user: str
    password: str = field(repr=False)

    @classmethod
    def of(cls, amqp_uri: str, url: str | None = None) -> ManagementApi:
        """The API of the broker behind ``amqp_uri``, with its credentials; by default on
        the management plugin's port of the same host."""
        broker = Connection(amqp_uri)
        return cls(url or f"http://{broker.hostname}:15672", broker.userid, broker.password)

    def put(self, path: str, payload: dict) -> None:
        """PUT ``payload`` as JSON; an error status raises ``urllib.error.HTTPError``."""
        credentials = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"{self.url.rstrip('/')}/api/{path}",
            data=json.dumps(payload).encode(),
            method="PUT",
            headers={"Content-Type": "application/json", "Authorization": f"Basic {credentials}"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass


def apply_broker_user(
    api: ManagementApi, vhost: str, user: str, password: str, permissions: Permissions
) -> None:
    """Create or update ``user`` (no management tags) and set its permissions in ``vhost``.

    Idempotent; running it again with a new password rotates the password.
    """
    api.put(f"users/{quote(user, safe='')}", {"password": password, "tags": ""})
    api.put(f"permissions/{quote(vhost, safe='')}/{quote(user, safe='')}", asdict(permissions))
