"""The reliability model, against real RabbitMQ and PostgreSQL, services run by ``nameko run``."""

import json
import secrets
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import requests
from kombu import Connection, Exchange, Producer, Queue
from sqlalchemy import func, insert, select

from asn_shared.entrypoints import RawQueueConsumer
from asn_shared.events import EventSchemaError
from asn_shared.messaging import (
    ATTEMPTS,
    DEAD_LETTER_REASON,
    ORIGINAL_QUEUE,
    ConfirmingPublisher,
    OutgoingMessage,
    PublishError,
    Unroutable,
    redelivery_exchange,
)
from asn_shared.outbox import OutboxRelay
from asn_shared.persistence import UnitOfWork, make_engine, outbox, session_factory
from asn_shared.topology import (
    ManagementApi,
    apply_broker_user,
    declare_service_topology,
    permissions_of,
)
from asn_testkit.events import drain_queue
from asn_testkit.waiting import wait_for

from support import ping_counts, scalar, unpublished, write_pings

SINK_QUEUE = "evt-pinger-ping.sent--sink.pings"
SINK_DEAD_LETTERS = "sink.dead-letter"


def test_outbox_delivers_every_event_exactly_once_while_the_relay_is_killed(start_sample):
    sink = start_sample("sink")
    pinger = start_sample("pinger")
    pinger_db, sink_db = pinger.env["PINGER_DATABASE_URL"], sink.env["SINK_DATABASE_URL"]

    for batch in range(20):
        write_pings(pinger_db, first=batch * 50, count=50)
        if batch in (6, 13):
            pinger.kill()  # kill -9, in the middle of relaying
            time.sleep(0.3)
            pinger.start()

    wait_for(lambda: ping_counts(sink_db)[1] == 1000, timeout=60, what="1000 distinct pings")
    time.sleep(1.0)  # let any late redelivery arrive, so a duplicate effect would show
    assert ping_counts(sink_db) == (1000, 1000)
    assert unpublished(pinger_db) == 0


def test_event_published_before_its_consumer_ever_ran_is_handled_when_it_starts(
    start_sample, amqp_uri, database
):
    import sample_services

    with Connection(amqp_uri) as connection:
        declare_service_topology(connection, sample_services.Sink)  # as the topology step does
    pinger = start_sample("pinger")
    write_pings(pinger.env["PINGER_DATABASE_URL"], first=0, count=10)
    wait_for(lambda: unpublished(pinger.env["PINGER_DATABASE_URL"]) == 0, what="relay")

    sink = start_sample("sink")
    sink_db = sink.env["SINK_DATABASE_URL"]
    wait_for(lambda: ping_counts(sink_db) == (10, 10), what="the sink to catch up")


@pytest.fixture
def sink_uri(broker, vhost, amqp_uri):
    """The sink's topology declared by the administrator, and the URI of a broker user with
    exactly the sink's permissions (as ``asn-admin broker-users`` gives a service)."""
    import sample_services

    with Connection(amqp_uri) as connection:
        declare_service_topology(connection, sample_services.Sink)
    user, password = f"{vhost}-sink", secrets.token_urlsafe(18)
    api = ManagementApi(broker.management_url, broker.user, broker.password)
    apply_broker_user(api, vhost, user, password, permissions_of(sample_services.Sink))
    parts = urlsplit(amqp_uri)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc))
    finally:
        url = f"{broker.management_url}/api/users/{quote(user, safe='')}"
        requests.delete(url, auth=(broker.user, broker.password), timeout=10)


def test_failing_handler_is_retried_then_dead_lettered_and_the_next_message_flows(
    start_sample, amqp_uri, sink_uri
):
    # the sink on its own broker user: retries and dead letters need no default exchange
    sink = start_sample(
        "sink", env={"AMQP_URI": sink_uri, "EVENT_MAX_ATTEMPTS": "3", "EVENT_RETRY_DELAY": "0.2"}
    )
    pinger = start_sample("pinger")
    pinger_db, sink_db = pinger.env["PINGER_DATABASE_URL"], sink.env["SINK_DATABASE_URL"]

    write_pings(pinger_db, first=7, count=1, fail=True)
    write_pings(pinger_db, first=8, count=1)

    parked = drain_queue(amqp_uri, SINK_DEAD_LETTERS, expect=1)
    assert len(parked) == 1
    headers = parked[0].headers
    assert headers[ATTEMPTS] == 3
    assert "ping 7 asked to fail" in headers[DEAD_LETTER_REASON]
    assert headers[ORIGINAL_QUEUE] == SINK_QUEUE
    assert json.loads(parked[0].body)["data"]["seq"] == 7
    wait_for(lambda: ping_counts(sink_db) == (1, 1), what="the good ping")
    assert sink.log().count("retrying") == 2


def test_a_failed_message_no_queue_would_take_is_not_confirmed_away(amqp_uri):
    exchange = redelivery_exchange("sink")
    with Connection(amqp_uri) as connection:
        Queue("parked", exchange, routing_key="parked")(connection.channel()).declare()
        Producer(connection).publish(b"ping", routing_key="incoming", declare=[Queue("incoming")])
        message = connection.SimpleQueue("incoming").get(timeout=5)
    consumer = RawQueueConsumer()
    consumer.container = SimpleNamespace(config={"AMQP_URI": amqp_uri})
    headers = {ATTEMPTS: 1}

    with pytest.raises(Unroutable):
        consumer.republish(message, exchange=exchange.name, routing_key="gone", headers=headers)
    for _ in range(2):  # the pooled channel is still in step: each copy confirmed on its own
        consumer.republish(message, exchange=exchange.name, routing_key="parked", headers=headers)
    with pytest.raises(Unroutable):
        consumer.republish(message, exchange=exchange.name, routing_key="gone", headers=headers)

    parked = drain_queue(amqp_uri, "parked", expect=3, timeout=3)
    assert [(m.body, m.headers[ATTEMPTS]) for m in parked] == [(b"ping", 1), (b"ping", 1)]


def test_malformed_and_unknown_version_messages_are_dead_lettered_and_logged(
    start_sample, amqp_uri
):
    sink = start_sample("sink")
    pinger = start_sample("pinger")
    foreign_event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:elsewhere",
        "type": "id.kompasasn.pinger.ping.sent.v9",
        "data": {"seq": 1},
    }
    with Connection(amqp_uri) as connection:
        producer = Producer(connection, exchange=Exchange("pinger.events", "topic", durable=True))
        producer.publish(
            b"\xff{not json",
            routing_key="ping.sent",
            content_type="application/octet-stream",
            content_encoding="binary",
        )
        producer.publish(
            json.dumps(foreign_event),
            routing_key="ping.sent",
            content_type="application/cloudevents+json",
            content_encoding="utf-8",
        )

    parked = drain_queue(amqp_uri, SINK_DEAD_LETTERS, expect=2)
    reasons = sorted(message.headers[DEAD_LETTER_REASON] for message in parked)
    assert len(reasons) == 2
    assert reasons[0].startswith("body is not JSON")
    assert reasons[1] == "unknown event type 'id.kompasasn.pinger.ping.sent.v9'"
    wait_for(
        lambda: sink.log().count('"message": "message dead-lettered"') == 2,
        timeout=5,
        what="two dead-letter log lines",
    )

    write_pings(pinger.env["PINGER_DATABASE_URL"], first=1, count=1)
    wait_for(lambda: ping_counts(sink.env["SINK_DATABASE_URL"]) == (1, 1), what="a good ping")
    sink.wait_healthy(timeout=5)


def test_two_relay_replicas_publish_each_row_exactly_once(database, amqp_uri, tap):
    import sample_services

    pinger_db = database(metadata=sample_services.metadata)
    write_pings(pinger_db, first=0, count=1000)
    listener = tap("pinger")

    env = {"AMQP_URI": amqp_uri, "PINGER_DATABASE_URL": pinger_db, "PYTHONWARNINGS": "ignore"}
    relays = [
        subprocess.Popen(
            [sys.executable, "-m", "asn_shared.cli", "relay", "pinger"], env={**_environ(), **env}
        )
        for _ in range(2)
    ]
    try:
        listener.wait("ping.sent", 1000, timeout=60)
        listener.settle(quiet=1.5)  # a row published twice would arrive here
    finally:
        for relay in relays:
            relay.terminate()
            relay.wait(10)

    ids = [message.properties["message_id"] for message in listener.messages]
    assert len(ids) == 1000
    assert len(set(ids)) == 1000
    assert unpublished(pinger_db) == 0


def test_events_the_broker_refuses_stay_in_the_outbox_until_it_takes_them(database, amqp_uri):
    import sample_services

    pinger_db = database(metadata=sample_services.metadata)
    write_pings(pinger_db, first=0, count=3)
    one_at_a_time = Queue(
        "pings-one-at-a-time",
        Exchange("pinger.events", "topic", durable=True),
        routing_key="#",
        queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"},
    )
    with Connection(amqp_uri) as connection:
        one_at_a_time(connection.channel()).declare()
    engine = make_engine(pinger_db, pool_size=1)
    relay = OutboxRelay(engine, ConfirmingPublisher(amqp_uri), service="pinger")
    try:
        for left in (2, 1):  # the queue takes one, the broker refuses (nacks) the rest
            with pytest.raises(PublishError, match=f"refused {left} of {left + 1}"):
                relay.relay_batch()
            assert unpublished(pinger_db) == left
            assert len(drain_queue(amqp_uri, one_at_a_time.name, expect=1)) == 1
        assert relay.relay_batch() == 1 and unpublished(pinger_db) == 0
    finally:
        relay.publisher.close()
        engine.dispose()


def test_a_batch_goes_to_the_broker_in_one_write_and_arrives_whole_and_in_order(amqp_uri):
    exchanges = [f"batch-{uuid.uuid4().hex[:8]}" for _ in range(2)]  # new: declared first
    queue = Queue(f"batch-{uuid.uuid4().hex[:8]}", durable=False, auto_delete=True)
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        for name in exchanges:
            Exchange(name, "topic", durable=True)(channel).declare()
        queue(channel).declare()
        for name in exchanges:
            channel.queue_bind(queue.name, name, routing_key="#")
    publisher = ConfirmingPublisher(amqp_uri)
    messages = [
        OutgoingMessage(n, exchanges[n % 2], "ping", b"x" * (n * 9000), {"message_id": str(n)})
        for n in range(40)  # bodies up to 351 kB: some span several frames
    ]
    try:
        publisher.publish(messages[:1])  # opens the connection
        writes = socket_writes(publisher._channel.connection)
        assert publisher.publish(messages) == list(range(40))
    finally:
        publisher.close()
    assert len(writes) == 1
    received = drain_queue(amqp_uri, queue.name, expect=41)
    assert [len(m.body) for m in received] == [0] + [n * 9000 for n in range(40)]


def test_a_batchs_messages_are_acknowledged_with_one_write(amqp_uri):
    queue = Queue(f"acks-{uuid.uuid4().hex[:8]}", durable=False, auto_delete=False)
    with Connection(amqp_uri) as connection:
        producer = Producer(connection)
        for n in range(30):
            producer.publish(str(n).encode(), routing_key=queue.name, declare=[queue])
        channel = connection.channel()
        channel.basic_qos(0, 100, False)
        taken = []
        with channel.Consumer([queue], callbacks=[lambda _body, message: taken.append(message)]):
            while len(taken) < 30:
                connection.drain_events(timeout=5)
        writes = socket_writes(channel.connection)
        RawQueueConsumer().ack_messages(taken)
        assert len(writes) == 1
    # the connection is closed: a message not acknowledged would be back in the queue
    assert drain_queue(amqp_uri, queue.name, expect=1, timeout=2) == []


def socket_writes(connection) -> list[int]:
    """The size of each write to ``connection``'s socket from now on (the writes still go)."""
    transport, writes = connection.transport, []
    write = transport.write
    transport.write = lambda data: (writes.append(len(data)), write(data))
    return writes


def test_event_failing_its_schema_is_refused_and_its_transaction_writes_nothing(database):
    import sample_services

    url = database(metadata=sample_services.metadata)
    engine = make_engine(url, pool_size=1)
    try:
        with pytest.raises(EventSchemaError) as refused:
            with UnitOfWork(session_factory(engine), service="pinger") as uow:
                uow.session.execute(insert(sample_services.pings).values(seq=1, event_id="x"))
                uow.publish("ping.sent", {"seq": -1})
                uow.commit()
        assert "seq" in refused.value.errors
    finally:
        engine.dispose()
    assert scalar(url, select(func.count()).select_from(sample_services.pings)) == 0
    assert scalar(url, select(func.count()).select_from(outbox)) == 0


def _environ():
    import os

    return dict(os.environ)
