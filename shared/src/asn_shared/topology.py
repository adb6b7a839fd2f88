"""The broker objects a service needs, read from its class: no list to keep in step by hand."""

from __future__ import annotations

import inspect

from kombu import Connection

from .entrypoints import EventSubscriber
from .messaging import Subscription, dead_letter_queue, declare_topology


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
