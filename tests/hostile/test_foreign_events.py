"""Foreign messages on the producers' exchanges: not JSON, not a CloudEvent, an unknown
version, data that fails the schema, another event under the routing key, text no database
can store, several megabytes.

Each subscriber parks every one of them in its ``<service>.dead-letter`` queue with an
``x-dead-letter-reason`` naming the cause, and a valid event published right after is
handled as usual: nothing else is disturbed.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import pytest
from kombu import Connection, Producer, Queue
from kombu.message import Message

from asn_shared.events import new_event, registry
from asn_shared.messaging import (
    DEAD_LETTER_REASON,
    ORIGINAL_QUEUE,
    dead_letter_queue_name,
    event_exchange,
)
from asn_testkit.events import employee_data, publish
from asn_testkit.waiting import wait_for

MiB = 1024 * 1024
CE_TYPE = "id.kompasasn.{producer}.{name}.v{version}"


def envelope(producer: str, name: str, data: Any, *, version: int = 1, **extra) -> bytes:
    body = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"urn:kompasasn:{producer}",
        "type": CE_TYPE.format(producer=producer, name=name, version=version),
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
        **extra,
    }
    return json.dumps(body).encode()


def completion(nip: str, unit: str, **fields) -> dict[str, Any]:
    return {
        "enrollment_id": str(uuid.uuid4()),
        "proposal_id": None,
        "employee_nip": nip,
        "unit_code": unit,
        "programme_code": None,
        "programme_title": "Seminar Pelayanan Publik",
        "form": "klasikal",
        "activity": "seminar",
        "jp": 8,
        "started_on": "2026-03-02",
        "ended_on": "2026-03-02",
        "jp_year": 2026,
        "competency_codes": ["M.05"],
        "cost_rupiah": 0,
        **fields,
    }


def new_nip() -> str:
    serial = 1 + uuid.uuid4().int % 999
    return f"{19700101 + uuid.uuid4().int % 28:08d}2020031{serial:03d}"


def foreign_messages(producer: str, name: str, data: dict) -> dict[str, tuple[bytes, str]]:
    """Message id → (body, words the dead-letter reason must hold)."""
    if name == "enrollment.completed":
        other = envelope("competency", "employee.registered", employee_data(new_nip()))
    else:
        other = envelope("training", "enrollment.completed", completion(new_nip(), "KEL-X"))
    cases = {
        "not-json": (b"\xff\xfe<event>bukan JSON</event>", "body is not JSON"),
        "not-a-cloudevent": (b'{"hello": "world"}', "missing CloudEvents attributes"),
        "old-specversion": (envelope(producer, name, data, specversion="0.3"), "specversion"),
        "unknown-version": (envelope(producer, name, data, version=7), "unknown event type"),
        "wrong-schema": (
            envelope(producer, name, {**data, "nip": "123", "employee_nip": "123"}),
            "does not match its schema",
        ),
        "another-event": (other, f"arrived on the queue of {name}"),
        "huge": (
            envelope(producer, name, {**data, "padding": "x" * (5 * MiB)}),
            "over EVENT_MAX_BYTES, 2 MiB",  # as configured in conftest
        ),
        "nul-in-text": (
            envelope(producer, name, {**data, "name": "Siti\u0000", "programme_title": "A\u0000"}),
            "cannot be stored",
        ),
        "surrogate-in-text": (
            envelope(producer, name, {**data, "name": "Siti\ud800", "programme_title": "A\udfff"}),
            "cannot be stored",
        ),
    }
    return {f"{case}-{uuid.uuid4().hex[:8]}": message for case, message in cases.items()}


def publish_raw(amqp_uri: str, producer: str, routing_key: str, messages: dict) -> None:
    exchange = event_exchange(producer)
    with Connection(amqp_uri) as connection:
        producer_ = Producer(connection)
        for message_id, (body, _) in messages.items():
            producer_.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                declare=[exchange],
                retry=True,
                message_id=message_id,
                content_type="application/cloudevents+json",
                content_encoding="utf-8",
                delivery_mode=2,
            )


def dead_letters(amqp_uri: str, service: str, ids: set[str], timeout: float = 90.0) -> dict:
    """Take ``service``'s dead-letter queue until every message of ``ids`` arrived (or the
    time is up); return those by message id. Other parked messages are dropped."""
    found: dict[str, Message] = {}
    deadline = time.monotonic() + timeout
    queue = Queue(dead_letter_queue_name(service), durable=True, no_declare=True)
    with Connection(amqp_uri) as connection:
        bound = queue(connection.default_channel)  # basic.get: bodies stay undecoded
        while ids - set(found) and time.monotonic() < deadline:
            message = bound.get()
            if message is None:
                time.sleep(0.2)
                continue
            message.ack()
            if message.properties.get("message_id") in ids:
                found[message.properties["message_id"]] = message
    return found


def assert_parked(amqp_uri: str, messages: dict, consumers: dict[str, str]) -> None:
    """Every message is in each consumer's dead-letter queue, with its reason."""
    for service, handler in consumers.items():
        parked = dead_letters(amqp_uri, service, set(messages))
        assert sorted(parked) == sorted(messages), (service, sorted(parked))
        for message_id, (body, words) in messages.items():
            copy = parked[message_id]
            reason = copy.headers[DEAD_LETTER_REASON]
            assert words in reason, (service, message_id, reason)
            assert copy.headers[ORIGINAL_QUEUE].endswith(f"--{service}.{handler}")
            parked_body = copy.body if isinstance(copy.body, bytes) else copy.body.encode()
            assert parked_body == body  # as it came, for someone to look at


def found(api, path: str) -> bool:
    return api.get(path, expect=None).status_code == 200


@pytest.fixture
def suite_amqp(hostile_suite) -> str:
    return hostile_suite.amqp_uri


def test_foreign_employee_events_are_parked_and_a_valid_one_still_flows(apis, suite_amqp):
    consumers = {"training": "employee_registrations", "notification": "recipients"}
    messages = foreign_messages("competency", "employee.registered", employee_data(new_nip()))
    publish_raw(suite_amqp, "competency", "employee.registered", messages)

    nip = new_nip()
    valid = publish(suite_amqp, "employee.registered", employee_data(nip))
    paths = {"notification": f"/employees/{nip}", "training": f"/employees/{nip}/jp"}
    for service, path in paths.items():
        wait_for(partial(found, apis[service], path), 60, f"{service} to learn the employee")
    assert apis["training"].get(paths["training"]).json()["employee_name"] == "Siti Rahmawati"

    assert_parked(suite_amqp, messages, consumers)
    for service in consumers:
        assert valid.id not in dead_letters(suite_amqp, service, {valid.id}, timeout=1)
        apis[service].serving()


def test_foreign_completions_are_parked_and_a_valid_one_still_counts(apis, suite_amqp):
    consumers = {
        "competency": "development",
        "budget": "spending",
        "notification": "deliveries",
    }
    competency = apis["competency"]
    unit = f"KEL-{uuid.uuid4().hex[:8].upper()}"
    competency.post("/units", json={"code": unit, "name": f"Kelurahan {unit}"})
    person = {"nip": new_nip(), "name": "Budi", "unit_code": unit, "email": "budi@plaju.test"}
    nip = competency.post("/employees", json=person).json()["nip"]
    messages = foreign_messages("training", "enrollment.completed", completion(nip, unit))
    publish_raw(suite_amqp, "training", "enrollment.completed", messages)

    definition = registry.get("enrollment.completed", 1)
    data = completion(nip, unit, enrollment_id=uuid.uuid4(), started_on=date(2026, 3, 2))
    data["ended_on"] = date(2026, 3, 2)
    valid = publish(suite_amqp, event=new_event(definition, data))

    def development() -> list | None:
        found = competency.get(f"/employees/{nip}/profile").json()["development"]
        return found["activities"] or None

    activities = wait_for(development, 60, "the valid completion in the profile")
    assert [a["programme_title"] for a in activities] == ["Seminar Pelayanan Publik"]

    assert_parked(suite_amqp, messages, consumers)
    for service in consumers:
        assert valid.id not in dead_letters(suite_amqp, service, {valid.id}, timeout=1)
        apis[service].serving()
