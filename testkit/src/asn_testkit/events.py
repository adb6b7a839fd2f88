"""Events in tests: publish as a producer would, and tap what services publish."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from kombu import Connection, Exchange, Producer, Queue
from kombu.message import Message

from asn_shared.events import Event, new_event, registry
from asn_shared.messaging import event_exchange


def publish(
    amqp_uri: str,
    name: str | None = None,
    data: dict[str, Any] | None = None,
    *,
    event: Event | None = None,
    times: int = 1,
    version: int = 1,
) -> Event:
    """Publish an event (``times`` deliveries of the same one); ``event=`` redelivers it."""
    event = event or new_event(registry.get(name, version), data)
    return publish_many(amqp_uri, [event], times=times)[0]


def publish_many(amqp_uri: str, events: Iterable[Event], *, times: int = 1) -> list[Event]:
    """Publish ``events`` in order over one connection, each ``times`` times in a row."""
    events = list(events)
    with Connection(amqp_uri) as connection:
        producer = Producer(connection)
        for event in events:
            exchange = event_exchange(event.definition.producer)
            for _ in range(times):
                producer.publish(
                    event.to_json(),
                    exchange=exchange,
                    routing_key=event.name,
                    declare=[exchange],
                    retry=True,
                    **event.amqp_properties(),
                )
    return events


def employee_data(
    nip: str,
    unit_code: str = "KEL-PLAJU-ULU",
    unit_name: str = "Kelurahan Plaju Ulu",
    **fields: Any,
) -> dict[str, Any]:
    """The data of ``employee.registered`` as competency announces an employee: a member of a
    Plaju kelurahan's staff, but for what ``fields`` say."""
    return {
        "nip": nip,
        "name": "Siti Rahmawati",
        "sex": "P",
        "golongan": "III/b",
        "unit": {"code": unit_code, "name": unit_name, "parent_code": None},
        "jabatan": None,
        "email": "siti@plaju.test",
        "phone": None,
        "supervisor_nip": None,
        "language": "id",
        "version": 1,
        **fields,
    }


def publish_raw(producer: Producer, body: bytes) -> None:
    """A persistent CloudEvent body sent as plain kombu sends it, with no envelope or outbox of
    ours: the benchmarks' baseline (with confirms when the connection asks for them)."""
    producer.publish(
        body,
        routing_key="measure.taken",
        delivery_mode=2,
        content_type="application/cloudevents+json",
        content_encoding="utf-8",
    )


def drain_queue(amqp_uri: str, queue: str, *, expect: int, timeout: float = 30.0) -> list[Message]:
    """Take messages off an existing ``queue`` (a dead-letter queue, say), acking them, until
    ``expect`` arrived or ``timeout`` passed; the caller asserts how many it got."""
    taken: list[Message] = []
    deadline = time.monotonic() + timeout
    with Connection(amqp_uri) as connection:
        simple = connection.SimpleQueue(Queue(queue, durable=True, no_declare=True))
        while len(taken) < expect and time.monotonic() < deadline:
            try:
                message = simple.get(block=True, timeout=0.5)
            except simple.Empty:
                continue
            message.ack()
            taken.append(message)
        simple.close()
    return taken


class EventTap:
    """A queue of the test's own, bound to producers' exchanges before anything happens.

    Everything published there from then on is kept in arrival order: ``seen`` holds
    (event name, CloudEvent dict) pairs and ``messages`` the kombu messages themselves (for
    AMQP properties). ``until`` takes one message at a time and returns as soon as its
    predicate holds; ``settle`` takes the stragglers (a duplicate would show there).
    """

    def __init__(self, amqp_uri: str, *producers: str, routing_key: str = "#") -> None:
        self.connection = Connection(amqp_uri)
        name = f"test-tap-{uuid.uuid4().hex[:8]}"
        channel = self.connection.channel()
        for producer in producers:
            Queue(
                name,
                Exchange(f"{producer}.events", "topic", durable=True),
                routing_key=routing_key,
                durable=False,
            )(channel).declare()
        self.queue = self.connection.SimpleQueue(Queue(name, no_declare=True))
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.messages: list[Message] = []

    def _take(self, timeout: float) -> bool:
        try:
            message = self.queue.get(block=True, timeout=timeout)
        except self.queue.Empty:
            return False
        message.ack()
        self.seen.append((message.delivery_info["routing_key"], json.loads(message.body)))
        self.messages.append(message)
        return True

    def named(self, name: str) -> list[dict[str, Any]]:
        return [body for key, body in self.seen if key == name]

    def data(self, name: str) -> list[dict[str, Any]]:
        """The ``data`` of every ``name`` event seen so far."""
        return [body["data"] for body in self.named(name)]

    def matching(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Every CloudEvent dict seen so far for which ``predicate`` holds."""
        return [body for _, body in self.seen if predicate(body)]

    def until(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                names = [key for key, _ in self.seen]
                raise AssertionError(f"timed out after {timeout}s; events seen: {names}")
            self._take(0.1)

    def wait(self, name: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` events of ``name`` were seen; return them all."""
        self.until(lambda: len(self.named(name)) >= count, timeout)
        return self.named(name)

    def settle(self, quiet: float = 1.0) -> list[tuple[str, dict[str, Any]]]:
        """Take everything until nothing arrives for ``quiet`` seconds."""
        while self._take(quiet):
            pass
        return self.seen

    def close(self) -> None:
        self.queue.close()
        self.connection.release()
