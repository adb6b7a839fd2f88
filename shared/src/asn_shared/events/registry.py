"""The registry of event types: every event on the wire has a name, a version and a schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from marshmallow import EXCLUDE, Schema

from .compiled import dumper, loader

SchemaT = TypeVar("SchemaT", bound=Schema)

TYPE_PREFIX = "id.kompasasn"


class UnknownEventType(LookupError):
    """No event type of that name and version is registered."""


@dataclass(frozen=True)
class EventDefinition:
    """One version of one event type.

    ``name`` is the AMQP routing key (``assessment.recorded``); ``producer`` is the service
    that owns it and publishes to the ``<producer>.events`` exchange.
    """

    name: str
    version: int
    producer: str
    schema: type[Schema]
    summary: str

    @property
    def type(self) -> str:
        """The CloudEvents ``type``: reverse-DNS and versioned."""
        return f"{TYPE_PREFIX}.{self.producer}.{self.name}.v{self.version}"

    @property
    def exchange(self) -> str:
        return exchange_name(self.producer)

    @cached_property
    def writer(self) -> Schema:
        """The schema instance that checks and serialises data (strict: unknown fields refused).

        Instances are reused: building one per event costs more than the event itself.
        """
        return self.schema()

    @cached_property
    def reader(self) -> Schema:
        """The schema instance consumers load with: fields added later are ignored."""
        return self.schema(unknown=EXCLUDE)

    @cached_property
    def load(self) -> Callable[[Any], dict[str, Any]]:
        """``reader.load``, faster for good data (see :mod:`.compiled`)."""
        return loader(self.reader)

    @cached_property
    def dump(self) -> Callable[[Any], dict[str, Any]]:
        """``writer.dump``, faster (see :mod:`.compiled`)."""
        return dumper(self.writer)

    @cached_property
    def check(self) -> Callable[[Any], dict[str, Any]]:
        """``writer.load``, faster for good data: how a producer checks serialised data."""
        return loader(self.writer)


def exchange_name(service: str) -> str:
    """The topic exchange a service publishes to (nameko's own convention)."""
    return f"{service}.events"


class EventRegistry:
    def __init__(self) -> None:
        self._by_type: dict[str, EventDefinition] = {}

    def add(self, definition: EventDefinition) -> EventDefinition:
        known = self._by_type.get(definition.type)
        if known is not None and known.schema is not definition.schema:
            raise ValueError(f"event type {definition.type} is registered twice")
        self._by_type[definition.type] = definition
        return definition

    def by_type(self, ce_type: str) -> EventDefinition:
        try:
            return self._by_type[ce_type]
        except KeyError:
            raise UnknownEventType(f"unknown event type {ce_type!r}") from None

    def get(self, name: str, version: int) -> EventDefinition:
        for definition in self._by_type.values():
            if definition.name == name and definition.version == version:
                return definition
        raise UnknownEventType(f"unknown event {name!r} version {version}")

    def latest(self, name: str) -> EventDefinition:
        versions = [d for d in self._by_type.values() if d.name == name]
        if not versions:
            raise UnknownEventType(f"unknown event {name!r}")
        return max(versions, key=lambda d: d.version)

    def __iter__(self) -> Iterator[EventDefinition]:
        return iter(sorted(self._by_type.values(), key=lambda d: (d.producer, d.name, d.version)))


registry = EventRegistry()


def event_type(
    name: str, *, version: int, producer: str, registry: EventRegistry = registry
) -> Callable[[type[SchemaT]], type[SchemaT]]:
    """Class decorator: register a marshmallow schema as the body of an event type.

    The schema's docstring is the event's summary in the AsyncAPI document.
    """

    def register(schema: type[SchemaT]) -> type[SchemaT]:
        summary = (schema.__doc__ or name).strip().splitlines()[0]
        registry.add(EventDefinition(name, version, producer, schema, summary))
        return schema

    return register
