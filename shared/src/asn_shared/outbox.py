"""The outbox relay: publishes committed outbox rows to RabbitMQ with publisher confirms.

Each batch is locked with ``FOR UPDATE SKIP LOCKED`` for as long as it is being published,
so any number of relay replicas can share one outbox and never publish a row concurrently.
A row is marked published only after the broker confirmed it; a crash in between means the
row is published again (at least once), and consumers' inboxes drop the duplicate.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import Engine, delete, func, select, update

from . import metrics
from .events import amqp_properties
from .messaging import ConfirmingPublisher, OutgoingMessage, PublishError
from .persistence import inbox, outbox

log = logging.getLogger(__name__)

PRUNE_INTERVAL = 3600.0


class OutboxRelay:
    def __init__(
        self, engine: Engine, publisher: ConfirmingPublisher, *, service: str, batch_size: int = 500
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.service = service
        self.batch_size = batch_size

    def relay_batch(self) -> int:
        """Publish one batch of unpublished rows; return how many the broker confirmed.
        Raises :class:`PublishError` when it refused some: those stay unpublished."""
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(
                    outbox.c.id,
                    outbox.c.exchange,
                    outbox.c.routing_key,
                    outbox.c.type,
                    outbox.c.body,
                    outbox.c.occurred_at,
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            confirmed = self.publisher.publish(
                [
                    OutgoingMessage(
                        row.id,
                        row.exchange,
                        row.routing_key,
                        row.body,
                        amqp_properties(row.id, row.type, row.occurred_at),
                    )
                    for row in rows
                ]
            )
            if confirmed:
                connection.execute(
                    update(outbox).where(outbox.c.id.in_(confirmed)).values(published_at=func.now())
                )
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(confirmed))
        if len(confirmed) < len(rows):  # retried with back-off, not at the polling pace
            raise PublishError(f"the broker refused {len(rows) - len(confirmed)} of {len(rows)}")
        return len(confirmed)

    def backlog(self) -> int:
        with self.engine.connect() as connection:
            unpublished = select(func.count()).select_from(outbox)
            return connection.scalar(unpublished.where(outbox.c.published_at.is_(None))) or 0

    def prune(self, *, outbox_retention: timedelta, inbox_retention: timedelta) -> None:
        """Forget published rows and seen event ids once they are older than the retention."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(outbox).where(outbox.c.published_at < func.now() - outbox_retention)
            )
            connection.execute(
                delete(inbox).where(inbox.c.received_at < func.now() - inbox_retention)
            )

    def run(
        self,
        stop: threading.Event,
        wake: threading.Event,
        *,
        poll_interval: float = 0.5,
        retention: timedelta | None = None,
    ) -> None:
        """Relay until ``stop`` is set; ``wake`` cuts a poll short when new rows were committed.

        With a ``retention``, published outbox rows (and inbox ids, kept four times longer)
        are pruned once an hour.
        """
        backoff, next_prune = poll_interval, time.monotonic()
        while not stop.is_set():
            wake.clear()
            try:
                if retention is not None and time.monotonic() >= next_prune:
                    self.prune(outbox_retention=retention, inbox_retention=retention * 4)
                    next_prune = time.monotonic() + PRUNE_INTERVAL
                published = self.relay_batch()
                backoff = poll_interval
            except Exception as exc:  # noqa: BLE001 - the relay must outlive broker and DB outages
                log.warning(
                    "outbox relay failed, retrying in %.1fs: %s: %s",
                    backoff,
                    type(exc).__name__,
                    exc,
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if published < self.batch_size:
                wake.wait(poll_interval)
        self.publisher.close()
