"""Events in tests: publish as a producer would, and tap what services publish."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from kombu import Connection, Exchange, Producer, Queue

from ..events import Event, new_event, registry
from ..messaging import event_exchange


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
    exchange = event_exchange(event.definition.producer)
    with Connection(amqp_uri) as connection:
        producer = Producer(connection, exchange=exchange)
        for _ in range(times):
            producer.publish(
                event.to_json(),
                routing_key=event.name,
                declare=[exchange],
                retry=True,
                **event.amqp_properties(),
            )
    return event


class EventTap:
    """A queue of the test's own, bound to producers' exchanges before anything happens.

    Everything published there from then on is kept, as CloudEvent dicts, by event name.
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

    def _take(self, timeout: float) -> bool:
        try:
            message = self.queue.get(block=True, timeout=timeout)
        except self.queue.Empty:
            return False
        message.ack()
        self.seen.append((message.delivery_info["routing_key"], json.loads(message.body)))
        return True

    def named(self, name: str) -> list[dict[str, Any]]:
        return [body for key, body in self.seen if key == name]

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
