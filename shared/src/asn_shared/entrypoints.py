"""nameko entrypoints: ``subscribe`` for events, ``api`` for JSON over HTTP.

``subscribe`` replaces nameko's ``event_handler``, whose failing handlers either drop the
message or requeue it forever. Here a message is acknowledged only after its handler
returned (and so after its transaction committed); a failure is retried after a growing
delay, a bounded number of times, and then parked in the service's dead-letter queue with
the reason. A message that can never be handled (larger than ``EVENT_MAX_BYTES``, not JSON,
not a CloudEvent, unknown type or version, another event than the queue's, data that fails
the schema or holds NUL or lone surrogates) is parked at once. Nothing is dropped silently.

A handler takes its events in batches (``CONSUME_BATCH_SIZE``, or what arrived within
``CONSUME_BATCH_WAIT_MS``), one batch of a queue at a time, in queue order: one worker calls
the method once per event, and every ``self.db.handle_once`` of the batch shares one
transaction (see :class:`asn_shared.persistence.EventBatch`). The messages are settled after
its commit, each by its own outcome: acknowledged, or retried or parked alone.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import eventlet
from amqp.exceptions import AMQPError
from eventlet.event import Event as EventletEvent
from kombu.connection import Connection
from kombu.message import Message
from kombu.messaging import Consumer as KombuConsumer
from kombu.pools import producers
from marshmallow import ValidationError
from nameko.containers import WorkerContext
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import auth, logs, metrics
from .errors import ApplicationError
from .events import Event, InvalidEvent, parse_event, registry
from .messaging import (
    ATTEMPTS,
    DEAD_LETTER_REASON,
    ORIGINAL_QUEUE,
    Subscription,
    Unroutable,
    dead_letter_queue,
    dead_letter_queue_name,
    declare_topology,
    frames_together,
    redelivery_exchange_name,
    retry_queue_name,
)
from .persistence import EventBatch
from .settings import of_container
from .web import (
    PayloadTooLarge,
    Problem,
    json_response,
    may_hold_unstorable,
    response_for,
    size_text,
    unstorable,
    unstorable_text,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .base import ServiceBase

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]
Method = TypeVar("Method", bound=Callable[..., Any])


class MethodDecorator(Protocol):
    """An entrypoint's decorator (nameko's ``Entrypoint.decorator``): the method is kept as it
    is, with the entrypoint attached."""

    def __call__(self, *args: Any, **kwargs: Any) -> Callable[[Method], Method]: ...


MAX_RETRY_DELAY = 300.0  # seconds; back-off doubles up to this

REPUBLISHED_PROPERTIES = (
    "content_type",
    "content_encoding",
    "message_id",
    "type",
    "timestamp",
    "correlation_id",
)


class RawQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but handing over undecoded messages.

    kombu would otherwise decode bodies itself, and an undecodable body from a foreign
    publisher would crash the consumer instead of reaching the dead-letter queue.
    """

    @property
    def prefetch_count(self) -> int:
        """``MAX_WORKERS``, or two batches per handler queue if that is more: one being
        handled, the next one filling."""
        batch_size = of_container(self.container).consume_batch_size
        return max(int(self.container.max_workers), 2 * batch_size)

    def get_consumers(
        self, consumer_cls: Callable[..., KombuConsumer], channel: object
    ) -> Iterable[KombuConsumer]:
        consumers: dict[EventSubscriber, KombuConsumer] = self._consumers
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[provider.queue],
                on_message=partial(self.handle_message, provider, None),
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            consumers[provider] = consumer
        return consumers.values()

    def unregister_provider(self, provider: EventSubscriber) -> None:
        """nameko's, but a service stopped while its consumers start (Ctrl-C or SIGTERM in
        the first seconds) stops cleanly: nameko would announce the last provider gone once
        per provider, and every announcement after the first fails the stop."""
        if not self._consumers_ready.ready():
            if not self._last_provider_unregistered.ready():
                self._last_provider_unregistered.send()
            return
        super().unregister_provider(provider)

    lost_channel = None  # where a worker found the connection gone (before the consumer thread)

    def ack_message(self, message: Message) -> None:
        self._settle(super().ack_message, message)

    def ack_messages(self, messages: list[Message]) -> None:
        """Acknowledge a batch's messages, those of one channel with one socket write."""
        by_channel: dict[Any, list[Message]] = {}
        for message in messages:
            if message.channel.connection:  # else the broker has taken it back already
                by_channel.setdefault(message.channel, []).append(message)
        for group in by_channel.values():
            self._settle(partial(_ack_together, group), group[0])

    def requeue_message(self, message: Message) -> None:
        self._settle(super().requeue_message, message)

    def _settle(self, settle: Callable[[Message], None], message: Message) -> None:
        """Ack or requeue, surviving a connection the broker has just dropped.

        nameko skips a message whose connection is known to be closed, but a socket reset
        that the consumer thread has not noticed yet (a broker restart, a cluster node
        killed) makes the write raise OSError; escaping the worker, that would stop the
        whole service. The broker redelivers the unsettled message on the next connection;
        the inbox drops the copy.
        """
        try:
            settle(message)
        except (OSError, AMQPError) as exc:
            log.warning(
                "message not settled: the connection is gone; the broker will redeliver it",
                extra={"reason": f"{type(exc).__name__}: {exc}"},
            )
            self.lost_channel = message.channel

    def on_iteration(self) -> None:
        """nameko's, but a connection a worker found gone restarts the consumers. The failed
        write marks the connection closed, and kombu would then quietly open a new one for
        the consumer thread to wait on, without any consumer on it: the service would
        receive nothing more, and never say why."""
        lost, self.lost_channel = self.lost_channel, None
        if lost is not None and any(c.channel is lost for c in self._consumers.values()):
            raise ConnectionError("a message could not be settled: the connection is gone")
        super().on_iteration()

    def republish(
        self,
        message: Message,
        *,
        exchange: str,
        routing_key: str,
        headers: dict[str, Any],
        expiration: float | None = None,
    ) -> None:
        """Publish a copy of ``message`` to the service's redelivery ``exchange``, confirmed.

        Mandatory: a copy no queue is bound for comes back from the broker and raises
        :class:`Unroutable` instead of vanishing.
        """
        properties = {
            k: message.properties[k]
            for k in REPUBLISHED_PROPERTIES
            if message.properties.get(k) is not None
        }
        returned: list[str] = []

        def on_return(_error: object, _exchange: str, key: str, _message: object) -> None:
            returned.append(key)

        connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
        with producers[connection].acquire(block=True, timeout=10) as producer:
            events = producer.channel.events["basic_return"]
            events.add(on_return)  # the broker returns the copy before it confirms it
            try:
                producer.publish(
                    message.body,
                    exchange=exchange,
                    routing_key=routing_key,
                    mandatory=True,
                    headers=headers,
                    expiration=expiration,
                    delivery_mode=2,
                    retry=True,
                    **properties,
                )
            finally:
                events.discard(on_return)
        if returned:
            raise Unroutable(f"no queue bound to {exchange} for {routing_key}")


CONSUMER_NAME = re.compile(r"[a-z][a-z0-9_]*")


class EventSubscriber(Consumer):
    """``@subscribe("enrollment.completed", consumer="development")``.

    ``consumer`` names the handler for good: its queue
    (``evt-<producer>-<event>--<service>.<consumer>``), the queue's retry queue and its
    inbox identity (``<service>.<consumer>``) keep that name whatever the method is called,
    so renaming a method orphans no queue and forgets no event. ``formerly`` lists names
    the handler had before: ``asn-admin declare-topology`` moves what still waits in their
    queues to the new ones and deletes them, and a service migration renames their inbox
    rows (see :func:`asn_shared.migrations.rename_inbox_consumers`).

    ``own_subject=True`` declares that the use case reads and changes only rows of its
    event's subject (and rows no event of this queue changes), and that none of its queries
    needs to see a change it made itself earlier (autoflush is off while it runs: an object
    it changed reads as changed, a query finds the rows as they were): the ORM rows of a
    batch's events are then written together when the batch ends, a table's rows in one
    INSERT, rather than each event's in a flush of its own (see
    :class:`asn_shared.persistence.EventBatch`).
    """

    queue_consumer = RawQueueConsumer()

    def __init__(
        self,
        event_name: str,
        version: int = 1,
        *,
        consumer: str | None = None,
        formerly: str | tuple[str, ...] = (),
        own_subject: bool = False,
        **kwargs: Any,
    ) -> None:
        self.event_name = event_name
        self.version = version
        self.own_subject = own_subject
        self.consumer = consumer_name(consumer, event_name)
        former = (formerly,) if isinstance(formerly, str) else tuple(formerly)
        self.formerly = tuple(consumer_name(name, event_name) for name in former)
        super().__init__(queue=None, **kwargs)

    @classmethod
    def decorator(cls, *args: Any, **kwargs: Any) -> Callable[[Method], Method]:
        """nameko's, but the method is made ready to be called with a batch of events."""
        register = super().decorator(*args, **kwargs)
        return lambda method: register(batch_aware(method))

    def subscription(self, service: str, queue_type: str) -> Subscription:
        return self._subscription(service, self.consumer, queue_type)

    def former_subscriptions(self, service: str, queue_type: str) -> list[Subscription]:
        """The subscriptions of the names this handler had before, oldest last."""
        return [self._subscription(service, name, queue_type) for name in self.formerly]

    def _subscription(self, service: str, consumer: str, queue_type: str) -> Subscription:
        definition = registry.get(self.event_name, self.version)
        return Subscription(definition.producer, definition.name, service, consumer, queue_type)

    def setup(self) -> None:
        settings = of_container(self.container)
        self.service = self.container.service_name
        self.max_attempts = settings.event_max_attempts
        self.retry_delay = settings.event_retry_delay
        self.max_bytes = settings.event_max_bytes
        self.batch_size = settings.consume_batch_size
        self.batch_wait = settings.consume_batch_wait_ms / 1000
        self._pending: list[tuple[Message, Event]] = []
        self._busy = self._stopping = False
        self._timer: Any = None
        queue_type = settings.queue_type
        subscribers_of(self.container.service_cls)  # no start with two handlers on one name
        subscription = self.subscription(self.service, queue_type)
        with Connection(settings.amqp_uri) as connection:
            declare_topology(
                connection,
                subscriptions=[subscription],
                dead_letter_queues=[dead_letter_queue(self.service, queue_type)],
            )
        self.queue = subscription.queue()
        super().setup()

    def _count(self, event_label: str, outcome: str) -> None:
        metrics.EVENTS_HANDLED.labels(self.service, event_label, self.method_name, outcome).inc()

    def handle_message(self, body: object, message: Message) -> None:
        event, refusal = self._accept(message)
        if refusal is not None:
            self._park(message, refusal, label=event.name if event else self.event_name)
            return
        assert event is not None  # _accept gives the event whenever it refuses nothing
        if event.definition.version != self.version:
            # another version published side by side: this handler follows its own only
            self._count(event.name, "skipped")
            self.queue_consumer.ack_message(message)
            return
        self._pending.append((message, event))
        self._schedule()

    def _schedule(self) -> None:
        """Hand the waiting events to a worker when they fill a batch, or once the first
        of them waited ``CONSUME_BATCH_WAIT_MS``; never while a batch of this queue runs."""
        if self._busy or self._stopping or not self._pending:
            return
        if len(self._pending) >= self.batch_size or self.batch_wait <= 0:
            self._flush()
        elif self._timer is None:
            self._timer = eventlet.spawn_after(self.batch_wait, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()  # not started yet; a no-op from within the timer itself
            self._timer = None
        if self._busy or self._stopping or not self._pending:
            return
        taken, self._pending = self._pending[: self.batch_size], self._pending[self.batch_size :]
        messages = [message for message, _ in taken]
        batch = EventBatch([event for _, event in taken])
        first = batch.events[0]
        context_data = {"correlation_id": first.correlation_id or first.id, "event_id": first.id}
        handle_result = partial(self.handle_result, messages, batch, time.perf_counter())
        self._busy = True
        try:
            self.container.spawn_worker(
                self, (batch,), {}, context_data=context_data, handle_result=handle_result
            )
        except ContainerBeingKilled:
            self._busy = False
            for message in messages:
                self.queue_consumer.requeue_message(message)

    def stop(self) -> None:
        self._give_back()
        super().stop()

    def kill(self) -> None:
        self._give_back()
        super().kill()

    def _give_back(self) -> None:
        """The events not handed to a worker yet go back to the queue, for another replica
        or the next start."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        for message, _ in pending:
            self.queue_consumer.requeue_message(message)

    def _accept(self, message: Message) -> tuple[Event | None, str | None]:
        """The event ``message`` carries, and why it can never be handled here (or None)."""
        size = _body_size(message.body)
        if size > self.max_bytes:
            return (
                None,
                f"body of {size} bytes is over EVENT_MAX_BYTES, {size_text(self.max_bytes)}",
            )
        try:
            event = parse_event(message.body)
        except InvalidEvent as exc:
            return None, str(exc)
        if event.definition.name != self.event_name:
            # the publisher's routing key disagrees with the type
            return event, f"{event.type} arrived on the queue of {self.event_name}"
        problems = unstorable(event.data) if may_hold_unstorable(message.body) else None
        if problems:  # fits the schema, but no handler could store it
            return event, f"{event.type}: data holds text that cannot be stored: {problems}"
        return event, None

    def handle_result(
        self,
        messages: list[Message],
        batch: EventBatch,
        started: float,
        worker_ctx: WorkerContext,
        result: object = None,
        exc_info: ExcInfo | None = None,
    ) -> tuple[object, ExcInfo | None]:
        """Settle each message of a batch after its commit: acknowledged, or retried or
        parked alone; every one of them retried when the batch itself failed."""
        elapsed, handled = time.perf_counter() - started, []
        for position, (message, event) in enumerate(zip(messages, batch.events, strict=True)):
            labels = (self.service, event.name, self.method_name)
            metrics.HANDLER_LATENCY.labels(*labels).observe(elapsed)
            error = exc_info[1] if exc_info is not None else batch.failures.get(position)
            if error is None:
                self._count(event.name, "handled")
                handled.append(message)
            else:
                metrics.HANDLER_FAILURES.labels(*labels).inc()
                self._retry_or_park(message, event, error)
        self.queue_consumer.ack_messages(handled)
        self._busy = False
        if self._pending and not self._stopping:
            # not in this worker: it holds a slot of the pool the next batch waits for
            self.container.spawn_managed_thread(self._schedule)
        return result, exc_info

    def _retry_or_park(self, message: Message, event: Event, error: BaseException) -> None:
        attempts = int(message.headers.get(ATTEMPTS, 0)) + 1
        reason = f"{type(error).__name__}: {error}"
        if attempts >= self.max_attempts:
            self._park(
                message,
                f"failed {attempts} times; last error {reason}",
                label=event.name,
                attempts=attempts,
            )
            return
        delay = min(self.retry_delay * 2 ** (attempts - 1), MAX_RETRY_DELAY)
        headers = {**message.headers, ATTEMPTS: attempts, DEAD_LETTER_REASON: reason}
        self._republish_then_ack(
            message,
            routing_key=retry_queue_name(self.queue.name),
            headers=headers,
            expiration=delay,
        )
        self._count(event.name, "retried")
        log.warning(
            "event handler failed, retrying in %.1fs",
            delay,
            extra={"attempt": attempts, "queue": self.queue.name, "reason": reason},
        )

    def _park(self, message: Message, reason: str, *, label: str, attempts: int = 0) -> None:
        headers = {
            **message.headers,
            DEAD_LETTER_REASON: reason,
            ORIGINAL_QUEUE: self.queue.name,
            ATTEMPTS: attempts,
        }
        self._republish_then_ack(
            message, routing_key=dead_letter_queue_name(self.service), headers=headers
        )
        self._count(label, "dead_lettered")
        log.error(
            "message dead-lettered",
            extra={
                "queue": self.queue.name,
                "reason": reason,
                "message_id": message.properties.get("message_id"),
            },
        )

    def _republish_then_ack(self, message: Message, **publish: Any) -> None:
        exchange = redelivery_exchange_name(self.service)
        try:
            self.queue_consumer.republish(message, exchange=exchange, **publish)
        except Exception:
            log.exception("could not republish a failed message; it stays on its queue")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


BATCH_AWARE = "asn_shared_batch_aware"


def _ack_together(messages: list[Message], _first: Message) -> None:
    with frames_together(messages[0].channel.connection):
        for message in messages:
            message.ack()


def batch_aware(method: Method) -> Method:
    """``method(self, event)`` that can also be called with an :class:`EventBatch`: then it
    runs once per event, in order, inside the batch's transaction, each event's ids in the
    log lines it writes."""
    if getattr(method, BATCH_AWARE, False):  # a method with several @subscribe
        return method

    @functools.wraps(method)
    def handler(service: Any, event: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(event, EventBatch):
            return method(service, event, *args, **kwargs)

        def handle(_position: int, one: Event) -> None:
            logs.correlation_id.set(one.correlation_id or one.id)
            logs.event_id.set(one.id)
            method(service, one, *args, **kwargs)

        event.run(handle)
        return None

    setattr(handler, BATCH_AWARE, True)
    return handler  # type: ignore[return-value]


def _body_size(body: bytes | str | None) -> int:
    """Bytes on the wire: py-amqp hands over a body it could decode as ``str``."""
    if isinstance(body, str):
        return len(body.encode("utf-8", "surrogatepass"))
    return len(body or b"")


def subscribers_of(service_cls: type[ServiceBase]) -> list[EventSubscriber]:
    """The event handlers of ``service_cls``; a ValueError when two of them would share a
    queue, or two methods a consumer name (and so an inbox identity)."""
    found: list[EventSubscriber] = []
    owners: dict[str, str] = {}  # consumer name: method
    queues: set[tuple[str, str]] = set()  # (event, consumer name)
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for subscriber in getattr(method, "nameko_entrypoints", ()):
            if not isinstance(subscriber, EventSubscriber):
                continue
            subscriber.method_name = method_name
            for name in (subscriber.consumer, *subscriber.formerly):
                owner = owners.setdefault(name, method_name)
                if owner != method_name:
                    raise ValueError(
                        f"{service_cls.name}: consumer name {name!r} is used by {owner} "
                        f"and {method_name}"
                    )
            queue = (subscriber.event_name, subscriber.consumer)
            if queue in queues:
                raise ValueError(
                    f"{service_cls.name}: {subscriber.event_name} twice under consumer "
                    f"{subscriber.consumer!r}: give each handler its own name"
                )
            queues.add(queue)
            found.append(subscriber)
    return found


def consumer_name(name: str | None, event_name: str) -> str:
    """``name`` if it can name a queue and an inbox identity; else a ValueError saying why."""
    if not name:
        raise ValueError(
            f'@subscribe("{event_name}") needs consumer="<name>": the name its queue and '
            "inbox keep, whatever the method is called"
        )
    if not CONSUMER_NAME.fullmatch(name):
        raise ValueError(
            f"consumer name {name!r} of {event_name}: lower-case letters, digits and "
            "underscores, starting with a letter"
        )
    return name


subscribe: MethodDecorator = EventSubscriber.decorator


class ApiRequest(Request):
    """A request as a route's handler gets it: the values of the path's parameters, the
    verified caller (None on a public route) and the limit of a JSON body, set before the
    handler runs."""

    path_values: dict[str, Any]
    principal: auth.Principal | None
    max_json_bytes: int


class ProblemWsgiApp(WsgiApp):
    """nameko's WSGI app, but unknown routes and methods answer in problem+json."""

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = ApiRequest(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        response: Response
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = response_for(exc)
        return response(environ, start_response)


class ProblemWebServer(WebServer):
    def get_wsgi_app(self) -> ProblemWsgiApp:
        return ProblemWsgiApp(self)

    def context_data_from_headers(self, request: Request) -> dict[str, str]:
        return {"correlation_id": request.headers.get("X-Correlation-ID") or str(uuid.uuid4())}


class JsonApi(HttpRequestHandler):
    """``@api("GET", "/path", ...)``: return a payload, ``(status, payload)`` or a Response.

    Payloads are encoded as JSON; exceptions become problem+json (see :mod:`.web`). The
    keyword arguments ``summary``, ``tags``, ``request``, ``query``, ``response``, ``many``
    and ``status`` document the route in the service's OpenAPI document.

    ``roles`` names who may call the route (default: ``admin`` only); the verified caller is
    ``request.principal`` (see :mod:`.auth`). ``public=True`` lets anyone in (health, metrics).

    A body larger than ``max_body`` bytes (default ``HTTP_MAX_BODY_BYTES``, 8 MiB) is refused
    with 413 before any worker runs; JSON bodies have a lower limit (see :func:`.web.load_json`).
    """

    server = ProblemWebServer()
    DOC_KEYS = ("summary", "tags", "request", "query", "response", "many", "status")

    def __init__(
        self,
        method: str,
        url: str,
        *,
        roles: tuple[str, ...] = (auth.ADMIN,),
        public: bool = False,
        max_body: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.doc = {key: kwargs.pop(key) for key in self.DOC_KEYS if key in kwargs}
        unknown = set(roles) - set(auth.ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)} on {method} {url}")
        self.roles = tuple(roles)
        self.public = public
        self.max_body = max_body
        kwargs.setdefault("expected_exceptions", (ApplicationError, Problem, ValidationError))
        super().__init__(method, url, **kwargs)

    def setup(self) -> None:
        super().setup()
        settings = of_container(self.container)
        if self.max_body is None:
            self.max_body = settings.http_max_body_bytes
        self.max_json = settings.http_max_json_bytes
        if not self.public:
            auth.verifier()  # no key, no start: better than refusing every request later

    def check_request(self, request: ApiRequest) -> None:
        """Refuse, before any work, a body over the limit and path values no row can match."""
        assert self.max_body is not None  # setup() gave it the setting's value
        if (request.content_length or 0) > self.max_body:
            raise PayloadTooLarge.over("The request body", self.max_body)
        request.max_content_length = self.max_body  # also bounds multipart parsing
        request.max_json_bytes = self.max_json  # web.load_json's limit
        errors = {
            name: [reason]
            for name, value in request.path_values.items()
            if isinstance(value, str) and (reason := unstorable_text(value))
        }
        if errors:
            raise Problem("The path has invalid parameters.", errors=errors)

    def authorize(self, request: ApiRequest) -> None:
        request.principal = None
        if self.public:
            return
        request.principal = auth.authenticate(request)
        request.principal.require(*self.roles)

    def handle_request(self, request: ApiRequest) -> Response:
        request.shallow = False
        context_data = self.server.context_data_from_headers(request)
        try:
            self.authorize(request)
            self.check_request(request)
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            done = EventletEvent()
            self.container.spawn_worker(
                self,
                args,
                kwargs,
                context_data=context_data,
                handle_result=partial(self.handle_result, done),
            )
            response = self.response_from_result(done.wait())
        except Exception as exc:  # noqa: BLE001 - every failure becomes a problem response
            response = response_for(exc, correlation_id=context_data["correlation_id"])
        response.headers["X-Correlation-ID"] = context_data["correlation_id"]
        metrics.HTTP_REQUESTS.labels(
            self.container.service_name, request.method, self.url, response.status_code
        ).inc()
        return response

    def response_from_result(self, result: object) -> Response:
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status=204)
        if isinstance(result, tuple):
            status, payload = result
            return json_response(payload, status)
        return json_response(result)


api: MethodDecorator = JsonApi.decorator
