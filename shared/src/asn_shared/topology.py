"""The broker objects a service needs, read from its class: no list to keep in step by hand;
and the broker user of its own that may reach those objects and no others."""

from __future__ import annotations

import base64
import json
import logging
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

import amqp
from kombu.connection import Connection
from kombu.entity import Queue

from .entrypoints import subscribers_of
from .events import exchange_name
from .messaging import (
    Permissions,
    Subscription,
    broker_permissions,
    dead_letter_queue,
    declare_topology,
    on_channel,
)

if TYPE_CHECKING:
    from .base import ServiceBase

log = logging.getLogger(__name__)


def subscriptions_of(
    service_cls: type[ServiceBase], queue_type: str = "classic"
) -> list[Subscription]:
    return [
        subscriber.subscription(service_cls.name, queue_type)
        for subscriber in subscribers_of(service_cls)
    ]


def declare_service_topology(
    connection: Connection, service_cls: type[ServiceBase], queue_type: str = "classic"
) -> list[Subscription]:
    """Declare the service's exchange, handler queues, retry queues and dead-letter queue;
    then move what waits in the queues of its handlers' former names (see
    :func:`move_former_queues`)."""
    former = former_queues(connection, service_cls, queue_type)
    subscriptions = subscriptions_of(service_cls, queue_type)
    declare_topology(
        connection,
        publishes=[service_cls.name],
        subscriptions=subscriptions,
        dead_letter_queues=[dead_letter_queue(service_cls.name, queue_type)],
    )
    move_former_queues(connection, former)
    return subscriptions


class FormerQueueInUse(RuntimeError):
    """A queue of a handler's former name still has consumers: an older version runs."""


def former_queues(
    connection: Connection, service_cls: type[ServiceBase], queue_type: str = "classic"
) -> list[tuple[Subscription, Subscription]]:
    """(former, current) for each queue of a handler's former name that still exists.

    Raises :class:`FormerQueueInUse` when one has consumers: replicas of the older version
    still handle its events, and moving them now would have both versions handle the same
    event under two names. Stop them first.
    """
    found = []
    for subscriber in subscribers_of(service_cls):
        current = subscriber.subscription(service_cls.name, queue_type)
        for former in subscriber.former_subscriptions(service_cls.name, queue_type):
            consumers = _consumers(connection, former.queue_name)
            if consumers:
                raise FormerQueueInUse(
                    f"queue {former.queue_name} has {consumers} consumer(s): stop every replica "
                    f"of the older {service_cls.name}, then declare the topology again"
                )
            if consumers is not None or _consumers(connection, _retry(former)) is not None:
                found.append((former, current))
    return found


def move_former_queues(
    connection: Connection, former: list[tuple[Subscription, Subscription]]
) -> dict[str, int]:
    """Move the messages of each former handler queue and its retry queue to the current
    ones, then delete them; return how many each held.

    The former queue is unbound from the producer first, so nothing new arrives while it
    is emptied; a message that still arrives (an expiring retry) is moved on the next turn.
    Events that reached both queues meanwhile are handled once: the inbox knows the former
    name (see :meth:`asn_shared.persistence.UnitOfWork.first_delivery`).
    """
    moved = {}
    for old, new in former:
        on_channel(
            connection,
            lambda c, o=old: c.queue_unbind(o.queue_name, exchange_name(o.producer), o.event_name),
        )
        for source, target in ((_retry(old), _retry(new)), (old.queue_name, new.queue_name)):
            moved[source] = _move_and_delete(connection, source, target)
            log.warning(
                "queue %s: %d message(s) moved to %s, queue deleted",
                source,
                moved[source],
                target,
            )
    return moved


MOVE_TURNS = 10  # moves before giving up on a queue that keeps filling


def _move_and_delete(connection: Connection, source: str, target: str) -> int:
    if _consumers(connection, source) is None:
        return 0
    moved = 0
    # publishes wait for the broker's confirm only on a connection that asks for it
    options = {**(connection.transport_options or {}), "confirm_publish": True}
    with connection.clone(transport_options=options) as confirming:
        for _ in range(MOVE_TURNS):
            moved += move_messages(confirming, source, target)
            if _delete_if_empty(connection, source):
                return moved
    raise FormerQueueInUse(f"queue {source} keeps receiving messages; it was not deleted")


def _delete_if_empty(connection: Connection, name: str) -> bool:
    """Delete queue ``name`` unless it holds messages or has consumers."""
    with connection.clone() as spare:
        try:
            spare.default_channel.queue_delete(name, if_unused=True, if_empty=True)
            return True
        except amqp.exceptions.PreconditionFailed:
            return False
        except amqp.exceptions.AMQPNotImplementedError:
            pass  # a quorum queue: no conditional delete
    # unbound and unconsumed, nothing refills it between the count and the delete
    with connection.clone() as spare:
        _, count, consumers = spare.default_channel.queue_declare(name, passive=True)
        if count or consumers:
            return False
        spare.default_channel.queue_delete(name)
    return True


def _consumers(connection: Connection, name: str) -> int | None:
    """How many consumers queue ``name`` has; None if there is no such queue."""
    found = []
    try:
        on_channel(connection, lambda c: found.append(c.queue_declare(name, passive=True)))
    except amqp.exceptions.NotFound:
        return None
    consumers: int = found[0].consumer_count
    return consumers


def _retry(subscription: Subscription) -> str:
    return subscription.retry_queue().name


def permissions_of(service_cls: type[ServiceBase]) -> Permissions:
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
        # a URI without credentials logs in as RabbitMQ's default user, as kombu does
        user, password = broker.userid or "guest", broker.password or "guest"
        return cls(url or f"http://{broker.hostname}:15672", user, password)

    def put(self, path: str, payload: Mapping[str, str]) -> None:
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


CONVERTING = ".converting"  # suffix of the quorum queue holding a queue's messages meanwhile


def service_queues(service_cls: type[ServiceBase], queue_type: str) -> list[Queue]:
    """Every durable queue of the service: handler and retry queues, its dead-letter queue."""
    subscriptions = subscriptions_of(service_cls, queue_type)
    return [
        *(subscription.queue() for subscription in subscriptions),
        *(subscription.retry_queue() for subscription in subscriptions),
        dead_letter_queue(service_cls.name, queue_type),
    ]


def convert_to_quorum(connection: Connection, service_cls: type[ServiceBase]) -> dict[str, int]:
    """Make each queue of the service that is not yet its quorum queue (a classic queue, or
    one declared with other arguments) that quorum queue, same name and bindings, its
    messages kept; return how many each had. Only while no replica of any service runs: a
    message published to a queue between its move and its deletion would be lost, and the
    services' outbox relays are the only publishers.

    The messages wait in ``<queue>.converting`` (a quorum queue) while the queue is deleted
    and declared anew; run again after an interruption, it finishes the move.
    """
    moved = {}
    for queue in service_queues(service_cls, "quorum"):
        if _declared_otherwise(connection, queue):
            spare = queue.name + CONVERTING
            on_channel(
                connection,
                lambda c, s=spare: c.queue_declare(
                    s, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
                ),
            )
            moved[queue.name] = move_messages(connection, queue.name, spare)
            on_channel(connection, lambda c, q=queue: c.queue_delete(q.name))
            on_channel(connection, lambda c, q=queue: q(c).declare())
        _finish_move(connection, queue.name)
    return moved


def _declared_otherwise(connection: Connection, queue: Queue) -> bool:
    """Whether ``queue`` exists with other arguments than ``queue`` has: the broker names
    only the first argument that differs, so a classic queue may be refused for its
    dead-lettering as well as for its type."""
    try:
        on_channel(connection, lambda channel: channel.queue_declare(queue.name, passive=True))
    except amqp.exceptions.NotFound:
        return False
    try:
        on_channel(connection, lambda channel: queue(channel).declare())
    except amqp.exceptions.PreconditionFailed:
        return True
    return False


def _finish_move(connection: Connection, name: str) -> None:
    try:
        on_channel(connection, lambda c: c.queue_declare(name + CONVERTING, passive=True))
    except amqp.exceptions.NotFound:
        return
    move_messages(connection, name + CONVERTING, name)
    on_channel(connection, lambda c: c.queue_delete(name + CONVERTING))


def move_messages(connection: Connection, source: str, target: str) -> int:
    """Move every message of queue ``source`` to queue ``target`` (through the default
    exchange, properties and headers kept): each acknowledged at the source only once the
    broker confirmed its copy, so a failure in between leaves a copy, never none."""
    moved = 0
    with connection.clone() as own:
        channel = own.channel()
        channel.confirm_select()
        while (message := channel.basic_get(source, no_ack=False)) is not None:
            copy = amqp.Message(message.body, **message.properties)
            channel.basic_publish(copy, exchange="", routing_key=target, mandatory=True)
            channel.basic_ack(message.delivery_tag)
            moved += 1
    return moved
