"""What a test needs to know of a service that no HTTP API shows: the events it announced.

Every service writes the events it publishes to its own ``outbox`` table, in the same
transaction as the change they announce, and a relay publishes them from there (see
``asn_shared.outbox``). No API lists that table, and nothing else can stand in for it: the
broker's view (a tap on the exchanges) shows what reached the wire, each copy of a row the
relay published again included, not what the service committed. Checks that an event was
*announced exactly once* therefore read the outbox, through these functions alone; every
other question goes to the services' HTTP APIs.

One function per question; each takes the service's database URL (``Suite.databases``),
opens a connection of its own and reads nothing else than the ``outbox`` table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from asn_shared.persistence import make_engine

BODY = "convert_from(body, 'UTF8')::jsonb"  # the CloudEvent as the relay publishes it


@dataclass(frozen=True)
class Announcement:
    """One event a service committed: its id, its type (routing key) and its ``data``."""

    id: str
    type: str
    data: dict[str, Any]


def _rows(database_url: str, sql: str, **params: Any) -> list[Any]:
    engine: Engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()


def outbox_position(database_url: str) -> int:
    """The outbox's last sequence number (0 when empty): what :func:`published_by_type`
    counts from. ``outbox.seq``; no API shows how far a service's announcements go."""
    [(seq,)] = _rows(database_url, "SELECT coalesce(max(seq), 0) FROM outbox")
    return int(seq)


def published_by_type(database_url: str, after: int = 0) -> Counter[str]:
    """How many events of each type the service committed after sequence number ``after``
    (``outbox.routing_key``): the events *published*, each once, whatever the wire saw."""
    rows = _rows(
        database_url,
        "SELECT routing_key, count(*) FROM outbox WHERE seq > :after GROUP BY routing_key",
        after=after,
    )
    return Counter({routing_key: count for routing_key, count in rows})


def announcements_of(database_url: str, types: Iterable[str], key: str) -> Counter[str]:
    """How many times each thing was announced by an event of ``types``, the thing named by
    the events' ``data[key]`` (``proposal_id``, ``delivery_id``): the exactly-once checks.
    ``outbox.body``; an API shows the thing, never how often it was announced."""
    rows = _rows(
        database_url,
        f"SELECT {BODY} -> 'data' ->> :key, count(*) FROM outbox "
        "WHERE routing_key = ANY(:types) GROUP BY 1",
        key=key,
        types=list(types),
    )
    return Counter({thing: count for thing, count in rows})


def announcements(database_url: str) -> list[Announcement]:
    """Every event the service committed, oldest first (``outbox``): what notification's
    rules must have turned into deliveries."""
    rows = _rows(
        database_url, f"SELECT id::text, routing_key, {BODY} -> 'data' FROM outbox ORDER BY seq"
    )
    return [Announcement(event_id, type_, data) for event_id, type_, data in rows]
