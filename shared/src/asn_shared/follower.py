"""``asn-admin follow``: an agency reads the suite's event stream from where it chooses.

The stream (:data:`asn_shared.messaging.EVENT_STREAM`) holds every event of the four
services for as long as its retention allows. A follower starts at the first event retained,
at a point in time, or at the offset its cursor file holds; it prints each event as one line
of CloudEvents JSON and, after the line is written, stores the offset of the next one in the
cursor file (overwritten in place, see :class:`Cursor`). A follower stopped by a signal
finishes the event in hand; one killed outright can print the one event in hand again
after its restart (the same CloudEvents ``id``), and never skips one. It reconnects by
itself, to the next broker of a failover list (``amqp://a;amqp://b``), and resumes at the
offset it had reached.

RabbitMQ stores no offset for an AMQP 0-9-1 stream consumer: the cursor is the client's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import amqp
from kombu.connection import Connection

from . import config
from .messaging import EVENT_STREAM

log = logging.getLogger(__name__)

NAMED_OFFSETS = ("first", "last", "next")
INTERVAL = re.compile(r"^\d+[YMDhms]$")  # RabbitMQ's relative offsets, e.g. 7D
CURSOR_WIDTH = 20  # digits: any 64-bit offset


def start_of(text: str) -> str | int | datetime:
    """What ``--from`` names: ``first`` / ``last`` / ``next``, an offset (a number), an
    interval back from now (``7D``, ``12h``), or a date or time (ISO 8601, UTC if no zone)."""
    if text in NAMED_OFFSETS or INTERVAL.match(text):
        return text
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--from takes first, last, next, an offset, an interval like 7D, or a date; "
            f"not {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


@dataclass
class Cursor:
    """The offset of the next event to read, kept in a file (or nowhere).

    The file is overwritten in place, always with a line of the same length, in one write:
    much cheaper than writing a new file and renaming it over the old one once per event,
    and a reader, or the follower after a kill, finds the old offset or the new, never a
    mix. After a power loss it may hold an older offset (events repeated, none skipped).
    """

    path: Path | None
    _fd: int | None = field(default=None, repr=False)

    def load(self) -> int | None:
        if self.path is None or not self.path.exists():
            return None
        text = self.path.read_text().strip()
        return int(text) if text else None

    def store(self, offset: int) -> None:
        if self.path is None:
            return
        record = f"{offset:<{CURSOR_WIDTH}}\n".encode()
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.pwrite(self._fd, record, 0)
            os.ftruncate(self._fd, len(record))  # after the write: a longer old file ends
            return
        os.pwrite(self._fd, record, 0)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class Follower:
    """Prints the stream's events from ``start`` (or the cursor's offset) to ``out``."""

    amqp_uri: str
    cursor: Cursor
    start: str | int | datetime = "first"
    types: frozenset[str] = frozenset()
    out: IO[str] | None = None
    prefetch: int = 200
    stop_when_idle: float | None = None  # seconds without a new event, then return
    stop: threading.Event = field(default_factory=threading.Event)
    printed: int = 0
    reconnects: int = 0
    _next: int | None = None
    _last_event: float = field(default_factory=time.monotonic)

    def run(self) -> int:
        """Follow until stopped (or idle long enough); return how many events were printed."""
        self._next = self.cursor.load()
        try:
            while not self.stop.is_set() and not self._idle():
                try:
                    self._consume()
                except (OSError, amqp.exceptions.AMQPError, ConnectionError) as exc:
                    self.reconnects += 1
                    log.warning("stream connection lost; reconnecting", extra={"reason": str(exc)})
                    self.stop.wait(1.0)
        finally:
            self.cursor.close()
        return self.printed

    def _idle(self) -> bool:
        return (
            self.stop_when_idle is not None
            and time.monotonic() - self._last_event >= self.stop_when_idle
        )

    def _offset(self) -> str | int | datetime:
        return self.start if self._next is None else self._next

    def _consume(self) -> None:
        with Connection(self.amqp_uri, heartbeat=0, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=3, interval_start=0.5)
            channel = connection.channel()
            channel.basic_qos(0, self.prefetch, False)  # per consumer: streams refuse global
            channel.basic_consume(
                EVENT_STREAM,
                callback=lambda message: self._on_message(channel, message),
                arguments={"x-stream-offset": self._offset()},
            )
            while not self.stop.is_set() and not self._idle():
                try:
                    connection.drain_events(timeout=0.5)
                except TimeoutError:
                    pass

    def _on_message(self, channel: amqp.Channel, message: amqp.Message) -> None:
        offset = message.headers["x-stream-offset"]
        if self._next is not None and offset < self._next:
            # a stream delivers whole chunks: what precedes the offset asked for is skipped
            channel.basic_ack(message.delivery_tag)
            return
        event = json.loads(message.body)
        if self._wanted(event, message.delivery_info.get("routing_key")):
            self._print(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
            self.printed += 1
        self._next = offset + 1
        self.cursor.store(self._next)
        channel.basic_ack(message.delivery_tag)
        self._last_event = time.monotonic()

    def _print(self, line: str) -> None:
        # the line and its newline in one write: print() writes them apart when Python runs
        # unbuffered, and a kill between the two would glue the repeated event onto this one
        out = self.out or sys.stdout
        out.write(line + "\n")
        out.flush()

    def _wanted(self, event: dict[str, Any], routing_key: str | None) -> bool:
        if self.types and not ({event.get("type"), routing_key} & self.types):
            return False
        # a stream starts at the chunk that holds the time asked for: earlier ones are skipped
        return not isinstance(self.start, datetime) or _time_of(event) >= self.start


def _time_of(event: dict[str, Any]) -> datetime:
    moment = datetime.fromisoformat(str(event.get("time")).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def follow(
    amqp_uri: str,
    *,
    start: str,
    types: Iterable[str] = (),
    cursor: str | None = None,
    stop_when_idle: float | None = None,
    out: IO[str] | None = None,
) -> Follower:
    """A follower as ``asn-admin follow`` builds it from its options."""
    return Follower(
        amqp_uri,
        Cursor(Path(cursor) if cursor else None),
        start_of(start),
        frozenset(types),
        out=out,
        stop_when_idle=stop_when_idle,
    )


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "follow", help="print the event stream as CloudEvents JSON lines (AMQP_URI: your user)"
    )
    parser.add_argument(
        "--from",
        dest="start",
        default="first",
        help="first (default), last, next, an offset, an interval like 7D, or a date/time",
    )
    parser.add_argument(
        "--type",
        dest="types",
        action="append",
        default=[],
        help="only this event (assessment.recorded, or the CloudEvents type); repeatable",
    )
    parser.add_argument("--cursor", help="file keeping the offset to resume from")
    parser.add_argument(
        "--stop-when-idle", type=float, help="return after this many seconds without an event"
    )


def main(args: argparse.Namespace) -> None:
    try:
        follower = follow(
            config.amqp_uri(),
            start=args.start,
            types=args.types,
            cursor=args.cursor,
            stop_when_idle=args.stop_when_idle,
        )
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: follower.stop.set())
    follower.run()
