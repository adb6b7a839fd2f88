"""Dispatching without broker, database or network: a claim leases the due deliveries, fake
senders succeed or fail, outcomes are recorded with back-off on the fixed clock, parked
deliveries are resent, and every attempt is announced."""

import uuid
from datetime import timedelta

import pytest

from asn_shared.errors import Conflict, NotFound
from notification.channels import DeliveryError
from notification.domain import DELIVERED, PARKED, PENDING, RetryPolicy
from notification.use_cases import common, dispatch

from .conftest import FakeSender, Row

OFFICIAL = str(uuid.uuid4())


def delivering(uow, email=None, webhook=None):
    return common.Delivering(
        email=email or FakeSender(),
        webhook=webhook or FakeSender(),
        policies={"email": RetryPolicy(3, 60, 600), "webhook": RetryPolicy(5, 30, 600)},
        clock=uow.clock,
    )


def run(uow, how, limit=10):
    return dispatch.dispatch_due(lambda: uow, how, limit)


def test_nothing_due_sends_nothing(dispatch_uow, dispatch_repo):
    later = dispatch_repo.pending("email", "198609262015051001", "rina@example.go.id")
    later.next_attempt_at += timedelta(minutes=5)

    assert run(dispatch_uow, delivering(dispatch_uow)) == []
    assert dispatch_uow.commits == 0 and later.claim is None


def test_a_sent_email_is_delivered_and_announced(dispatch_uow, dispatch_repo):
    email = FakeSender()
    delivery = dispatch_repo.pending("email", OFFICIAL, "op@plaju.example")
    dispatch_repo.names[OFFICIAL] = "Operator Plaju"

    assert run(dispatch_uow, delivering(dispatch_uow, email)) == [("email", DELIVERED)]

    [sent] = email.sent
    assert (sent.to_name, sent.to_address, sent.delivery_id) == (
        "Operator Plaju",
        "op@plaju.example",
        str(delivery.id),
    )
    assert delivery.status == DELIVERED and delivery.attempts == 1
    assert delivery.delivered_at == dispatch_uow.clock.now() and delivery.claim is None
    [attempt] = dispatch_repo.attempts
    assert attempt["succeeded"] and attempt["number"] == 1
    [announced] = dispatch_uow.named("notification.delivered")
    assert announced.data["delivery_id"] == delivery.id and announced.data["attempts"] == 1
    assert announced.causation_id == delivery.event_id
    assert announced.correlation_id == delivery.correlation_id


def test_a_failed_attempt_is_retried_after_the_back_off(dispatch_uow, dispatch_repo):
    delivery = dispatch_repo.pending("email", OFFICIAL, "op@plaju.example")
    how = delivering(dispatch_uow, FakeSender(DeliveryError("421 try later")))

    assert run(dispatch_uow, how) == [("email", PENDING)]

    assert delivery.attempts == 1 and delivery.last_error == "421 try later"
    assert delivery.next_attempt_at == dispatch_uow.clock.now() + timedelta(seconds=60)
    [failed] = dispatch_uow.named("notification.failed")
    assert failed.data["parked"] is False and failed.data["error"] == "421 try later"
    assert run(dispatch_uow, how) == []  # not due yet

    dispatch_uow.clock.advance(timedelta(seconds=60))
    assert run(dispatch_uow, how) == [("email", DELIVERED)]
    assert delivery.attempts == 2 and [a["number"] for a in dispatch_repo.attempts] == [1, 2]


def test_the_last_allowed_attempt_parks_the_delivery(dispatch_uow, dispatch_repo):
    delivery = dispatch_repo.pending("email", OFFICIAL, "op@plaju.example", attempts=2)

    how = delivering(dispatch_uow, FakeSender(DeliveryError("421 try later")))
    assert run(dispatch_uow, how) == [("email", PARKED)]

    assert delivery.attempts == 3 and delivery.next_attempt_at is None
    [failed] = dispatch_uow.named("notification.failed")
    assert failed.data["parked"] is True


def test_a_permanent_failure_parks_at_once(dispatch_uow, dispatch_repo):
    delivery = dispatch_repo.pending("email", OFFICIAL, "nobody@example.go.id")
    refused = DeliveryError("550 no such mailbox", permanent=True)

    assert run(dispatch_uow, delivering(dispatch_uow, FakeSender(refused))) == [("email", PARKED)]
    assert delivery.attempts == 1


def test_a_webhook_goes_to_its_subscriptions_url_signed_with_its_secret(
    dispatch_uow, dispatch_repo
):
    webhook = FakeSender()
    subscription = uuid.uuid4()
    dispatch_repo.hooks[str(subscription)] = Row(
        id=subscription, url="https://bkn.example/hooks", secret="rahasia", active=True
    )
    delivery = dispatch_repo.pending("webhook", str(subscription), "https://bkn.example/hooks")

    assert run(dispatch_uow, delivering(dispatch_uow, webhook=webhook)) == [("webhook", DELIVERED)]

    [sent] = webhook.sent
    assert (sent.url, sent.secret, sent.event_type) == (
        "https://bkn.example/hooks",
        "rahasia",
        delivery.event_type,
    )
    [announced] = dispatch_uow.named("notification.delivered")
    assert announced.data["recipient"] == "https://bkn.example/hooks"


def test_a_webhook_of_a_cancelled_subscription_is_parked_unsent(dispatch_uow, dispatch_repo):
    webhook = FakeSender()
    subscription = uuid.uuid4()
    dispatch_repo.hooks[str(subscription)] = Row(
        id=subscription, url="https://bkn.example/hooks", secret="s", active=False
    )
    dispatch_repo.pending("webhook", str(subscription), "https://bkn.example/hooks")
    dispatch_repo.pending("webhook", "not-a-subscription", "https://other.example/hooks")

    outcomes = run(dispatch_uow, delivering(dispatch_uow, webhook=webhook))

    assert outcomes == [("webhook", PARKED), ("webhook", PARKED)] and webhook.sent == []


def test_a_round_takes_at_most_its_limit_earliest_first(dispatch_uow, dispatch_repo):
    first = dispatch_repo.pending("email", OFFICIAL, "a@example.go.id")
    first.next_attempt_at -= timedelta(minutes=2)
    second = dispatch_repo.pending("email", OFFICIAL, "b@example.go.id")
    email = FakeSender()

    assert run(dispatch_uow, delivering(dispatch_uow, email), limit=1) == [("email", DELIVERED)]

    assert [m.to_address for m in email.sent] == ["a@example.go.id"]
    assert second.status == PENDING and second.claim is None


def test_an_outcome_whose_lease_another_round_took_is_not_recorded(dispatch_uow, dispatch_repo):
    delivery = dispatch_repo.pending("email", OFFICIAL, "op@plaju.example")

    class Overtaken(FakeSender):
        def send(self, message):
            super().send(message)
            delivery.claim = uuid.uuid4()  # the lease ran out and another replica claimed it

    assert run(dispatch_uow, delivering(dispatch_uow, Overtaken())) == []
    assert delivery.status == PENDING and dispatch_repo.attempts == []
    assert dispatch_uow.named("notification.delivered") == []


def test_a_parked_delivery_is_resent_with_a_fresh_round_of_attempts(dispatch_uow, dispatch_repo):
    delivery = dispatch_repo.pending("email", OFFICIAL, "op@plaju.example", attempts=3)
    delivery.status, delivery.next_attempt_at = PARKED, None
    woken = []
    how = delivering(dispatch_uow)
    how = common.Delivering(**{**vars(how), "wake": lambda: woken.append(1)})
    dispatch_uow.clock.advance(timedelta(hours=1))

    dispatch.resend(dispatch_uow, delivery.id, how)

    assert delivery.status == PENDING and delivery.attempt_limit == 6
    assert delivery.next_attempt_at == dispatch_uow.clock.now() and woken == [1]


def test_only_a_parked_delivery_is_resent(dispatch_uow, dispatch_repo):
    delivery = dispatch_repo.pending("email", OFFICIAL, "op@plaju.example")

    with pytest.raises(Conflict) as refused:
        dispatch.resend(dispatch_uow, delivery.id, delivering(dispatch_uow))
    assert refused.value.code == "conflict"
    with pytest.raises(NotFound):
        dispatch.resend(dispatch_uow, uuid.uuid4(), delivering(dispatch_uow))
