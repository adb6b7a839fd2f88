"""Moving a classic setup to quorum queues (README, "Moving to quorum queues"): with the
services stopped and messages waiting in handler, retry and dead-letter queues,
``QUEUE_TYPE=quorum asn-admin declare-topology --convert-classic`` leaves every queue a
quorum queue with its arguments and bindings, and every message still there."""

import os
import subprocess
import sys
import uuid
from datetime import date
from urllib.parse import quote

import amqp
from kombu import Connection

from asn_shared.events import new_event, registry
from asn_shared.messaging import EVENT_STREAM
from asn_shared.topology import subscriptions_of
from asn_testkit.events import drain_queue, publish_many
from competency.service import CompetencyService

# competency's queue for training's enrollment.completed, whatever its handler's name
(HANDLER,) = [
    subscription.queue_name
    for subscription in subscriptions_of(CompetencyService, "quorum")
    if subscription.event_name == "enrollment.completed"
]


def asn_admin(amqp_uri: str, *args: str, queue_type: str) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [sys.executable, "-m", "asn_shared.cli", "declare-topology", *args],
        env={**os.environ, "AMQP_URI": amqp_uri, "QUEUE_TYPE": queue_type},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def completion(n: int):
    data = {
        "enrollment_id": uuid.uuid4(),
        "proposal_id": None,
        "employee_nip": "198503302010011001",
        "unit_code": "U-PLAJU",
        "programme_code": "PRG-01",
        "programme_title": "Pelatihan Kepemimpinan Pengawas",
        "form": "klasikal",
        "activity": "pelatihan kepemimpinan",
        "jp": 24 + n,
        "started_on": date(2026, 3, 2),
        "ended_on": date(2026, 3, 5),
        "jp_year": 2026,
        "competency_codes": ["M.05"],
        "cost_rupiah": 2_500_000,
    }
    return new_event(registry.get("enrollment.completed", 1), data)


def park(amqp_uri: str, queue: str, body: bytes, **properties) -> None:
    with Connection(amqp_uri.split(";")[0]) as connection:
        channel = connection.channel()
        channel.basic_publish(amqp.Message(body, **properties), exchange="", routing_key=queue)


def test_classic_queues_become_quorum_queues_and_keep_every_message(broker, vhost, amqp_uri):
    asn_admin(amqp_uri, queue_type="classic")  # the running classic setup
    events = publish_many(amqp_uri, [completion(n) for n in range(5)])
    park(amqp_uri, f"{HANDLER}.retry", b"waiting", expiration="3600000")
    park(
        amqp_uri,
        "competency.dead-letter",
        b"parked",
        application_headers={"x-dead-letter-reason": "failed 5 times"},
    )

    converted = asn_admin(amqp_uri, "--convert-classic", queue_type="quorum")
    assert f"competency: {HANDLER} is a quorum queue now, 5 message(s) kept" in converted.stdout
    assert f"competency: {HANDLER}.retry is a quorum queue now, 1 message(s) kept" in (
        converted.stdout
    )
    queues = broker._api("GET", f"queues/{quote(vhost, safe='')}").json()
    assert not [q["name"] for q in queues if q["name"].endswith(".converting")]
    kinds = {q["name"]: q["type"] for q in queues if q["name"] != EVENT_STREAM}
    assert len(kinds) > 40 and set(kinds.values()) == {"quorum"}, kinds
    again = asn_admin(amqp_uri, "--convert-classic", queue_type="quorum")
    assert "is a quorum queue now" not in again.stdout

    # the handler queue is bound as before: a new event reaches it
    later = publish_many(amqp_uri, [completion(9)])
    kept = drain_queue(amqp_uri, HANDLER, expect=6)
    assert [m.properties["message_id"] for m in kept] == [e.id for e in [*events, *later]]
    assert [m.body for m in drain_queue(amqp_uri, f"{HANDLER}.retry", expect=1)] == [b"waiting"]
    parked = drain_queue(amqp_uri, "competency.dead-letter", expect=1)
    assert parked[0].headers["x-dead-letter-reason"] == "failed 5 times"
