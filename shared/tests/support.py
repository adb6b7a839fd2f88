"""Helpers for the reliability tests: waiting, counting rows, reading queues."""

import time

from kombu import Connection, Queue
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from asn_shared.persistence import UnitOfWork, make_engine, outbox, session_factory


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def scalar(url: str, statement):
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return connection.scalar(statement)
    finally:
        engine.dispose()


def ping_counts(url: str) -> tuple[int, int]:
    """(rows, distinct sequence numbers) in the sink's pings table."""
    from sample_services import pings

    return (
        scalar(url, select(func.count()).select_from(pings)),
        scalar(url, select(func.count(pings.c.seq.distinct()))),
    )


def unpublished(url: str) -> int:
    return scalar(
        url, select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    )


def write_pings(url: str, first: int, count: int, fail: bool = False) -> None:
    """Write pings through the outbox exactly as the pinger service would."""
    from sample_services import send_pings

    engine = make_engine(url, pool_size=1)
    try:
        with UnitOfWork(session_factory(engine), service="pinger") as uow:
            send_pings(uow, first, count, fail)
    finally:
        engine.dispose()


def drain_queue(amqp_uri: str, queue: str, *, expect: int, timeout: float = 30.0) -> list:
    """Take messages off ``queue`` (acking them) until ``expect`` arrived, or time runs out."""
    taken = []
    deadline = time.monotonic() + timeout
    with Connection(amqp_uri) as connection:
        simple = connection.SimpleQueue(Queue(queue, durable=True, no_declare=True))
        while len(taken) < expect and time.monotonic() < deadline:
            try:
                message = simple.get(block=True, timeout=0.5)
            except simple.Empty:
                continue
            message.ack()
            taken.append(message)
        simple.close()
    return taken


def metric(exposition: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text exposition, or None if absent."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None
