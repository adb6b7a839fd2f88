"""nameko dependency providers: the database (with its outbox relay) and telemetry."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, overload

from kombu.connection import Connection
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider
from sqlalchemy import text

from . import logs, metrics
from .events import Event
from .messaging import ConfirmingPublisher
from .outbox import OutboxRelay
from .persistence import EventBatch, UnitOfWork, handle_once, make_engine, session_factory
from .settings import of_container

log = logging.getLogger(__name__)


class DatabaseAccess:
    """What a service method sees as ``self.db``: units of work bound to the current call."""

    def __init__(self, provider: Database, worker_ctx: WorkerContext) -> None:
        self._provider = provider
        self._worker_ctx = worker_ctx

    def unit_of_work(self, causation: Event | None = None) -> UnitOfWork:
        data = self._worker_ctx.data
        return UnitOfWork(
            self._provider.sessions,
            service=self._provider.service,
            correlation_id=data.get("correlation_id"),
            causation_id=causation.id if causation else None,
            on_commit=self._provider.wake.set,
        )

    def handle_once(
        self,
        event: Event,
        use_case: Callable[[UnitOfWork, Event], Any],
        prepare: Callable[[UnitOfWork, list[Event]], Any] | None = None,
    ) -> bool:
        """Apply ``use_case`` to ``event`` once for this handler, however often it arrives:
        once per the consumer name its ``@subscribe`` declares, not per method name. In a
        batch, ``prepare`` first reads for all its events at once (see
        :meth:`asn_shared.persistence.EventBatch.apply`)."""
        entrypoint = self._worker_ctx.entrypoint
        handler = entrypoint.method_name
        service = self._provider.service
        consumer = f"{service}.{entrypoint.consumer}"
        formerly = tuple(f"{service}.{name}" for name in entrypoint.formerly)
        batch = next((a for a in self._worker_ctx.args if isinstance(a, EventBatch)), None)
        if batch is None:
            uow = self.unit_of_work(causation=event)
            first = handle_once(uow, event, consumer, use_case, formerly)
        else:  # the batch's transaction, a savepoint for this event
            first = batch.apply(
                self.unit_of_work,
                event,
                consumer,
                use_case,
                formerly,
                own_subject=entrypoint.own_subject,
                prepare=prepare,
            )
        if not first:
            metrics.EVENTS_HANDLED.labels(
                self._provider.service, event.name, handler, "duplicate"
            ).inc()
            log.info("duplicate event ignored", extra={"consumer": consumer})
        return first

    def health(self) -> dict[str, str]:
        return self._provider.health()

    def outbox_backlog(self) -> int:
        return self._provider.relay.backlog()


class Database(DependencyProvider):
    """SQLAlchemy engine for the service's own database, plus its outbox relay.

    The relay runs as a background green thread in every replica; replicas share the outbox
    safely (see :mod:`asn_shared.outbox`). A commit that wrote events wakes it at once.
    """

    def setup(self) -> None:
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()  # psycopg2 yields to the eventlet hub instead of blocking it
        settings = of_container(self.container)
        self.service = self.container.service_name
        logs.set_service(self.service)
        pool_size = int(self.container.max_workers) + 2
        self.engine = make_engine(settings.database_url, pool_size=pool_size)
        self.sessions = session_factory(self.engine)
        self.amqp_uri = settings.amqp_uri
        self.relay = OutboxRelay(
            self.engine,
            ConfirmingPublisher(self.amqp_uri),
            service=self.service,
            batch_size=settings.outbox_batch_size,
        )
        self.poll_interval = settings.outbox_poll_interval
        self.retention = timedelta(hours=settings.outbox_retention_hours)
        self.stopping, self.wake = threading.Event(), threading.Event()

    if TYPE_CHECKING:
        # nameko puts get_dependency's answer on the worker: what a service's ``self.db`` is
        @overload
        def __get__(self, instance: None, owner: type) -> Database: ...
        @overload
        def __get__(self, instance: object, owner: type) -> DatabaseAccess: ...
        def __get__(self, instance: object, owner: type) -> Database | DatabaseAccess: ...

    def start(self) -> None:
        self._relay_thread = self.container.spawn_managed_thread(self._run_relay)

    def _run_relay(self) -> None:
        self.relay.run(
            self.stopping, self.wake, poll_interval=self.poll_interval, retention=self.retention
        )

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self._relay_thread.wait()
        self.engine.dispose()

    def kill(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.engine.dispose()

    def get_dependency(self, worker_ctx: WorkerContext) -> DatabaseAccess:
        return DatabaseAccess(self, worker_ctx)

    def health(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
            checks["database"] = f"down: {type(exc).__name__}"
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"down: {type(exc).__name__}"
        return checks


class Telemetry(DependencyProvider):
    """Puts the call's correlation id and event id into every log line it writes."""

    def worker_setup(self, worker_ctx: WorkerContext) -> None:
        logs.correlation_id.set(worker_ctx.data.get("correlation_id"))
        logs.event_id.set(worker_ctx.data.get("event_id"))
