"""Batch consumption (``CONSUME_BATCH_SIZE``): the events waiting in a handler's queue are
handled in one transaction, and each keeps its own outcome. Real RabbitMQ and PostgreSQL,
the sink run by ``nameko run``; its events wait in its queue before it starts, so that they
arrive as one batch."""

import json

from kombu import Connection
from sqlalchemy import func, select, text, update

from asn_shared.messaging import ATTEMPTS, DEAD_LETTER_REASON, ConfirmingPublisher
from asn_shared.outbox import OutboxRelay
from asn_shared.persistence import inbox, make_engine, outbox
from asn_shared.topology import declare_service_topology
from asn_testkit.events import drain_queue
from asn_testkit.waiting import wait_for

from support import ping_counts, scalar, write_pings

SINK_DEAD_LETTERS = "sink.dead-letter"
ONE_BATCH = {"CONSUME_BATCH_SIZE": "50", "CONSUME_BATCH_WAIT_MS": "300"}


def waiting_pings(
    amqp_uri,
    database,
    pings: list[tuple[int, bool]],
    *,
    again: int = 0,
    subjects: int = 0,
    consumer: str = "Sink",
) -> None:
    """The consumer's queue declared, then ``pings`` (seq, fail) published through the
    pinger's outbox in one relay batch (ping n's subject n, or n modulo ``subjects``); the
    first ``again`` of them published a second time, with the same ids, as a relay does
    after a crash between the broker's confirm and its own commit."""
    import sample_services

    with Connection(amqp_uri) as connection:
        declare_service_topology(connection, getattr(sample_services, consumer))
    pinger_db = database(metadata=sample_services.metadata)
    for seq, fail in pings:
        write_pings(pinger_db, first=seq, count=1, fail=fail, subjects=subjects)
    engine = make_engine(pinger_db, pool_size=1)
    relay = OutboxRelay(engine, ConfirmingPublisher(amqp_uri), service="pinger")
    try:
        assert relay.relay_batch() == len(pings)
        if again:
            first = select(outbox.c.id).order_by(outbox.c.seq).limit(again)
            with engine.begin() as connection:
                connection.execute(
                    update(outbox).where(outbox.c.id.in_(first)).values(published_at=None)
                )
            assert relay.relay_batch() == again
    finally:
        relay.publisher.close()
        engine.dispose()


def inbox_rows(url: str) -> tuple[int, int]:
    """(rows, distinct transaction start times) of the sink's inbox: ``received_at`` is
    ``now()``, the same for every row one transaction wrote."""
    return (
        scalar(url, select(func.count()).select_from(inbox)),
        scalar(url, select(func.count(inbox.c.received_at.distinct()))),
    )


def test_a_failing_event_is_retried_and_dead_lettered_alone_while_its_batch_commits(
    start_sample, amqp_uri, database
):
    waiting_pings(amqp_uri, database, [(seq, seq == 7) for seq in range(20)])
    sink = start_sample("sink", env=ONE_BATCH)
    sink_db = sink.env["SINK_DATABASE_URL"]

    parked = drain_queue(amqp_uri, SINK_DEAD_LETTERS, expect=1)
    assert len(parked) == 1
    assert json.loads(parked[0].body)["data"]["seq"] == 7
    assert parked[0].headers[ATTEMPTS] == 3
    assert "ping 7 asked to fail" in parked[0].headers[DEAD_LETTER_REASON]
    # the 19 others once each, in one transaction; ping 7's row rolled back with its savepoint
    assert ping_counts(sink_db) == (19, 19)
    assert inbox_rows(sink_db) == (19, 1)
    assert sink.log().count("retrying") == 2


def test_copies_of_an_event_in_one_batch_are_handled_once(start_sample, amqp_uri, database):
    waiting_pings(amqp_uri, database, [(seq, False) for seq in range(10)], again=4)
    sink = start_sample("sink", env=ONE_BATCH)
    sink_db = sink.env["SINK_DATABASE_URL"]

    wait_for(lambda: sink.log().count("duplicate event ignored") == 4, what="4 copies dropped")
    assert ping_counts(sink_db) == (10, 10)
    assert inbox_rows(sink_db) == (10, 1)
    assert drain_queue(amqp_uri, SINK_DEAD_LETTERS, expect=1, timeout=1) == []


def test_a_batch_cut_short_by_a_crash_is_handled_once_after_the_restart(
    start_sample, amqp_uri, database
):
    waiting_pings(amqp_uri, database, [(seq, False) for seq in range(30)])
    sink = start_sample("sink", env={**ONE_BATCH, "SINK_PAUSE": "0.2"})  # 6 s for the batch
    sink_db = sink.env["SINK_DATABASE_URL"]
    wait_for(lambda: _in_transaction(sink_db), timeout=10, what="the sink in its batch")
    sink.kill()  # kill -9 in the middle of the batch: nothing of it was committed or acked
    assert ping_counts(sink_db) == (0, 0)

    sink.env["SINK_PAUSE"] = "0"
    sink.start()
    wait_for(lambda: ping_counts(sink_db) == (30, 30), what="the 30 pings after the restart")
    assert inbox_rows(sink_db) == (30, 1)


def _in_transaction(url: str) -> bool:
    """A connection to the sink's database holds a transaction open (its batch, pausing)."""
    activity = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND state = 'idle in transaction'"
    )
    return bool(scalar(url, activity))


def tallies(url: str) -> tuple[dict[int, int], int]:
    """The tally's rows ({seq: before}) and how many INSERT statements wrote them."""
    from sample_services import Tallied

    rows = _read(url, select(Tallied.seq, Tallied.before))
    return dict(rows), scalar(url, select(func.count(Tallied.written_at.distinct())))


def ticks(url: str) -> tuple[list[int], int]:
    """The ticks the tally collected, and how many INSERT statements wrote them."""
    from sample_services import ticks

    written = [seq for (seq,) in _read(url, select(ticks.c.seq).order_by(ticks.c.seq))]
    return written, scalar(url, select(func.count(ticks.c.written_at.distinct())))


def prepared_for(url: str) -> list[int]:
    """How many events each prepare of the tally was given."""
    from sample_services import preparations

    return [events for (events,) in _read(url, select(preparations.c.events))]


def _read(url: str, statement) -> list:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return list(connection.execute(statement).all())
    finally:
        engine.dispose()


def test_an_own_subject_handler_writes_a_batchs_rows_together(start_sample, amqp_uri, database):
    waiting_pings(amqp_uri, database, [(seq, False) for seq in range(20)], consumer="Tally")
    tally = start_sample("tally", env=ONE_BATCH)
    url = tally.env["TALLY_DATABASE_URL"]
    wait_for(lambda: len(tallies(url)[0]) == 20, what="20 pings counted")
    assert tallies(url) == ({seq: 0 for seq in range(20)}, 1)  # one INSERT for the batch
    assert ticks(url) == (list(range(20)), 1)  # what the events collected: one INSERT too
    assert prepared_for(url) == [20]  # one prepare, with every event of the batch
    assert inbox_rows(url) == (20, 1)


def test_an_event_sees_the_rows_of_its_subjects_earlier_events(start_sample, amqp_uri, database):
    pings = [(seq, False) for seq in range(20)]
    waiting_pings(amqp_uri, database, pings, subjects=5, consumer="Tally")
    tally = start_sample("tally", env=ONE_BATCH)
    url = tally.env["TALLY_DATABASE_URL"]

    wait_for(lambda: len(tallies(url)[0]) == 20, what="20 pings counted")
    # ping n is the (n // 5)th of its subject; pings 5, 10 and 15 each wrote what came before
    assert tallies(url) == ({seq: seq // 5 for seq in range(20)}, 4)
    assert inbox_rows(url) == (20, 1)


def test_a_row_the_database_refuses_at_the_batchs_end_fails_its_event_alone(
    start_sample, amqp_uri, database
):
    pings = [(seq, False) for seq in range(100, 120)]
    waiting_pings(amqp_uri, database, pings, consumer="Tally")
    tally = start_sample("tally", env=ONE_BATCH)
    url = tally.env["TALLY_DATABASE_URL"]

    # ping 113's ORM row and ping 114's collected tick are refused
    parked = drain_queue(amqp_uri, "tally.dead-letter", expect=2)
    by_seq = {json.loads(message.body)["data"]["seq"]: message for message in parked}
    assert sorted(by_seq) == [113, 114]
    assert "ping_113_refused" in by_seq[113].headers[DEAD_LETTER_REASON]
    assert "tick_114_refused" in by_seq[114].headers[DEAD_LETTER_REASON]
    kept = [seq for seq in range(100, 120) if seq not in (113, 114)]
    assert sorted(tallies(url)[0]) == kept
    assert ticks(url)[0] == kept
    assert inbox_rows(url)[0] == 18
