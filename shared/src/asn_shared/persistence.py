"""SQLAlchemy 2 persistence shared by every service: engine, unit of work, outbox and inbox.

A service's use cases take a :class:`UnitOfWork`: they change state through
``uow.session``, announce what happened with ``uow.publish(...)`` and call
``uow.commit()``. State and events are written in one transaction (the transactional
outbox); a relay publishes the committed events afterwards.

Longer than most modules: the unit of work, the outbox and the inbox are one transaction's
parts, and read together.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Select,
    Table,
    Text,
    Uuid,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.event import listen
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from .clock import SYSTEM_CLOCK, Clock
from .events import Event, new_event, registry
from .web import page_response

log = logging.getLogger(__name__)

messaging_metadata = MetaData()

outbox = Table(
    "outbox",
    messaging_metadata,
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    Column("exchange", Text, nullable=False),
    Column("routing_key", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
)
Index("outbox_unpublished", outbox.c.seq, postgresql_where=outbox.c.published_at.is_(None))

inbox = Table(
    "inbox",
    messaging_metadata,
    Column("consumer", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("event_type", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("inbox_received_at", inbox.c.received_at)

unit_tree = Table(
    "unit_tree",
    messaging_metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("parent_code", Text, index=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)
"""The organisation tree as competency announces it (``unit.*`` events); see :mod:`.units`."""


def driver_url(url: str) -> str:
    """Pin psycopg2: it cooperates with eventlet through psycogreen, where psycopg 3 blocks."""
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgresql", "postgres") else url


PING_AFTER_IDLE = 5.0  # seconds a pooled connection may rest before it is tested on checkout


def make_engine(url: str, *, pool_size: int = 10, **options: Any) -> Engine:
    pooled = "poolclass" not in options
    if pooled:
        # a suite of services shares one PostgreSQL: keep each process's share bounded
        options.update(pool_size=pool_size, max_overflow=2)
    if driver_url(url).startswith("postgresql+psycopg2"):
        # several rows' UPDATE or DELETE (an ORM flush) in one round trip, not one per row
        options.setdefault("executemany_mode", "values_plus_batch")
    # SQL parameters carry names, NIPs and e-mail addresses: keep them out of error logs
    options.setdefault("hide_parameters", True)
    engine = create_engine(driver_url(url), **options)
    if pooled:
        ping_rested_connections(engine, PING_AFTER_IDLE)
    return engine


def ping_rested_connections(engine: Engine, after: float) -> None:
    """Like ``pool_pre_ping``, but only for a connection that rested longer than ``after``
    seconds: a busy service saves a round trip per transaction, and a connection that
    outlived a database restart while idle is still replaced before it is used."""

    def checked_in(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info["rested_since"] = time.monotonic()

    def checked_out(
        dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        rested_since = record.info.pop("rested_since", None)
        if rested_since is None or time.monotonic() - rested_since < after:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(str(exc)) from exc  # the pool connects afresh
        if not alive:
            raise DisconnectionError("the connection did not answer a ping")

    listen(engine, "checkin", checked_in)
    listen(engine, "checkout", checked_out)


R = TypeVar("R")


class ForeignEventError(ValueError):
    """A service tried to publish an event type that another service owns."""


class UnitOfWork:
    """One database transaction: state changes plus the events that announce them.

    ``on_commit`` is called after a commit that wrote events, so an in-process relay can
    publish at once instead of waiting for its next poll. ``clock`` is the time its use
    cases see (``uow.clock.today()``, ``uow.clock.now()``): the system's unless a test
    gives another.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        service: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        on_commit: Callable[[], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._session_factory = session_factory
        self.clock = clock
        self.service = service
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self._on_commit = on_commit
        self.events: list[Event] = []
        self._collected: dict[str, tuple[Callable[[list[Any]], None], list[Any]]] = {}

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.events = []
        self._collected = {}
        return self

    def collect(self, name: str, items: list[Any], write: Callable[[list[Any]], None]) -> None:
        """Hand ``items`` to ``write`` before the commit, together with what other calls
        collected under ``name`` (``write`` is the first call's): the rows each event of a
        batch plans, written by one statement for the whole batch. ``write`` may publish."""
        self._collected.setdefault(name, (write, []))[1].extend(items)

    def write_collected(self) -> None:
        """Run each ``write`` on what was collected for it: before the commit, and wherever
        what was collected must be in the database (see :class:`EventBatch`)."""
        while self._collected:
            write, items = self._collected.pop(next(iter(self._collected)))
            write(items)

    def forget_events_since(self, mark: int) -> None:
        """Unwrite the events published after the first ``mark``, and what was collected
        and not written yet: their savepoint was rolled back (see :class:`EventBatch`)."""
        del self.events[mark:]
        self._collected = {}

    def __exit__(self, *exc_info: Any) -> None:
        self.session.rollback()  # a no-op after commit
        self.session.close()

    def repository(self, build: Callable[[Session], R]) -> R:
        """The repository ``build`` makes over this transaction's session; a unit tests'
        fake unit of work answers with an in-memory one instead."""
        return build(self.session)

    def publish(
        self,
        name: str,
        data: dict[str, Any],
        *,
        subject: str | None = None,
        version: int | None = None,
    ) -> Event:
        """Write an event to the outbox; raises EventSchemaError if ``data`` does not fit."""
        return self.publish_many(name, [(subject, data)], version=version)[0]

    def publish_many(
        self,
        name: str,
        items: list[tuple[str | None, dict[str, Any]]],
        *,
        version: int | None = None,
        causes: list[tuple[str | None, str | None]] | None = None,
    ) -> list[Event]:
        """Write one event per ``(subject, data)`` to the outbox.

        The rows are inserted at the commit, those of every publish in one multi-row INSERT.
        Every item is checked against the schema before anything is written. ``causes``
        gives each item its own ``(correlation id, causation id)``, for a batch whose items
        belong to different stories; by default every item has the unit of work's.
        """
        definition = registry.latest(name) if version is None else registry.get(name, version)
        if definition.producer != self.service:
            raise ForeignEventError(f"{self.service} cannot publish {definition.type}")
        causes = causes or [(self.correlation_id, self.causation_id)] * len(items)
        events = [
            new_event(
                definition,
                data,
                subject=subject,
                correlation_id=correlation_id,
                causation_id=causation_id,
            )
            for (subject, data), (correlation_id, causation_id) in zip(items, causes, strict=True)
        ]
        self.events.extend(events)
        return events

    def first_delivery(self, event: Event, consumer: str, formerly: tuple[str, ...] = ()) -> bool:
        """Record ``event`` as received by ``consumer``; False if it was already recorded,
        under ``consumer`` or under one of its ``formerly`` names.

        Concurrent deliveries of the same event wait on the primary key, so exactly one
        of them sees True.
        """
        row = {"consumer": consumer, "event_id": event.id, "event_type": event.type}
        statement = pg_insert(inbox).values(**row)
        if formerly:
            seen = select(inbox.c.event_id).where(
                inbox.c.consumer.in_(formerly), inbox.c.event_id == event.id
            )
            values = select(*(literal(value) for value in row.values())).where(~seen.exists())
            statement = pg_insert(inbox).from_select(list(row), values)
        # an INSERT's result is a cursor's, which counts the rows
        inserted = cast(CursorResult[Any], self.session.execute(statement.on_conflict_do_nothing()))
        return inserted.rowcount == 1

    def commit(self) -> None:
        self.write_collected()
        if self.events:
            self.session.execute(insert(outbox), [_outbox_row(event) for event in self.events])
        self.session.commit()
        if self.events and self._on_commit is not None:
            self._on_commit()
        self.events = []

    def rollback(self) -> None:
        self.session.rollback()
        self.events, self._collected = [], {}


class read:
    """A read use case made from a query over a session: ``query(uow, ...)`` runs in a
    transaction of its own (read, then rolled back); ``query.within(session, ...)`` serves a
    use case that holds a session already."""

    def __init__(self, query: Callable[..., Any]) -> None:
        self.within = query
        functools.update_wrapper(self, query)

    def __call__(self, uow: UnitOfWork, *args: Any, **kwargs: Any) -> Any:
        with uow:
            return self.within(uow.session, *args, **kwargs)


def transaction_scoped(session: Session, name: str) -> dict[Any, Any]:
    """A dict kept in ``session.info`` under ``name`` for the session's innermost transaction
    (a savepoint has its own): what a use case read or locked there, forgotten once another
    transaction begins, as a savepoint rolled back undoes what was locked within it."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # none begun yet: begin the one the caller's statements run in
        session.connection()
        transaction = session.get_transaction()
    kept = session.info.get(name)
    if kept is None or kept[0] is not transaction:
        kept = session.info[name] = (transaction, {})
    return cast(dict[Any, Any], kept[1])


def plain(row: Any) -> dict[str, Any]:
    """An ORM object's column attributes as a dict: still readable once its unit of work has
    ended (which expires the object itself)."""
    return {column.key: getattr(row, column.key) for column in inspect(row).mapper.column_attrs}


def fetch_page(
    session: Session, statement: Select[*tuple[Any, ...]], *, page: int, per_page: int
) -> tuple[list[Any], int]:
    """One page of ``statement``'s rows (ORM entities or rows) and the total count."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.execute(counted).scalar_one()
    rows = session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def page_of(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    query: dict[str, Any],
    show: Callable[[Any], Any],
) -> dict[str, Any]:
    """A list endpoint's answer: one page of ``statement`` (``query`` holds ``page`` and
    ``per_page``, as PageQuery loads them), each row shown by ``show``, and the total."""
    rows, total = fetch_page(session, statement, page=query["page"], per_page=query["per_page"])
    return page_response(
        [show(row) for row in rows], total=total, page=query["page"], per_page=query["per_page"]
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _outbox_row(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "exchange": event.definition.exchange,
        "routing_key": event.definition.name,
        "type": event.type,
        "body": event.to_json(),
        "occurred_at": event.time,
    }


def handle_once(
    uow: UnitOfWork,
    event: Event,
    consumer: str,
    use_case: Callable[[UnitOfWork, Event], Any],
    formerly: tuple[str, ...] = (),
) -> bool:
    """Apply ``use_case`` to ``event`` exactly once per consumer, whatever the redeliveries;
    an event recorded under one of the consumer's ``formerly`` names counts as handled.

    The inbox row and the use case's effects commit together; returns False for a duplicate.
    """
    with uow:
        if not uow.first_delivery(event, consumer, formerly):
            return False
        use_case(uow, event)
        uow.commit()
    return True


RECORD_DELIVERIES = text(
    """
    INSERT INTO inbox (consumer, event_id, event_type)
    SELECT :consumer, arrived.event_id, arrived.event_type
    FROM unnest(CAST(:event_ids AS text[]), CAST(:event_types AS text[]))
        AS arrived (event_id, event_type)
    WHERE NOT EXISTS (
        SELECT 1 FROM inbox AS seen
        WHERE seen.consumer = ANY(CAST(:formerly AS text[])) AND seen.event_id = arrived.event_id
    )
    ORDER BY arrived.event_id
    ON CONFLICT DO NOTHING
    RETURNING event_id
    """
)
"""One statement whatever the batch's size (arrays, not a VALUES list): compiled once."""


def record_deliveries(
    session: Session, events: list[Event], consumer: str, formerly: tuple[str, ...] = ()
) -> set[str]:
    """Record ``events`` as received by ``consumer`` in one INSERT; the ids recorded now,
    without those recorded before, under ``consumer`` or one of its ``formerly`` names.

    Rows go in in id order, so two batches sharing events wait on each other's keys in the
    same order, never in a deadlock.
    """
    arrived = sorted({event.id: event.type for event in events}.items())
    parameters = {
        "consumer": consumer,
        "event_ids": [event_id for event_id, _ in arrived],
        "event_types": [event_type for _, event_type in arrived],
        "formerly": list(formerly),
    }
    return set(session.scalars(RECORD_DELIVERIES, parameters))


class EventBatch:
    """Events from one queue, handled in one transaction (``CONSUME_BATCH_SIZE``).

    One INSERT records them all in the consumer's inbox; their use cases run in queue order;
    then what their use cases collected (:meth:`UnitOfWork.collect`) is written, and the
    outbox rows of all of them go in with one INSERT and one commit. A handler
    declared ``own_subject`` (see :class:`asn_shared.entrypoints.EventSubscriber`) leaves
    its ORM rows pending: they are written together, a table's rows in one INSERT, when the
    batch ends or before an event whose subject came earlier in the batch. When an event
    fails, or the database refuses the batch's pending rows, the transaction is rolled back
    and the batch run again with a savepoint per event, so that the failing one is rolled
    back alone (a savepoint costs two round trips and a flush: a batch that does not fail
    runs without them). The inbox rows of the events that failed
    are deleted before the commit: they come back through the retry queue and are handled
    then. ``failures`` maps the failed events' positions to their errors, ``duplicates``
    holds the positions of events handled before.
    """

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.failures: dict[int, BaseException] = {}
        self.duplicates: set[int] = set()
        self.position = 0
        self._uow: UnitOfWork | None = None
        self._consumer = ""
        self._unhandled: set[str] = set()  # recorded now, use case not yet applied
        self._applied: set[str] = set()
        self._broken = False
        self._careful = False  # a savepoint per event
        self._pending_subjects: set[str] = set()  # subjects whose rows are not written yet

    def __len__(self) -> int:
        return len(self.events)

    def run(self, handle: Callable[[int, Event], Any]) -> None:
        """``handle`` each event in order, a failure noted in ``failures``; then commit. An
        error out of the commit fails the whole batch (nothing of it was written)."""
        try:
            self._run(handle)
            if not self._careful and (self.failures or not self._written()):
                self._start_again(careful=True)
                self._run(handle)
            self._commit()
        finally:
            self._close()

    def _run(self, handle: Callable[[int, Event], Any]) -> None:
        for position, event in enumerate(self.events):
            self.position = position
            try:
                handle(position, event)
            except Exception as exc:  # the event alone is retried or parked
                if self._broken:
                    raise  # the inbox was not written: nothing of the batch can be
                self.failures[position] = exc
                if not self._careful:
                    return  # the transaction may be aborted: the careful run decides

    def _written(self) -> bool:
        """What the events collected or left pending written; False when the database
        refused a row (the careful run, a savepoint and a write per event, finds whose)."""
        if self._uow is None:
            return True
        try:
            self._uow.write_collected()
            self._uow.session.flush()
        except Exception:  # noqa: BLE001 - the careful run raises it again, for its event
            log.info("the batch's rows were refused; handling it again event by event")
            return False
        return True

    def _start_again(self, *, careful: bool) -> None:
        self._close()
        self.failures, self.duplicates, self._applied = {}, set(), set()
        self._pending_subjects = set()
        self._careful = careful

    def _close(self) -> None:
        if self._uow is not None:
            self._uow.__exit__(None, None, None)
            self._uow = None

    def apply(
        self,
        open_uow: Callable[[], UnitOfWork],
        event: Event,
        consumer: str,
        use_case: Callable[[UnitOfWork, Event], Any],
        formerly: tuple[str, ...] = (),
        *,
        own_subject: bool = False,
        prepare: Callable[[UnitOfWork, list[Event]], Any] | None = None,
    ) -> bool:
        """:func:`handle_once` within the batch: False for an event handled before (in an
        earlier batch, or earlier in this one). ``own_subject``: the use case reads and
        changes only rows of its event's subject, and rows no event of its queue changes,
        and no query of it needs its own earlier changes, so its ORM rows may wait for the
        end of the batch. ``prepare`` runs once, before the first use case, with the events
        to handle: reads for all of them with one statement per kind (not in the careful
        run, where each event reads for itself)."""
        uow = self._open(open_uow, consumer, formerly, prepare)
        if event.id not in self._unhandled:
            self.duplicates.add(self.position)
            return False
        self._unhandled.discard(event.id)
        uow.correlation_id, uow.causation_id = event.correlation_id or event.id, event.id
        if not self._careful:
            if own_subject:
                with self._rows_pending(uow.session, event.subject):
                    use_case(uow, event)
            else:
                use_case(uow, event)
            self._applied.add(event.id)
            return True
        mark = len(uow.events)
        try:
            with uow.session.begin_nested():
                use_case(uow, event)
                uow.write_collected()
        except BaseException:
            uow.forget_events_since(mark)
            raise
        self._applied.add(event.id)
        return True

    def _rows_pending(self, session: Session, subject: str | None) -> Any:
        """No autoflush for the use case of an event of ``subject``; what earlier events left
        pending is written first when one of them had the same subject (or none is given)."""
        if subject is None or subject in self._pending_subjects:
            session.flush()
            self._pending_subjects.clear()
        if subject is not None:
            self._pending_subjects.add(subject)
        return session.no_autoflush

    def _open(
        self,
        open_uow: Callable[[], UnitOfWork],
        consumer: str,
        formerly: tuple[str, ...],
        prepare: Callable[[UnitOfWork, list[Event]], Any] | None,
    ) -> UnitOfWork:
        if self._uow is None:
            uow = self._uow = open_uow().__enter__()
            self._consumer = consumer
            self._broken = True
            self._unhandled = record_deliveries(uow.session, self.events, consumer, formerly)
            self._broken = False
            if prepare is not None and not self._careful:
                prepare(uow, [event for event in self.events if event.id in self._unhandled])
        return self._uow

    def _commit(self) -> None:
        if self._uow is None:
            return
        failed = {self.events[position].id for position in self.failures} - self._applied
        failed |= self._unhandled  # recorded, but their handler never reached its use case
        if failed:
            forgotten = inbox.c.consumer == self._consumer, inbox.c.event_id.in_(failed)
            self._uow.session.execute(delete(inbox).where(*forgotten))
        self._uow.commit()
