"""An agency catching up on the event stream: N events are already on ``asn.event-stream``
(replicated on the three-node cluster of deploy/rabbitmq/cluster.sh) when the agency first
reads it, with a broker user of its own, from the first event. How fast does it get through
them?

    .venv/bin/python bench/stream_catchup.py [--events 100000]

Two readers, one after the other, each from the first event:

* ``asn-admin follow --from first --cursor FILE``, a process of its own as an agency runs
  it, printing every event as a JSON line to a file and storing its cursor after each one;
  timed from its start until the cursor file names the offset after the last event;
* a plain pika consumer (the README's example): ``x-stream-offset: first``, per-consumer
  prefetch, one ack per message; timed from its connection until the last message.

What the follower printed is checked: every event, in the order published, once. The events
are CloudEvents the services publish (``employee.registered``, ``unit.registered``), sent
to their exchange with publisher confirms, in batches, before the readers start.

Starts the cluster when it is not running (and stops it afterwards unless --keep-cluster);
never touches the node on 5672. Results go to bench/results/<label>.json and .md (or
$BENCH_RESULTS); the exit status is 1 when the follower missed, repeated or reordered one.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pika
from kombu import Connection

from asn_shared.events import new_event, registry
from asn_shared.messaging import (
    EVENT_STREAM,
    ConfirmingPublisher,
    OutgoingMessage,
    declare_event_stream,
    ensure_exchange,
    event_exchange,
)
from asn_testkit.chaos import SERVICES
from asn_testkit.cluster import ClusterBroker, add_agency, running_cluster

# BENCH_RESULTS: another folder (the CI smoke run writes to a temporary one)
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).parent / "results")
BATCH = 1000


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def event(n: int):
    """Every tenth a unit, the rest employees: two of competency's events."""
    if n % 10 == 0:
        data = {"code": f"U-{n:06d}", "name": f"Unit {n}", "parent_code": None, "kind": "opd"}
        return new_event(registry.get("unit.registered", 1), {**data, "changed_at": _now()})
    data = {
        "nip": f"19850330201001{1 + n % 2}{1 + n % 999:03d}",
        "name": f"Pegawai {n}",
        "sex": "P",
        "unit": {"code": f"U-{n - n % 10:06d}", "name": "Unit", "parent_code": None},
        "jabatan": None,
        "version": 1,
    }
    return new_event(registry.get("employee.registered", 1), data)


def _now() -> datetime:
    return datetime.now(UTC)


def publish(amqp_uri: str, count: int) -> tuple[list[str], int, float]:
    """``count`` events onto the stream through their exchanges: their ids, bytes, seconds."""
    ids, size, publisher = [], 0, ConfirmingPublisher(amqp_uri)
    started = time.monotonic()
    try:
        for first in range(0, count, BATCH):
            batch = []
            for n in range(first, min(first + BATCH, count)):
                built = event(n)
                body = built.to_json()
                exchange = event_exchange(built.definition.producer).name
                batch.append(
                    OutgoingMessage(built.id, exchange, built.name, body, built.amqp_properties())
                )
                size += len(body)
            confirmed = publisher.publish(batch)
            if len(confirmed) != len(batch):
                raise RuntimeError(f"{len(batch) - len(confirmed)} events not confirmed")
            ids.extend(confirmed)
    finally:
        publisher.close()
    return ids, size, time.monotonic() - started


def read_with_follower(agency_uri: str, count: int, workdir: Path) -> dict:
    """``asn-admin follow`` from the first event until its cursor says all were read."""
    cursor, output = workdir / "cursor", workdir / "events.jsonl"
    started = time.monotonic()
    command = ["follow", "--from", "first", "--cursor", str(cursor)]
    follower = subprocess.Popen(
        [sys.executable, "-m", "asn_shared.cli", *command],
        env={**os.environ, "AMQP_URI": agency_uri},
        stdout=output.open("w"),
        stderr=(workdir / "follower.log").open("w"),
    )
    first_seen = None
    try:
        while _offset(cursor) < count:
            if first_seen is None and _offset(cursor) > 0:
                first_seen = time.monotonic() - started
            if follower.poll() is not None:
                raise RuntimeError(f"the follower exited: {(workdir / 'follower.log').read_text()}")
            time.sleep(0.05)
        seconds = time.monotonic() - started
    finally:
        follower.terminate()
        follower.wait(30)
    return {
        "seconds": round(seconds, 2),
        "events_per_second": round(count / seconds),
        "first_event_after_s": round(first_seen or seconds, 2),
        "ids": [json.loads(line)["id"] for line in output.read_text().splitlines()],
    }


def _offset(cursor: Path) -> int:
    try:
        return int(cursor.read_text())
    except (FileNotFoundError, ValueError):  # not yet written, or being replaced
        return 0


def read_with_pika(agency_uri: str, count: int) -> dict:
    """A plain pika consumer from the first event; each message acked."""
    started = time.monotonic()
    connection = pika.BlockingConnection(pika.URLParameters(agency_uri.split(";")[0]))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=1000)  # per consumer: a stream refuses a global one
    read = 0
    for method, properties, _body in channel.consume(
        EVENT_STREAM, arguments={"x-stream-offset": "first"}, inactivity_timeout=30
    ):
        if properties is None:
            break
        channel.basic_ack(method.delivery_tag)
        read += 1
        if read == count:
            break
    seconds = time.monotonic() - started
    connection.close()
    if read != count:
        raise RuntimeError(f"pika read {read} of {count} events")
    return {"seconds": round(seconds, 2), "events_per_second": round(count / seconds)}


def run(args: argparse.Namespace, broker: ClusterBroker, workdir: Path) -> dict:
    vhost = broker.create_vhost()
    agency = f"{vhost}-agency"
    try:
        with Connection(broker.uri(vhost)) as connection:
            for producer in SERVICES:
                ensure_exchange(connection, event_exchange(producer))
            declare_event_stream(connection, SERVICES)
        ids, size, publish_seconds = publish(broker.uri(vhost), args.events)
        say(f"{len(ids)} events on the stream in {publish_seconds:.1f}s ({size} bytes of JSON)")
        agency_uri = add_agency(broker, vhost, agency, secrets.token_urlsafe(18))
        follower = read_with_follower(agency_uri, args.events, workdir)
        printed = follower.pop("ids")
        say(f"asn-admin follow: {follower}")
        plain = read_with_pika(agency_uri, args.events)
        say(f"pika: {plain}")
        return {
            "events": args.events,
            "bytes_of_json": size,
            "publish_seconds": round(publish_seconds, 1),
            "follower": follower,
            "pika": plain,
            "follower_printed": len(printed),
            "follower_in_order_once": printed == ids,
        }
    finally:
        broker._api("DELETE", f"users/{quote(agency, safe='')}")
        broker.delete_vhost(vhost)


def markdown(result: dict) -> str:
    rows = [
        ("events on the stream", result["events"]),
        ("average event size (bytes of JSON)", result["bytes_of_json"] // result["events"]),
        ("asn-admin follow: events/s (process start to last cursor)",
         result["follower"]["events_per_second"]),
        ("asn-admin follow: seconds in all / to the first event",
         f"{result['follower']['seconds']} / {result['follower']['first_event_after_s']}"),
        ("pika, one ack per message: events/s", result["pika"]["events_per_second"]),
        ("follower printed every event once, in order", result["follower_in_order_once"]),
    ]  # fmt: skip
    return "\n".join(["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--label", default="stream-catchup", help="results file name")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running")
    args = parser.parse_args()
    with running_cluster(keep=args.keep_cluster) as cluster:
        result = run(args, cluster.broker(), Path(tempfile.mkdtemp(prefix="stream-bench-")))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.label}.md").write_text(markdown(result) + "\n")
    print(markdown(result))
    return 0 if result["follower_in_order_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
