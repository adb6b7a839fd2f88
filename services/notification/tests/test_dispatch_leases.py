"""Dispatching holds no row lock and no transaction while an e-mail or webhook is out: a
batch is claimed with a lease, sent, then recorded. The service as real processes, with a
real SMTP server and real webhook receivers."""

import time

import pytest
from sqlalchemy import text

from asn_shared.persistence import make_engine
from asn_testkit.auth import admin_http
from asn_testkit.metrics import metric_sum, scrape
from asn_testkit.waiting import wait_for

DELIVERY = "X-Kompas-Delivery"
# a transaction of the service left idle this long is one held across a send, not a statement
# caught between its query and its commit
HELD_OPEN = "200 milliseconds"


@pytest.fixture
def db(notification_db):
    engine = make_engine(notification_db, pool_size=2)
    yield engine
    engine.dispose()


def subscribe(service, receiver, patterns: list[str]) -> None:
    created = admin_http.post(
        f"{service.url}/subscriptions",
        json={"name": "Inspektorat Kota", "url": receiver.url, "patterns": patterns},
        timeout=5,
    )
    assert created.status_code == 201, created.text
    receiver.trust(created.json()["secret"])


def webhook_delivery(db) -> dict:
    with db.connect() as connection:
        return dict(
            connection.execute(text("SELECT * FROM deliveries WHERE channel = 'webhook'"))
            .one()
            ._mapping
        )


def locked_or_idle_in_transaction(db, delivery_id) -> tuple[bool, int, int]:
    """Whether the delivery's row is locked; how many other sessions on the service's
    database sit idle inside a transaction, and how many there are at all."""
    with db.connect() as connection:
        try:
            connection.execute(
                text("SELECT id FROM deliveries WHERE id = :id FOR UPDATE NOWAIT"),
                {"id": delivery_id},
            )
            locked = False
        except Exception as exc:  # noqa: BLE001 - psycopg2's LockNotAvailable, wrapped
            assert "could not obtain lock" in str(exc), exc
            locked = True
        connection.rollback()
        idle, sessions = connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE state LIKE 'idle in transaction%%' "
                f"AND now() - state_change > interval '{HELD_OPEN}'), count(*) "
                "FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).one()
        connection.rollback()
    return locked, idle, sessions


def test_while_a_slow_receiver_holds_the_webhook_no_row_is_locked_and_no_transaction_open(
    start_notification, publish_event, webhook_receiver, samples, db
):
    service = start_notification()
    receiver = webhook_receiver()
    subscribe(service, receiver, ["budget.*"])
    receiver.hold()
    publish_event("budget.rejected", samples.budget_rejected())
    wait_for(receiver.held, what="the webhook to be out")

    delivery = webhook_delivery(db)
    assert delivery["status"] == "pending" and delivery["claim"] is not None
    for _ in range(5):  # over a second of the receiver's silence
        locked, idle, sessions = locked_or_idle_in_transaction(db, delivery["id"])
        assert not locked, "the delivery's row is locked while its webhook is out"
        assert idle == 0, "a transaction of the service stays open while its webhook is out"
        assert sessions > 0  # the service is connected: the check looks at the right place
        time.sleep(0.25)
    assert receiver.held() == [1] and len(receiver.requests()) == 0

    receiver.release()
    wait_for(lambda: webhook_delivery(db)["status"] == "delivered", what="the delivery")
    delivered = webhook_delivery(db)
    assert delivered["attempts"] == 1
    assert delivered["claim"] is None and delivered["leased_until"] is None
    [request] = receiver.requests()
    assert request["status"] == 200 and request["headers"][DELIVERY] == str(delivery["id"])


def test_two_replicas_send_each_email_and_webhook_once(
    start_notification, publish_event, webhook_receiver, smtp_server, samples, db
):
    replicas = [start_notification(DISPATCH_BATCH="2") for _ in range(2)]
    receiver = webhook_receiver()
    subscribe(replicas[0], receiver, ["budget.*"])
    publish_event("employee.registered", samples.employee())
    for _ in range(20):
        publish_event("budget.rejected", samples.budget_rejected())
        publish_event("assessment.recorded", samples.assessment())

    wait_for(lambda: len(receiver.requests()) >= 20, 60, "twenty webhooks")
    wait_for(lambda: len(smtp_server.messages()) >= 20, 60, "twenty e-mails")
    with db.connect() as connection:
        wait_for(
            lambda: (
                connection.execute(
                    text("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
                ).scalar()
                == 60
            ),  # twenty e-mails, twenty inbox messages, twenty webhooks
            30,
            "every delivery recorded",
        )
        attempts = connection.execute(
            text("SELECT count(*), max(attempts) FROM deliveries WHERE channel <> 'inbox'")
        ).one()
    assert tuple(attempts) == (40, 1)
    hooks = [request["headers"][DELIVERY] for request in receiver.requests()]
    mails = [message[DELIVERY] for _, message in smtp_server.messages()]
    assert len(hooks) == len(set(hooks)) == 20
    assert len(mails) == len(set(mails)) == 20
    sent = [
        metric_sum(scrape(r.url), "asn_notification_attempts_total", status="delivered")
        for r in replicas
    ]
    assert sum(sent) == 40 and all(sent), sent  # both replicas dispatched


def test_a_killed_replicas_claim_is_sent_by_another_once_its_lease_ran_out(
    start_notification, publish_event, webhook_receiver, samples, db
):
    lease = 3.0
    # a webhook may take far longer than the lease: the lease is renewed while it is out
    first = start_notification(DISPATCH_LEASE=str(lease), WEBHOOK_TIMEOUT="60")
    receiver = webhook_receiver()
    subscribe(first, receiver, ["budget.*"])
    receiver.hold()
    publish_event("budget.rejected", samples.budget_rejected())
    wait_for(receiver.held, what="the first replica's webhook to be out")
    second = start_notification(DISPATCH_LEASE=str(lease))

    # the first replica renews its lease while its webhook is out: the second keeps off
    watched_until = time.monotonic() + 2 * lease
    while time.monotonic() < watched_until:
        assert receiver.held() == [1], "sent again while the first replica's lease held"
        time.sleep(0.1)
    claimed = webhook_delivery(db)
    assert claimed["status"] == "pending" and claimed["claim"] is not None

    first.kill()  # mid-send: its webhook was never answered
    killed_at = time.time()
    receiver.release()
    wait_for(lambda: len(receiver.requests()) == 2, 30, "the webhook sent again")
    delivered = wait_for(
        lambda: (d := webhook_delivery(db))["status"] == "delivered" and d, what="the record"
    )
    again = receiver.requests()[1]
    # not before the killed replica's last lease (renewed every third of it) ran out
    assert again["arrived"] - killed_at > lease / 2
    assert again["headers"][DELIVERY] == str(delivered["id"])  # the receiver drops a copy
    assert receiver.requests()[0]["headers"][DELIVERY] == str(delivered["id"])
    assert delivered["attempts"] == 1 and delivered["claim"] is None
    delivered_by_second = metric_sum(
        scrape(second.url), "asn_notification_attempts_total", channel="webhook", status="delivered"
    )
    assert delivered_by_second == 1
