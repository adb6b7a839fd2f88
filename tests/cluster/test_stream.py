"""The cluster's topology with ``QUEUE_TYPE=quorum``, and the event stream as an agency reads
it: declared by ``asn-admin declare-topology``, read with ``asn-admin follow`` (a separate
process, as an agency runs it) and with plain pika, on an agency user of its own."""

import io
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import amqp
import pika
import pytest
from kombu import Connection, Producer, Queue

from asn_shared.events import new_event, registry
from asn_shared.follower import Cursor, Follower
from asn_shared.messaging import EVENT_STREAM
from asn_testkit.cluster import add_agency
from asn_testkit.events import publish_many
from asn_testkit.waiting import wait_for

ENV = {
    "QUEUE_TYPE": "quorum",
    "EVENT_STREAM_MAX_AGE": "30D",
    "EVENT_STREAM_MAX_BYTES": "2000000000",
}


def asn_admin(amqp_uri: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asn_shared.cli", *args],
        env={**os.environ, **ENV, "AMQP_URI": amqp_uri, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def follower(amqp_uri: str, *args: str, output: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "asn_shared.cli", "follow", *args],
        env={**os.environ, "AMQP_URI": amqp_uri},
        stdout=output.open("a"),
        stderr=subprocess.DEVNULL,
    )


def follow(amqp_uri: str, *args: str) -> list[dict]:
    """``asn-admin follow ... --stop-when-idle 3``: the events it printed."""
    run = asn_admin(amqp_uri, "follow", *args, "--stop-when-idle", "3")
    assert run.returncode == 0, run.stderr[-2000:]
    return [json.loads(line) for line in run.stdout.splitlines()]


def unit(n: int):
    data = {"code": f"U-{n:04d}", "name": f"Unit {n}", "parent_code": None, "kind": "opd"}
    return new_event(registry.get("unit.registered", 1), {**data, "changed_at": datetime.now(UTC)})


def employee(n: int):
    data = {
        "nip": f"19850330201001{1 + n % 2}{1 + n % 999:03d}",
        "name": f"Pegawai {n}",
        "sex": "P",
        "unit": {"code": "U-0001", "name": "Unit 1", "parent_code": None},
        "jabatan": None,
        "version": 1,
    }
    return new_event(registry.get("employee.registered", 1), data)


@pytest.fixture
def topology(amqp_uri):
    declared = asn_admin(amqp_uri, "declare-topology")
    assert declared.returncode == 0, declared.stderr[-2000:]
    return declared.stdout


@pytest.fixture
def agency(broker, vhost, topology):
    """An agency's broker user made by ``asn-admin broker-users --agency``: its failover URI."""
    name = f"{vhost}-bkn"
    yield add_agency(broker, vhost, name, secrets.token_urlsafe(18))
    broker._api("DELETE", f"users/{quote(name, safe='')}")


def test_with_quorum_every_queue_is_quorum_with_explicit_limits_and_the_stream_replicated(
    broker, vhost, amqp_uri, topology
):
    queues = broker._api("GET", f"queues/{quote(vhost, safe='')}").json()
    by_name = {q["name"]: q for q in queues}
    assert f"stream {EVENT_STREAM}: kept 30D, at most 2000000000 bytes" in topology
    stream = by_name.pop(EVENT_STREAM)
    assert stream["type"] == "stream"
    assert stream["arguments"] == {
        "x-queue-type": "stream",
        "x-max-age": "30D",
        "x-max-length-bytes": 2_000_000_000,
    }
    path = f"queues/{quote(vhost, safe='')}/{EVENT_STREAM}"
    wait_for(lambda: len(broker._api("GET", path).json().get("members", [])) == 3, what="replicas")
    handlers = [name for name in by_name if name.startswith("evt-") and ".retry" not in name]
    assert len(handlers) >= 20 and len(by_name) == 2 * len(handlers) + 4
    for name, queue in by_name.items():
        arguments = queue["arguments"]
        assert queue["type"] == "quorum" and len(queue["members"]) == 3, name
        assert arguments["x-delivery-limit"] == 20 and arguments["x-overflow"] == "reject-publish"
        if name.endswith(".dead-letter"):
            assert "x-dead-letter-exchange" not in arguments, name
            continue
        consumer = name.rsplit("--", 1)[1].split(".")[0]
        assert arguments["x-dead-letter-strategy"] == "at-least-once", name
        assert arguments["x-dead-letter-exchange"] == f"{consumer}.redelivery", name
        wanted = name.removesuffix(".retry") if name.endswith(".retry") else None
        assert arguments["x-dead-letter-routing-key"] == (wanted or f"{consumer}.dead-letter")
    again = asn_admin(amqp_uri, "declare-topology", EVENT_STREAM_MAX_AGE="90D")
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"stream {EVENT_STREAM}: kept with its own retention" in again.stdout


def test_an_agency_reads_what_was_published_before_it_existed_from_start_or_a_time(
    amqp_uri, agency
):
    before = publish_many(amqp_uri, [*map(unit, range(10)), *map(employee, range(10))])
    time.sleep(1.1)
    since = datetime.now(UTC)
    after = publish_many(amqp_uri, [*map(unit, range(10, 15))])

    every = follow(agency, "--from", "first")
    assert [e["id"] for e in every] == [e.id for e in [*before, *after]]
    assert [e["id"] for e in follow(agency, "--from", since.isoformat())] == [e.id for e in after]
    registered = follow(agency, "--type", "employee.registered")
    assert [e["id"] for e in registered] == [e.id for e in before[10:]]
    assert follow(agency, "--from", "next") == []

    # a plain AMQP client: what the envelope's AMQP properties carry survives the stream
    read = read_with_pika(agency.split(";")[1], count=len(every))
    assert [props.message_id for props, _ in read] == [e["id"] for e in every]
    first, body = read[0]
    assert first.type == before[0].type and first.content_type == "application/cloudevents+json"
    assert first.timestamp == int(before[0].time.timestamp())
    assert isinstance(first.headers["x-stream-offset"], int)
    assert body.startswith(b"{") and before[0].id.encode() in body


def test_on_the_stream_an_event_keeps_its_properties_and_only_scalar_headers(amqp_uri, agency):
    (event,) = publish_many(amqp_uri, [unit(0)])
    headers = {"x-text": "teks", "x-number": 7, "x-list": ["a", "b"], "x-table": {"a": 1}}
    with Connection(amqp_uri) as connection:
        Producer(connection).publish(
            b"{}", exchange="competency.events", routing_key="unit.registered", headers=headers
        )

    (properties, _), (other, _) = read_with_pika(agency.split(";")[2], count=2)
    # everything the outbox relay sets survives: the properties mirror the envelope
    kept = {name: getattr(properties, name) for name in event.amqp_properties()}
    assert kept == event.amqp_properties()
    # a stream keeps scalar headers and drops arrays and tables: the events carry none
    assert properties.headers.keys() == {"x-stream-offset"}
    assert {k: v for k, v in other.headers.items() if k != "x-stream-offset"} == {
        "x-text": "teks",
        "x-number": 7,
    }


def read_with_pika(uri: str, *, count: int, offset: object = "first") -> list:
    """The README's pika example: ``count`` messages from ``offset``."""
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=100)  # per consumer: a stream refuses a global one
    read = []
    for _method, properties, body in channel.consume(
        EVENT_STREAM, arguments={"x-stream-offset": offset}, inactivity_timeout=5
    ):
        if properties is None:
            break
        read.append((properties, body))
        channel.basic_ack(_method.delivery_tag)
        if len(read) == count:
            break
    connection.close()
    return read


def test_the_agency_user_reads_the_stream_and_nothing_else(amqp_uri, agency, vhost):
    handler = "evt-competency-assessment.recorded--training.on_assessment_recorded"
    for queue in (handler, "training.dead-letter"):
        with Connection(agency.split(";")[0]) as connection:
            with pytest.raises(amqp.exceptions.AccessRefused, match=f"queue '{queue}'"):
                connection.SimpleQueue(Queue(queue, no_declare=True)).get(block=False)
    with Connection(agency, transport_options={"confirm_publish": True}) as connection:
        with pytest.raises(amqp.exceptions.AccessRefused):
            Producer(connection).publish(b"{}", exchange="competency.events", routing_key="x")
    with Connection(agency) as connection:
        with pytest.raises(amqp.exceptions.AccessRefused):
            Queue(f"{vhost}-own", durable=True)(connection.channel()).declare()


def test_a_follower_killed_mid_way_resumes_from_its_cursor(amqp_uri, agency, tmp_path):
    events = [unit(n) for n in range(400)]
    publish_many(amqp_uri, events[:100])
    cursor, output = tmp_path / "cursor", tmp_path / "events.jsonl"
    publishing = threading.Thread(target=trickle, args=(amqp_uri, events[100:]))
    running = follower(agency, "--cursor", str(cursor), output=output)
    publishing.start()
    wait_for(lambda: len(output.read_text().splitlines()) >= 150, what="150 events printed")
    running.send_signal(signal.SIGKILL)  # mid-way: more are being published meanwhile
    running.wait()
    printed_before = len(output.read_text().splitlines())
    assert printed_before < len(events)
    publishing.join()
    resumed = follower(agency, "--cursor", str(cursor), "--stop-when-idle", "3", output=output)
    assert resumed.wait(120) == 0
    ids = [json.loads(line)["id"] for line in output.read_text().splitlines()]
    # nothing missed, in order; the one event in hand at the kill may come again, no other
    deduplicated = list(dict.fromkeys(ids))
    assert deduplicated == [e.id for e in events]
    assert len(ids) - len(deduplicated) <= 1
    assert int(cursor.read_text()) == len(events)


def test_a_follower_writes_each_event_and_its_newline_in_one_write(amqp_uri, agency):
    """A kill lands between two writes: were a line's newline written apart (as print() does
    when Python runs unbuffered), the event printed again after a restart would be glued on."""
    publish_many(amqp_uri, [unit(n) for n in range(5)])
    writes: list[str] = []

    class Recording(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    printed = Follower(agency, Cursor(None), out=Recording(), stop_when_idle=3).run()
    assert printed >= 5
    assert len(writes) == printed
    assert all(text.endswith("\n") and text.count("\n") == 1 for text in writes)


def trickle(amqp_uri: str, events: list) -> None:
    for first in range(0, len(events), 10):
        publish_many(amqp_uri, events[first : first + 10])
        time.sleep(0.05)
