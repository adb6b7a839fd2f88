"""Each service on a broker user of its own (``asn-admin broker-users``): it works as in
production, and reaches no other service's exchanges or queues."""

import contextlib
import os
import re
import secrets
import subprocess
import sys
import uuid
from dataclasses import asdict
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import amqp
import pytest
import requests
from kombu import Connection, Exchange, Producer, Queue
from sqlalchemy import text

import competency
from asn_shared.cli import installed_services
from asn_shared.messaging import (
    DEFAULT_EXCHANGE,
    dead_letter_queue_name,
    redelivery_exchange_name,
    retry_queue_name,
)
from asn_shared.persistence import make_engine
from asn_shared.topology import declare_service_topology, permissions_of, subscriptions_of
from asn_testkit.auth import admin_http
from asn_testkit.events import drain_queue, publish
from asn_testkit.metrics import events_handled
from asn_testkit.waiting import wait_for

SERVICES = installed_services()
SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


def own_queues(service: str) -> list[str]:
    handlers = [s.queue_name for s in subscriptions_of(SERVICES[service])]
    return [*handlers, *map(retry_queue_name, handlers), dead_letter_queue_name(service)]


def producers_of(service: str) -> set[str]:
    return {s.producer for s in subscriptions_of(SERVICES[service])}


def allows(pattern: str, resource: str) -> bool:
    return re.search(pattern, resource) is not None  # as RabbitMQ matches them


def test_each_users_permissions_cover_its_own_objects_and_no_others():
    assert set(SERVICES) == {"competency", "training", "budget", "notification"}
    for service in SERVICES:
        permissions = asdict(permissions_of(SERVICES[service]))
        for other in SERVICES:
            mine = other == service
            for queue in own_queues(other):
                assert all(allows(p, queue) == mine for p in permissions.values()), (service, queue)
            exchange = f"{other}.events"
            assert allows(permissions["configure"], exchange) == mine
            assert allows(permissions["write"], exchange) == mine
            assert allows(permissions["read"], exchange) == (other in producers_of(service))
            redelivery = redelivery_exchange_name(other)
            assert all(allows(p, redelivery) == mine for p in permissions.values()), redelivery
        assert not any(allows(p, DEFAULT_EXCHANGE) for p in permissions.values())


def asn_admin(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asn_shared.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def user_uri(admin_uri: str, user: str, password: str) -> str:
    parts = urlsplit(admin_uri)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def service_users(broker, vhost, amqp_uri):
    """Every installed service's broker user in the test's vhost, made by ``asn-admin
    broker-users`` run twice (it is idempotent); user names unique to the test.
    Yields ``(uris, outputs)``: each service's AMQP URI, and the two runs' output."""
    users = {name: f"{vhost}-{name}" for name in SERVICES}
    passwords = {name: secrets.token_urlsafe(18) for name in SERVICES}
    env = {**os.environ, "AMQP_URI": amqp_uri, "RABBITMQ_MANAGEMENT_URL": broker.management_url}
    for name in SERVICES:
        env[f"{name.upper()}_AMQP_USER"] = users[name]
        env[f"{name.upper()}_AMQP_PASSWORD"] = passwords[name]
    try:
        runs = [asn_admin("broker-users", env=env) for _ in range(2)]
        for run in runs:
            assert run.returncode == 0, run.stderr
            assert not [p for p in passwords.values() if p in run.stdout + run.stderr]
        declared = asn_admin("declare-topology", env=env)  # as the administrator
        assert declared.returncode == 0, declared.stderr
        uris = {name: user_uri(amqp_uri, users[name], passwords[name]) for name in SERVICES}
        yield uris, [run.stdout for run in runs]
    finally:
        for user in users.values():
            url = f"{broker.management_url}/api/users/{quote(user, safe='')}"
            requests.delete(url, auth=(broker.user, broker.password), timeout=10)


def test_asn_admin_gives_each_service_a_user_with_exactly_its_permissions(
    broker, vhost, service_users
):
    uris, outputs = service_users
    assert outputs[0] == outputs[1]
    management = broker.management_url
    for name, uri in uris.items():
        user = urlsplit(uri).username
        assert f"{name}: broker user {user!r}" in outputs[0]
        found = requests.get(
            f"{management}/api/permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
            auth=(broker.user, broker.password),
            timeout=10,
        ).json()
        expected = asdict(permissions_of(SERVICES[name]))
        assert {key: found[key] for key in expected} == expected
        account = requests.get(
            f"{management}/api/users/{quote(user, safe='')}",
            auth=(broker.user, broker.password),
            timeout=10,
        ).json()
        assert account["tags"] in ("", [])  # no management access


def test_broker_users_refuses_to_run_without_the_passwords(amqp_uri):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_AMQP_PASSWORD")}
    run = asn_admin("broker-users", "competency", env={**env, "AMQP_URI": amqp_uri})
    assert run.returncode != 0
    assert "COMPETENCY_AMQP_PASSWORD" in run.stderr


def refused(uri: str, action) -> amqp.exceptions.AccessRefused:
    """Run ``action(connection)`` as the user of ``uri``; it must be refused."""
    with Connection(uri, transport_options={"confirm_publish": True}) as connection:
        with pytest.raises(amqp.exceptions.AccessRefused) as refusal:
            action(connection)
    return refusal.value


def completion(nip: str, unit: str) -> dict:
    return {
        "enrollment_id": uuid.uuid4(),
        "proposal_id": None,
        "employee_nip": nip,
        "unit_code": unit,
        "programme_code": "PRG-01",
        "programme_title": "Pelatihan Kepemimpinan Pengawas",
        "form": "klasikal",
        "activity": "pelatihan kepemimpinan",
        "jp": 24,
        "started_on": date(2026, 3, 2),
        "ended_on": date(2026, 3, 5),
        "jp_year": 2026,
        "competency_codes": ["M.05"],
        "cost_rupiah": 2_500_000,
    }


@contextlib.contextmanager
def table_away(database_url: str, table: str):
    """Rename ``table`` for a while: every handler that writes to it fails meanwhile."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
        yield
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
    finally:
        engine.dispose()


def test_a_service_works_on_its_own_user_and_reaches_nothing_of_the_others(
    service_users, broker, vhost, database, run_service, tap
):
    uris, _ = service_users
    database_url = database(migrations=Path(competency.__file__).parent / "migrations")
    service = run_service(
        "competency",
        "competency.service:CompetencyService",
        SERVICES_DIR / "competency" / "config.yaml",
        database_url,
        env={"AMQP_URI": uris["competency"], "EVENT_RETRY_DELAY": "0.2", "EVENT_MAX_ATTEMPTS": "9"},
    )
    assert admin_http.get(f"{service.url}/health").json()["checks"]["broker"] == "ok"

    # it publishes to its own exchange...
    events = tap("competency")
    unit, jabatan, nip = "U-PLAJU", "J-LURAH", "198503302010011001"
    for path, body in (
        ("/units", {"code": unit, "name": "Kelurahan Plaju Ulu"}),
        ("/jabatan", {"code": jabatan, "name": "Lurah", "kind": "pengawas", "unit_code": unit}),
        (
            "/employees",
            {"nip": nip, "name": "Siti Aminah", "unit_code": unit, "jabatan_code": jabatan},
        ),
    ):
        created = admin_http.post(f"{service.url}{path}", json=body)
        assert created.status_code == 201, created.text
    assert events.wait("employee.registered")[0]["data"]["nip"] == nip

    # ...handles what training (on its own user) publishes, retried through its retry
    # queue and its redelivery exchange while the handler fails...
    handler = "on_enrollment_completed"
    with table_away(database_url, "development_activities"):
        publish(uris["training"], "enrollment.completed", completion(nip, unit))
        wait_for(lambda: events_handled(service.url, handler, "retried") >= 2, what="retries")
    wait_for(lambda: events_handled(service.url, handler) == 1, what="the completion handled")
    profile = admin_http.get(f"{service.url}/employees/{nip}/profile").json()
    assert [a["jp"] for a in profile["development"]["activities"]] == [24]
    assert events_handled(service.url, handler, "dead_lettered") == 0

    # ...and parks what it cannot handle in its own dead-letter queue
    with Connection(uris["training"]) as connection:
        Producer(connection).publish(
            b"not json", exchange="training.events", routing_key="enrollment.completed"
        )
    parked = drain_queue(uris["competency"], "competency.dead-letter", expect=1)
    assert parked[0].headers["x-dead-letter-reason"].startswith("body is not JSON")

    training_queue = next(s.queue_name for s in subscriptions_of(SERVICES["training"]))
    foreign_queues = [training_queue, "training.dead-letter"]
    for queue in foreign_queues:  # reading another service's queue
        refusal = refused(
            uris["competency"],
            lambda c, q=queue: c.SimpleQueue(Queue(q, no_declare=True)).get(block=False),
        )
        assert f"access to queue '{queue}' in vhost '{vhost}' refused" in str(refusal)
    refused(  # publishing to another service's exchange
        uris["competency"],
        lambda c: Producer(c).publish(
            b"{}", exchange="training.events", routing_key="enrollment.completed"
        ),
    )
    refused(  # declaring (or so deleting) another service's exchange
        uris["competency"],
        lambda c: Exchange("training.events", "topic", durable=True)(c.channel()).declare(),
    )
    refused(  # listening in on a service whose events it does not handle
        uris["competency"],
        lambda c: Queue(
            "evt-notification-notification.delivered--competency.listen",
            Exchange("notification.events", "topic", passive=True),
            routing_key="#",
        )(c.channel()).declare(),
    )
    refused(  # and the other way round
        uris["training"],
        lambda c: c.SimpleQueue(Queue(own_queues("competency")[0], no_declare=True)).get(
            block=False
        ),
    )

    # nor can it drop a message into another service's queue by name: not through the
    # default exchange, not through the other's redelivery exchange, not through its own
    for queue in [*foreign_queues, own_queues("competency")[0]]:
        refusal = refused(
            uris["competency"],
            lambda c, q=queue: Producer(c).publish(b"{}", exchange="", routing_key=q),
        )
        assert f"access to exchange 'amq.default' in vhost '{vhost}' refused" in str(refusal)
    refusal = refused(
        uris["competency"],
        lambda c: Producer(c).publish(
            b"{}", exchange="training.redelivery", routing_key=training_queue
        ),
    )
    assert "access to exchange 'training.redelivery'" in str(refusal)
    with Connection(uris["competency"], transport_options={"confirm_publish": True}) as c:
        with pytest.raises(amqp.exceptions.ChannelError, match="NO_ROUTE"):  # nothing bound
            Producer(c).publish(
                b"{}", exchange="competency.redelivery", routing_key=training_queue, mandatory=True
            )
    refusal = refused(  # and it cannot bind another's queue there
        uris["competency"],
        lambda c: c.channel().queue_bind(
            training_queue, "competency.redelivery", routing_key=training_queue
        ),
    )
    assert f"access to queue '{training_queue}' in vhost '{vhost}' refused" in str(refusal)


def management(broker, path: str):
    response = requests.get(
        f"{broker.management_url}/api/{path}", auth=(broker.user, broker.password), timeout=10
    )
    response.raise_for_status()
    return response.json()


def retry_arguments(broker, vhost: str, queue: str) -> dict:
    found = management(broker, f"queues/{quote(vhost, safe='')}/{quote(queue, safe='')}")
    return {k: v for k, v in found["arguments"].items() if k.startswith("x-dead-letter-")}


def test_retry_queues_of_the_default_exchange_topology_give_way_once_empty(
    service_users, broker, vhost, amqp_uri
):
    """Retry queues declared by an older topology dead-letter through the default exchange;
    their arguments cannot change in place. The service's own user replaces an empty one,
    and keeps one holding messages, bound for retries, until it is empty."""
    uris, _ = service_users
    handlers = [s.queue_name for s in subscriptions_of(SERVICES["training"])][:2]
    empty, holding = map(retry_queue_name, handlers)
    with Connection(amqp_uri) as admin:  # the older topology
        channel = admin.channel()
        for handler in handlers:
            channel.queue_delete(retry_queue_name(handler))
            old = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": handler}
            channel.queue_declare(
                retry_queue_name(handler), durable=True, auto_delete=False, arguments=old
            )
        Producer(channel).publish(b"waiting", exchange="", routing_key=holding)

    with Connection(uris["training"]) as connection:  # as the service does when it starts
        declare_service_topology(connection, SERVICES["training"])
        Producer(connection).publish(  # a retry taken by the queue kept
            b"retried", exchange="training.redelivery", routing_key=holding, mandatory=True
        )
    assert retry_arguments(broker, vhost, empty) == {
        "x-dead-letter-exchange": "training.redelivery",
        "x-dead-letter-routing-key": handlers[0],
    }
    assert retry_arguments(broker, vhost, holding)["x-dead-letter-exchange"] == ""
    kept = drain_queue(uris["training"], holding, expect=2)
    assert [m.body for m in kept] == [b"waiting", b"retried"]

    declared = asn_admin(  # as the administrator, now that it is empty
        "declare-topology",
        "training",
        env={**os.environ, "AMQP_URI": amqp_uri},
    )
    assert declared.returncode == 0, declared.stderr
    assert f"retry queue {holding} declared anew" in declared.stderr
    assert retry_arguments(broker, vhost, holding) == {
        "x-dead-letter-exchange": "training.redelivery",
        "x-dead-letter-routing-key": handlers[1],
    }
    bindings = management(
        broker, f"exchanges/{quote(vhost, safe='')}/training.redelivery/bindings/source"
    )
    assert {(b["destination"], b["routing_key"]) for b in bindings} == {
        (queue, queue) for queue in own_queues("training")
    }
