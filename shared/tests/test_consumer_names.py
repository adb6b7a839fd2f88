"""Handlers keep the consumer name they declare: a queue of an older release's name is moved
to the declared one and deleted, and what its inbox knew stays known."""

import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import amqp
import pytest
from alembic import command
from kombu import Connection, Producer
from sqlalchemy import insert, select, text

import competency
from asn_shared.base import ServiceBase
from asn_shared.entrypoints import subscribe, subscribers_of
from asn_shared.events import new_event, registry
from asn_shared.messaging import (
    Subscription,
    dead_letter_queue,
    declare_topology,
    redelivery_exchange_name,
    retry_queue_name,
)
from asn_shared.migrations import alembic_config
from asn_shared.persistence import inbox, make_engine
from asn_shared.topology import FormerQueueInUse, declare_service_topology
from asn_testkit.events import publish
from asn_testkit.metrics import events_handled
from asn_testkit.waiting import wait_for
from competency.service import CompetencyService

SERVICE_DIR = Path(competency.__file__).resolve().parents[2]
MIGRATIONS = Path(competency.__file__).parent / "migrations"
BEFORE_RENAME = "competency_0002"  # the last revision whose inbox knew method names
OLD = Subscription("training", "enrollment.completed", "competency", "on_enrollment_completed")
NEW_QUEUE = "evt-training-enrollment.completed--competency.development"


def handler(self, event): ...


def test_a_subscription_without_a_consumer_name_is_refused():
    with pytest.raises(ValueError, match='needs consumer="<name>"'):
        subscribe("ping.sent")(handler)
    with pytest.raises(ValueError, match="lower-case letters"):
        subscribe("ping.sent", consumer="Pings")(handler)
    with pytest.raises(ValueError, match="lower-case letters"):
        subscribe("ping.sent", consumer="pings", formerly="on-ping")(handler)


def test_two_handlers_under_one_name_are_refused():
    class SameName(ServiceBase):
        name = "same_name"

        @subscribe("ping.sent", consumer="pings")
        def first(self, event): ...

        @subscribe("ping.sent", consumer="pings")
        def second(self, event): ...

    class SameQueue(ServiceBase):
        name = "same_queue"

        @subscribe("ping.sent", consumer="pings")
        @subscribe("ping.sent", version=1, consumer="pings")
        def only(self, event): ...

    with pytest.raises(ValueError, match="'pings' is used by first and second"):
        subscribers_of(SameName)
    with pytest.raises(ValueError, match=r"ping\.sent twice under consumer 'pings'"):
        subscribers_of(SameQueue)


def completion(title: str) -> dict:
    return {
        "enrollment_id": uuid.uuid4(),
        "proposal_id": uuid.uuid4(),
        "employee_nip": "198503302010011001",
        "unit_code": "PLG-KEC-PLAJU",
        "programme_code": "PRG-01",
        "programme_title": title,
        "form": "klasikal",
        "activity": "pelatihan teknis",
        "jp": 8,
        "started_on": date(2026, 3, 2),
        "ended_on": date(2026, 3, 3),
        "jp_year": 2026,
        "competency_codes": ["M.05"],
        "cost_rupiah": 1_000_000,
    }


def queue_exists(amqp_uri: str, name: str) -> bool:
    with Connection(amqp_uri) as connection:
        try:
            connection.channel().queue_declare(name, passive=True)
        except amqp.exceptions.NotFound:
            return False
    return True


def asn_admin(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asn_shared.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def older_release(amqp_uri, database):
    """A competency database and topology as the release before declared names left them:
    the inbox at ``BEFORE_RENAME``, the handler queue and its retry queue under the method's
    name. Returns the database URL."""
    url = database()  # the library's tables only; competency's at the older revision
    command.upgrade(alembic_config(MIGRATIONS, url), BEFORE_RENAME)
    with Connection(amqp_uri) as connection:
        declare_topology(
            connection,
            subscriptions=[OLD],
            dead_letter_queues=[dead_letter_queue("competency")],
        )
    return url


def test_waiting_messages_move_to_the_declared_name_and_handled_events_stay_handled(
    older_release, amqp_uri, run_service
):
    definition = registry.get("enrollment.completed", 1)
    handled, waiting, retrying, late = (
        new_event(definition, completion(title))
        for title in (
            "Handled before the upgrade",
            "Waiting in the old queue",
            "Being retried",
            "Handled by an older replica after the migration",
        )
    )
    engine = make_engine(older_release, pool_size=1)
    handled_by_older_release(engine, handled)
    publish(amqp_uri, event=handled)  # redelivered meanwhile: it waits in the old queue
    publish(amqp_uri, event=waiting)
    with Connection(amqp_uri) as connection:  # a failed attempt waiting out its back-off
        Producer(connection).publish(
            retrying.to_json(),
            exchange=redelivery_exchange_name("competency"),
            routing_key=retry_queue_name(OLD.queue_name),
            headers={"x-attempts": 1},
            expiration=15,  # long enough to be moved while it waits
            content_type="application/cloudevents+json",
            message_id=retrying.id,
        )
    wait_for(lambda: queue_depth(amqp_uri, OLD.queue_name) == 2, what="two events waiting")

    env = {"AMQP_URI": amqp_uri, "COMPETENCY_DATABASE_URL": older_release}
    migrated = asn_admin("migrate", "competency", **env)
    assert migrated.returncode == 0, migrated.stderr
    declared = asn_admin("declare-topology", "competency", **env)
    assert declared.returncode == 0, declared.stderr
    old_retry, new_retry = retry_queue_name(OLD.queue_name), retry_queue_name(NEW_QUEUE)
    assert f"queue {old_retry}: 1 message(s) moved to {new_retry}" in declared.stderr
    assert f"queue {OLD.queue_name}: 2 message(s) moved to {NEW_QUEUE}" in declared.stderr
    assert not queue_exists(amqp_uri, OLD.queue_name)
    assert not queue_exists(amqp_uri, old_retry)
    with engine.connect() as connection:
        consumers = connection.execute(select(inbox.c.consumer)).scalars().all()
    assert consumers == ["competency.development"]
    handled_by_older_release(engine, late)  # one not stopped in time wrote its old name

    service = run_service(
        "competency",
        "competency.service:CompetencyService",
        SERVICE_DIR / "config.yaml",
        older_release,
    )
    publish(amqp_uri, event=late)
    wait_for(
        lambda: events_handled(service.url, "on_enrollment_completed") == 4,
        60,
        "the four events",
    )
    assert events_handled(service.url, "on_enrollment_completed", "duplicate") == 2
    with engine.connect() as connection:
        titles = connection.execute(
            text("SELECT programme_title FROM development_activities ORDER BY 1")
        ).scalars()
        assert list(titles) == ["Being retried", "Waiting in the old queue"]
    engine.dispose()
    assert not queue_exists(amqp_uri, OLD.queue_name)  # the service declared only its own


def handled_by_older_release(engine, event) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(inbox).values(
                consumer=f"competency.{OLD.handler}", event_id=event.id, event_type=event.type
            )
        )


def queue_depth(amqp_uri: str, name: str) -> int:
    with Connection(amqp_uri) as connection:
        return connection.channel().queue_declare(name, passive=True).message_count


def test_a_former_queue_still_consumed_is_left_alone(older_release, amqp_uri):
    with Connection(amqp_uri) as connection:  # a replica of the older release still reads it
        reader = connection.channel()
        reader.basic_consume(OLD.queue_name, callback=lambda message: None)
        with Connection(amqp_uri) as admin, pytest.raises(FormerQueueInUse, match="stop every"):
            declare_service_topology(admin, CompetencyService)
        assert not queue_exists(amqp_uri, NEW_QUEUE)  # nothing declared beside it
    assert queue_exists(amqp_uri, OLD.queue_name)
