"""RabbitMQ plumbing with kombu and py-amqp: names, topology and confirmed publishing.

Naming follows nameko, so nameko services and plain AMQP clients meet on the same objects:

* ``<service>.events``: the durable topic exchange a service publishes to; routing key =
  event name (``assessment.recorded``).
* ``evt-<producer>-<event>--<service>.<consumer>``: the durable queue of one handler, named
  by the consumer name its ``@subscribe`` declares (never by its method, so that a renamed
  method keeps its queue).
* ``<queue>.retry``: where a failed message waits out its back-off; on expiry RabbitMQ
  dead-letters it back to ``<queue>`` through ``<service>.redelivery``.
* ``<service>.dead-letter``: where messages are parked, with the reason, once retries are
  exhausted or when they can never be handled (malformed, unknown type or version).
* ``<service>.redelivery``: the durable direct exchange of the consuming service through
  which failed messages go to its retry and dead-letter queues and back to its handler
  queues; each of those queues is bound to it with its own name as the routing key.

Each service may connect as a broker user of its own whose permissions cover only these
objects of its own (see :func:`broker_permissions`): before binding its queues to a
producer's exchange a service checks that the exchange exists (a passive declare, which
needs no permission), and declares it only when it is missing. No service needs the default
exchange, which would let it publish into any queue by name.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import amqp
from amqp.method_framing import frame_writer
from kombu.connection import Connection
from kombu.entity import Exchange, Queue, binding

from . import config
from .events import exchange_name

DEAD_LETTER_REASON = "x-dead-letter-reason"
ATTEMPTS = "x-attempts"
ORIGINAL_QUEUE = "x-original-queue"

log = logging.getLogger(__name__)


def event_exchange(service: str, *, passive: bool = False) -> Exchange:
    # the same arguments as nameko's own event exchange, so either may declare it first;
    # passive: only check that it exists
    return Exchange(
        exchange_name(service), type="topic", durable=True, delivery_mode=2, passive=passive
    )


def redelivery_exchange_name(service: str) -> str:
    return f"{service}.redelivery"


def redelivery_exchange(service: str) -> Exchange:
    return Exchange(redelivery_exchange_name(service), type="direct", durable=True, delivery_mode=2)


def consumer_queue_name(producer: str, event_name: str, service: str, consumer: str) -> str:
    return f"evt-{producer}-{event_name}--{service}.{consumer}"


def retry_queue_name(queue: str) -> str:
    return f"{queue}.retry"


def dead_letter_queue_name(service: str) -> str:
    return f"{service}.dead-letter"


@dataclass(frozen=True)
class Subscription:
    """One handler's queue, bound to the producer's exchange by event name."""

    producer: str
    event_name: str
    consumer: str  # the consuming service
    handler: str  # the consumer name its @subscribe declares
    queue_type: str = "classic"

    @property
    def queue_name(self) -> str:
        return consumer_queue_name(self.producer, self.event_name, self.consumer, self.handler)

    def queue(self) -> Queue:
        # declaring the queue again (as the consumer does at every connection) only checks
        # the producer's exchange: configuring it is the producer's right, not the consumer's
        return Queue(
            self.queue_name,
            bindings=[
                binding(event_exchange(self.producer, passive=True), self.event_name),
                binding(redelivery_exchange(self.consumer), self.queue_name),
            ],
            durable=True,
            queue_arguments=_queue_arguments(
                self.queue_type,
                dead_letter={
                    "x-dead-letter-exchange": redelivery_exchange_name(self.consumer),
                    "x-dead-letter-routing-key": dead_letter_queue_name(self.consumer),
                },
            ),
        )

    def retry_queue(self) -> Queue:
        # no consumer: messages expire (per-message TTL) back into the handler's queue
        arguments = {
            "x-dead-letter-exchange": redelivery_exchange_name(self.consumer),
            "x-dead-letter-routing-key": self.queue_name,
        }
        name = retry_queue_name(self.queue_name)
        return Queue(
            name,
            exchange=redelivery_exchange(self.consumer),
            routing_key=name,
            durable=True,
            queue_arguments={
                **_queue_arguments(self.queue_type, dead_letter=arguments),
                **arguments,
            },
        )


def dead_letter_queue(service: str, queue_type: str = "classic") -> Queue:
    name = dead_letter_queue_name(service)
    return Queue(
        name,
        exchange=redelivery_exchange(service),
        routing_key=name,
        durable=True,
        queue_arguments=_queue_arguments(queue_type),
    )


def _queue_arguments(queue_type: str, dead_letter: dict[str, str] | None = None) -> dict[str, Any]:
    """Nothing for a classic queue: its arguments stay those of every earlier release.

    A quorum queue gets an explicit delivery limit (``QUEUE_DELIVERY_LIMIT``) rather than
    the broker's default (RabbitMQ 4 sets 20), and refuses publishes when full rather than
    dropping its oldest message. Where it dead-letters (``dead_letter``: the exchange and
    routing key), it does so at least once, which RabbitMQ keeps only with
    ``reject-publish``: a handler queue's message redelivered more often than the limit
    (it keeps killing its consumers) lands in the service's dead-letter queue, not nowhere.
    """
    if queue_type == "classic":
        return {}
    arguments: dict[str, Any] = {
        "x-queue-type": queue_type,
        "x-delivery-limit": config.queue_delivery_limit(),
        "x-overflow": "reject-publish",
    }
    if dead_letter:
        arguments.update({"x-dead-letter-strategy": "at-least-once", **dead_letter})
    return arguments


def declare_topology(
    connection: Connection,
    *,
    publishes: Iterable[str] = (),
    subscriptions: Iterable[Subscription] = (),
    dead_letter_queues: Iterable[Queue] = (),
) -> None:
    """Declare exchanges, handler queues with their bindings, retry and dead-letter queues.

    Idempotent: safe to run at every start and from the ``declare-topology`` command.
    """
    subscriptions = list(subscriptions)
    for producer in sorted({s.producer for s in subscriptions} - set(publishes)):
        ensure_exchange(connection, event_exchange(producer))
    channel = connection.channel()
    try:
        for service in publishes:
            event_exchange(service)(channel).declare()
        for subscription in subscriptions:
            subscription.queue()(channel).declare()
        for queue in dead_letter_queues:
            queue(channel).declare()
    finally:
        channel.close()
    for subscription in subscriptions:
        declare_retry_queue(connection, subscription.retry_queue())


def declare_retry_queue(connection: Connection, queue: Queue) -> None:
    """Declare a retry queue and its binding; replace one declared with other arguments.

    A queue's arguments never change: RabbitMQ refuses (PRECONDITION_FAILED) to declare it
    again with others, such as a retry queue of an older topology, which dead-lettered
    through the default exchange. An empty classic queue is deleted (only if empty, in one
    step on the broker) and declared anew. One that holds messages is kept, and so is a
    quorum queue, which cannot be deleted only if empty: its messages still expire into their
    handler queue, and bound to the redelivery exchange it takes retries as before. A later
    declaration replaces a classic one once it is empty; a quorum one, once an operator
    deleted it.
    """
    try:
        on_channel(connection, lambda channel: queue(channel).declare())
        return
    except amqp.exceptions.PreconditionFailed as exc:
        differs = str(exc)
    kept = _delete_if_empty(connection, queue.name)
    if kept is None:
        on_channel(connection, lambda channel: queue(channel).declare())
        log.warning("retry queue %s declared anew", queue.name, extra={"reason": differs})
        return
    on_channel(connection, lambda channel: queue(channel).queue_bind())
    log.warning(
        "retry queue %s has other arguments and is kept: %s",
        queue.name,
        kept,
        extra={"reason": differs},
    )


def on_channel(connection: Connection, action: Callable[..., object]) -> None:
    # a channel of its own: a refused declaration closes the channel it was made on
    channel = connection.channel()
    try:
        action(channel)
    finally:
        with contextlib.suppress(OSError, amqp.exceptions.AMQPError):
            channel.close()


def _delete_if_empty(connection: Connection, queue: str) -> str | None:
    """Delete ``queue`` if it is empty; else say why it stays."""
    # on a connection of its own: quorum queues refuse if-empty with a connection error
    with connection.clone() as spare:
        try:
            spare.default_channel.queue_delete(queue, if_empty=True)
        except amqp.exceptions.PreconditionFailed:
            return "it holds messages; a later declaration replaces it once it is empty"
        except amqp.exceptions.AMQPNotImplementedError:
            return "a quorum queue cannot be deleted only if empty: delete it once it is empty"
    return None


def ensure_exchange(connection: Connection, exchange: Exchange) -> None:
    """Declare ``exchange`` unless it exists.

    Checking needs no permission; creating needs ``configure`` on it, which a service's own
    broker user has only for its own exchange. Run ``asn-admin declare-topology`` as an
    administrator first, and no service needs more.
    """
    for passive in (True, False):
        channel = connection.channel()
        try:
            exchange(channel).declare(passive=passive)
            return
        except amqp.exceptions.NotFound:
            if not passive:
                raise
        finally:
            with contextlib.suppress(OSError, amqp.exceptions.AMQPError):
                channel.close()


EVENT_STREAM = "asn.event-stream"


def event_stream(producers: Iterable[str]) -> Queue:
    """The stream of every event the ``producers`` publish, bound to each exchange with
    ``#``, kept for ``EVENT_STREAM_MAX_AGE`` and at most ``EVENT_STREAM_MAX_BYTES``; on a
    cluster, replicated on every node. Agencies read it from any offset (``asn-admin
    follow``); nothing consumes it away."""
    return Queue(
        EVENT_STREAM,
        bindings=[binding(event_exchange(producer), "#") for producer in sorted(producers)],
        durable=True,
        queue_arguments={
            "x-queue-type": "stream",
            "x-max-age": config.event_stream_max_age(),
            "x-max-length-bytes": config.event_stream_max_bytes(),
        },
    )


def declare_event_stream(connection: Connection, producers: Iterable[str]) -> str:
    """Declare the stream and bind it; say what was done.

    A stream's arguments never change in place: one declared with another retention is
    kept and bound again, and the operator changes its retention with a policy
    (``max-age``, ``max-length-bytes``), as the README shows.
    """
    stream = event_stream(producers)
    try:
        on_channel(connection, lambda channel: stream(channel).declare())
        return f"stream {EVENT_STREAM}: kept {config.event_stream_max_age()}, " + (
            f"at most {config.event_stream_max_bytes()} bytes"
        )
    except amqp.exceptions.PreconditionFailed as exc:
        on_channel(connection, lambda channel: stream(channel)._create_bindings())
        log.warning("stream %s kept as it is", EVENT_STREAM, extra={"reason": str(exc)})
        return f"stream {EVENT_STREAM}: kept with its own retention (change it with a policy)"


DEFAULT_EXCHANGE = "amq.default"  # RabbitMQ's name for "" in permissions


@dataclass(frozen=True)
class Permissions:
    """A broker user's permissions in a virtual host: RabbitMQ regular expressions."""

    configure: str
    write: str
    read: str


def broker_permissions(service: str, producers: Iterable[str] = ()) -> Permissions:
    """What the broker user of ``service`` may do, and nothing more.

    configure: its exchanges (events and redelivery), its handler and retry queues, its
    dead-letter queue.
    write: the same: publishing to its exchanges, binding its queues, and declaring a retry
    queue that dead-letters to its redelivery exchange. Not the default exchange.
    read: its queues (consuming), its redelivery exchange and the exchanges of the
    ``producers`` whose events it handles (binding a queue needs read on the exchange).
    """
    events, redelivery = (
        _literal(name) for name in (exchange_name(service), redelivery_exchange_name(service))
    )
    handler_queues = rf"evt-[a-z0-9_.-]+--{_literal(service)}\.[A-Za-z0-9_]+(\.retry)?"
    own_queues = [handler_queues, _literal(dead_letter_queue_name(service))]
    sources = [_literal(exchange_name(producer)) for producer in sorted(set(producers))]
    return Permissions(
        configure=_any_of(events, redelivery, *own_queues),
        write=_any_of(events, redelivery, *own_queues),
        read=_any_of(redelivery, *own_queues, *sources),
    )


def agency_permissions() -> Permissions:
    """What an agency's broker user may do: read the event stream, and nothing else (no
    queue of its own, no publishing, no service queue)."""
    return Permissions(configure="^$", write="^$", read=_any_of(_literal(EVENT_STREAM)))


def _literal(name: str) -> str:
    return re.escape(name).replace("\\-", "-")


def _any_of(*patterns: str) -> str:
    return f"^({'|'.join(patterns)})$"


@dataclass(frozen=True)
class OutgoingMessage:
    key: Any  # what the caller uses to recognise the confirmation
    exchange: str
    routing_key: str
    body: bytes
    properties: dict[str, Any]


class Unroutable(RuntimeError):
    """The broker returned a mandatory message: no queue is bound for its routing key."""


class PublishError(RuntimeError):
    """The broker did not confirm a batch in time, or the connection failed."""


class ConfirmingPublisher:
    """Publishes batches on one channel with publisher confirms.

    The whole batch is written before waiting, and the broker's (possibly ``multiple``) acks
    are matched to delivery tags: much faster than waiting for each message in turn, and
    still nothing is reported published that the broker did not confirm.
    """

    def __init__(self, amqp_uri: str, *, confirm_timeout: float = 30.0) -> None:
        self._uri = amqp_uri
        self._timeout = confirm_timeout
        self._connection: Connection | None = None
        self._channel: amqp.Channel | None = None
        self._declared: set[str] = set()
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._outcome: dict[int, bool] = {}

    def publish(self, messages: Sequence[OutgoingMessage]) -> list[Any]:
        """Publish; return the keys of the messages the broker confirmed. After a refusal
        (a nack) the next batch goes out on a new channel: RabbitMQ 3.10 keeps refusing
        what a channel opened while a quorum queue's leader was on a lost node publishes
        there, even once another node leads it, and a new channel finds the new leader."""
        try:
            confirmed = self._publish(messages)
        except (OSError, amqp.exceptions.AMQPError) as exc:
            self.close()
            raise PublishError(str(exc)) from exc
        if len(confirmed) < len(messages):
            self.close()
        return confirmed

    def _publish(self, messages: Sequence[OutgoingMessage]) -> list[Any]:
        connection, channel = self._open_channel()
        for exchange in {message.exchange for message in messages}:
            self._declare_exchange(channel, exchange)  # waits for the broker: not in the batch
        tags: dict[int, Any] = {}
        with frames_together(channel.connection):
            for message in messages:
                channel.basic_publish(
                    amqp.Message(message.body, **message.properties),
                    exchange=message.exchange,
                    routing_key=message.routing_key,
                )
                tags[self._next_tag] = message.key
                self._unconfirmed.add(self._next_tag)
                self._next_tag += 1
        while self._unconfirmed:
            try:
                connection.drain_events(timeout=self._timeout)
            except TimeoutError:
                raise PublishError(f"no confirm within {self._timeout}s") from None
        return [key for tag, key in tags.items() if self._outcome.pop(tag)]

    def _open_channel(self) -> tuple[Connection, amqp.Channel]:
        """The confirming channel, and its connection, opened if need be."""
        if self._connection is None or self._channel is None:
            self._connection = Connection(self._uri, heartbeat=0)
            self._connection.ensure_connection(max_retries=1)
            channel = self._connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_confirm(True))
            channel.events["basic_nack"].add(self._on_confirm(False))
            self._channel, self._next_tag = channel, 1
            self._unconfirmed, self._outcome, self._declared = set(), {}, set()
        return self._connection, self._channel

    def _on_confirm(self, confirmed: bool) -> Callable[[int, bool], None]:
        def record(delivery_tag: int, multiple: bool) -> None:
            settled = (
                [t for t in self._unconfirmed if t <= delivery_tag] if multiple else [delivery_tag]
            )
            for tag in settled:
                self._unconfirmed.discard(tag)
                self._outcome[tag] = confirmed

        return record

    def _declare_exchange(self, channel: amqp.Channel, name: str) -> None:
        if name and name not in self._declared:
            channel.exchange_declare(name, "topic", durable=True, auto_delete=False)
            self._declared.add(name)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail again
                pass
        self._connection = self._channel = None


@contextlib.contextmanager
def frames_together(connection: amqp.Connection) -> Iterator[None]:
    """The frames written on ``connection`` within go to its socket in one write once all are
    written (none when one failed): a socket write per message, through eventlet, cost as
    much as the rest of publishing or acknowledging it. Nothing within may wait for the
    broker, nor yield to another green thread that writes on the connection."""
    frames = _Frames()
    one_by_one, connection.frame_writer = connection.frame_writer, frame_writer(connection, frames)
    try:
        yield
    finally:
        connection.frame_writer = one_by_one
    connection.transport.write(b"".join(frames))


class _Frames(list[bytes]):
    """What py-amqp's frame writer needs of a transport, ``write``: here into the list (a
    copy, as the writer reuses its buffer)."""

    def write(self, data: bytes | memoryview) -> None:
        self.append(bytes(data))
