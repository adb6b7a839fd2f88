"""The delivery log and the inbox without broker or database: pages newest first, the unread
count, a message read at the clock's time and unread again, another's message not found."""

import uuid
from datetime import timedelta

import pytest

from asn_shared.errors import NotFound
from asn_testkit.fakes import MIDSUMMER
from notification.use_cases import deliveries, dispatch

from .conftest import FakeSender
from .test_dispatch import OFFICIAL, delivering

NIP = "198609262015051001"
OTHER_NIP = "199001012015011001"


def test_the_inbox_lists_newest_first_and_counts_the_unread(dispatch_uow, dispatch_repo):
    older = dispatch_repo.inboxed(NIP, MIDSUMMER - timedelta(days=2), read_at=MIDSUMMER)
    newer = dispatch_repo.inboxed(NIP, MIDSUMMER - timedelta(days=1))
    dispatch_repo.inboxed(OTHER_NIP, MIDSUMMER)

    items, total, unread = deliveries.inbox_page(dispatch_uow, NIP, None, 1, 10)
    assert (items, total, unread) == ([newer, older], 2, 1)
    items, total, unread = deliveries.inbox_page(dispatch_uow, NIP, True, 1, 10)
    assert (items, total, unread) == ([newer], 1, 1)


def test_a_message_is_read_at_the_clocks_time_and_can_be_unread(dispatch_uow, dispatch_repo):
    message = dispatch_repo.inboxed(NIP, MIDSUMMER - timedelta(hours=3))

    deliveries.mark_read(dispatch_uow, NIP, message.id, True)
    assert message.read_at == dispatch_uow.clock.now()

    dispatch_uow.clock.advance(timedelta(hours=1))
    deliveries.mark_read(dispatch_uow, NIP, message.id, True)
    assert message.read_at == dispatch_uow.clock.now() - timedelta(hours=1)  # read once

    deliveries.mark_read(dispatch_uow, NIP, message.id, False)
    assert message.read_at is None and dispatch_uow.commits == 3


def test_a_message_of_another_inbox_is_not_found(dispatch_uow, dispatch_repo):
    message = dispatch_repo.inboxed(OTHER_NIP, MIDSUMMER)

    with pytest.raises(NotFound) as refused:
        deliveries.mark_read(dispatch_uow, NIP, message.id, True)
    assert refused.value.code == "not_found" and message.read_at is None


def test_a_delivery_is_shown_with_its_attempts_in_order(dispatch_uow, dispatch_repo):
    message = dispatch_repo.inboxed(NIP, MIDSUMMER)
    email = dispatch_repo.pending("email", OFFICIAL, "op@plaju.example")
    how = delivering(dispatch_uow, FakeSender(dispatch.DeliveryError("421 later")))
    dispatch.dispatch_due(lambda: dispatch_uow, how, 10)
    dispatch_uow.clock.advance(timedelta(minutes=1))
    dispatch.dispatch_due(lambda: dispatch_uow, how, 10)

    shown = deliveries.delivery_detail(dispatch_uow, email.id)

    assert [(a["number"], a["succeeded"]) for a in shown["attempt_log"]] == [
        (1, False),
        (2, True),
    ]
    page, total = deliveries.delivery_page(dispatch_uow, {"channel": "inbox"}, 1, 10)
    assert (page, total) == ([message], 1)
    with pytest.raises(NotFound):
        deliveries.delivery_detail(dispatch_uow, uuid.uuid4())
