"""Outbox relay publish rate against a raw kombu publisher with confirms, in the same run.

    .venv/bin/python bench/relay_throughput.py [--events 10000] [--rounds 3]

Both sides publish the same bodies, persistent, to a durable topic exchange with a durable
queue bound to it, and wait for publisher confirms. The baseline publishes with kombu and
``confirm_publish`` (one confirm awaited per message); the relay reads committed outbox rows
from PostgreSQL, publishes them and marks them published. Rounds alternate so that machine
noise hits both alike; the ratio of medians is the figure to compare across machines.
Results go to bench/results/relay.json and relay.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from kombu import Connection, Exchange, Producer, Queue
from marshmallow import Schema, fields
from sqlalchemy import update

from asn_shared.events import event_type
from asn_shared.messaging import ConfirmingPublisher
from asn_shared.outbox import OutboxRelay
from asn_shared.persistence import UnitOfWork, make_engine, outbox, session_factory
from asn_testkit.events import publish_raw
from asn_testkit.infrastructure import Broker, DatabaseServer

# BENCH_RESULTS: another folder (the CI smoke run writes to a temporary one)
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).parent / "results")
EXCHANGE = Exchange("bench.events", "topic", durable=True)


@event_type("measure.taken", version=1, producer="bench")
class MeasureTaken(Schema):
    """One measurement, about the size of a small domain event."""

    seq = fields.Integer(required=True)
    note = fields.String(required=True)


def write_outbox(url: str, count: int) -> list[bytes]:
    engine = make_engine(url, pool_size=1)
    with UnitOfWork(session_factory(engine), service="bench") as uow:
        events = [uow.publish("measure.taken", {"seq": i, "note": "x" * 200}) for i in range(count)]
        uow.commit()
    engine.dispose()
    return [event.to_json() for event in events]


def reset_outbox(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    with engine.begin() as connection:
        connection.execute(update(outbox).values(published_at=None))
    engine.dispose()


def purge(amqp_uri: str) -> None:
    with Connection(amqp_uri) as connection:
        Queue("bench-sink", EXCHANGE, routing_key="#", durable=True)(connection.channel()).purge()


def baseline(amqp_uri: str, bodies: list[bytes]) -> float:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection, exchange=EXCHANGE)
        started = time.perf_counter()
        for body in bodies:
            publish_raw(producer, body)
        return len(bodies) / (time.perf_counter() - started)


def relay(amqp_uri: str, url: str, count: int) -> float:
    engine = make_engine(url, pool_size=2)
    outbox_relay = OutboxRelay(engine, ConfirmingPublisher(amqp_uri), service="bench")
    started = time.perf_counter()
    published = 0
    while published < count:
        published += outbox_relay.relay_batch()
    rate = published / (time.perf_counter() - started)
    outbox_relay.publisher.close()
    engine.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    containers: list = []
    broker, databases = Broker.discover(containers), DatabaseServer.discover(containers)
    vhost = broker.create_vhost()
    amqp_uri, url = broker.uri(vhost), databases.create()
    try:
        with Connection(amqp_uri) as connection:
            Queue("bench-sink", EXCHANGE, routing_key="#", durable=True)(
                connection.channel()
            ).declare()
        bodies = write_outbox(url, args.events)
        rates: dict[str, list[float]] = {"baseline": [], "relay": []}
        for round_ in range(args.rounds):
            purge(amqp_uri)
            rates["baseline"].append(baseline(amqp_uri, bodies))
            purge(amqp_uri)
            reset_outbox(url)
            rates["relay"].append(relay(amqp_uri, url, args.events))
            print(
                f"round {round_ + 1}: baseline {rates['baseline'][-1]:,.0f}/s, "
                f"relay {rates['relay'][-1]:,.0f}/s",
                flush=True,
            )
    finally:
        broker.delete_vhost(vhost)
        databases.drop(url)
        databases.drop_templates()
        for container in containers:
            container.stop()
    report(args.events, rates)


def report(events: int, rates: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(values) for name, values in rates.items()}
    result = {
        "events": events,
        "rounds": len(rates["relay"]),
        "messages_per_second": {name: round(value) for name, value in medians.items()},
        "relay_to_baseline": round(medians["relay"] / medians["baseline"], 2),
        "all_rounds": {name: [round(v) for v in values] for name, values in rates.items()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "relay.json").write_text(json.dumps(result, indent=2) + "\n")
    rate = result["messages_per_second"]
    table = (
        "| publisher | messages/s (median) |\n|---|---|\n"
        f"| raw kombu, confirm per message | {rate['baseline']:,} |\n"
        f"| outbox relay (read, publish, confirm, mark) | {rate['relay']:,} |\n"
        f"\nrelay / baseline = **{result['relay_to_baseline']}** ({events:,} events, "
        f"{result['rounds']} rounds)\n"
    )
    (RESULTS / "relay.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
