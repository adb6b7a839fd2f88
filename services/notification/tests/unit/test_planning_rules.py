"""Which rules produce which deliveries, without broker or database: audiences, channels,
languages, agencies' webhooks and the one-delivery-per-recipient-and-channel rule."""

import json

import pytest

from asn_testkit.fakes import incoming
from notification.domain import (
    BKPSDM_ADMIN,
    EMAIL,
    EMPLOYEE,
    INBOX,
    SUPERVISOR,
    UNIT_OPERATOR,
    WEBHOOK,
    Recipient,
)
from notification.use_cases import planning
from notification.use_cases.common import RecipientUnknown


def plan(uow, delivering, name, data):
    event = incoming(name, data)
    return uow.handle(lambda u, e: planning.notify(u, e, delivering), event), event


def planned(repo):
    return sorted(
        (d["recipient"], d["channel"], d["address"], d["subject"]) for d in repo.deliveries
    )


@pytest.fixture
def staff(repo, samples):
    """Siti and her supervisor Budi (who reads English), as employee events announced them."""
    repo.upsert_employee(samples.employee())
    repo.upsert_employee(samples.supervisor(language="en"))
    repo.template("proposal", "id", "Usulan untuk {{ data.employee_name }}", "Unit {{ unit_name }}")
    repo.template("proposal", "en", "Proposal for {{ data.employee_name }}", "Unit {{ unit_name }}")


def test_the_employee_hears_by_email_and_inbox_the_inbox_at_once(
    uow, repo, delivering, samples, staff
):
    repo.rule("proposal.created", EMPLOYEE, (EMAIL, INBOX), "proposal")

    _, event = plan(uow, delivering, "proposal.created", samples.proposal())

    siti = samples.SITI_NIP
    subject = "Usulan untuk Siti Rahmawati"
    assert planned(repo) == [
        (siti, EMAIL, "siti@plaju.test", subject),
        (siti, INBOX, siti, subject),
    ]
    email, inbox = sorted(repo.deliveries, key=lambda d: d["channel"])
    assert (email["status"], email["attempts"], email["attempt_limit"]) == ("pending", 0, 5)
    assert email["next_attempt_at"] == uow.clock.now() and email["delivered_at"] is None
    assert (inbox["status"], inbox["delivered_at"]) == ("delivered", uow.clock.now())
    assert [a["delivery_id"] for a in repo.attempts] == [inbox["id"]]
    [delivered] = uow.named("notification.delivered")
    assert delivered.data["delivery_id"] == inbox["id"]
    assert delivered.causation_id == event.id  # caused by its own event, whatever the batch
    assert "Kelurahan Plaju Ulu" in email["body"]


def test_the_supervisor_hears_in_his_own_language(uow, repo, delivering, samples, staff):
    repo.rule("proposal.created", SUPERVISOR, (EMAIL,), "proposal")

    plan(uow, delivering, "proposal.created", samples.proposal())

    assert planned(repo) == [
        (samples.BUDI_NIP, EMAIL, "budi@plaju.test", "Proposal for Siti Rahmawati")
    ]


def test_a_language_without_its_template_falls_back_to_bahasa_indonesia(
    uow, repo, delivering, samples, staff
):
    del repo.the_setup.templates["proposal", "en"]
    repo.rule("proposal.created", SUPERVISOR, (EMAIL,), "proposal")

    plan(uow, delivering, "proposal.created", samples.proposal())

    assert [d["subject"] for d in repo.deliveries] == ["Usulan untuk Siti Rahmawati"]


def test_without_an_email_address_only_the_inbox_is_planned(uow, repo, delivering, samples):
    repo.upsert_employee(samples.employee(email=None))
    repo.template("proposal", "id", "Usulan", "Isi")
    repo.rule("proposal.created", EMPLOYEE, (EMAIL, INBOX), "proposal")

    plan(uow, delivering, "proposal.created", samples.proposal())

    assert [d["channel"] for d in repo.deliveries] == [INBOX]


def test_a_supervisor_not_yet_announced_makes_the_event_wait(uow, repo, delivering, samples):
    repo.upsert_employee(samples.employee())
    repo.template("proposal", "id", "Usulan", "Isi")
    repo.rule("proposal.created", SUPERVISOR, (INBOX,), "proposal")

    with pytest.raises(RecipientUnknown):
        plan(uow, delivering, "proposal.created", samples.proposal())
    assert repo.deliveries == [] and uow.published == []


def test_unit_operators_hear_of_their_unit_only_the_bkpsdm_of_every_unit(
    uow, repo, delivering, samples, staff
):
    ours = Recipient("op-plaju", "Operator Plaju", "op@plaju.test")
    theirs = Recipient("op-ilir", "Operator Ilir", "op@ilir.test")
    admin = Recipient("admin", "Admin BKPSDM", "admin@bkpsdm.test")
    repo.official(UNIT_OPERATOR, samples.UNIT_CODE, ours)
    repo.official(UNIT_OPERATOR, "ILIR", theirs)
    repo.official(BKPSDM_ADMIN, None, admin)
    repo.rule("budget.rejected", UNIT_OPERATOR, (EMAIL,), "proposal")
    repo.rule("budget.rejected", BKPSDM_ADMIN, (INBOX,), "proposal")

    plan(uow, delivering, "budget.rejected", samples.budget_rejected())

    assert [(d["recipient"], d["channel"]) for d in repo.deliveries] == [
        ("op-plaju", EMAIL),
        ("admin", INBOX),
    ]


def test_agencies_get_the_cloudevent_of_the_events_they_subscribed_to(
    uow, repo, delivering, samples, staff
):
    wanted = repo.subscriber("https://agency.test/hook", "proposal.*")
    repo.subscriber("https://other.test/hook", "budget.*")

    _, event = plan(uow, delivering, "proposal.created", samples.proposal())

    [webhook] = repo.deliveries
    assert (webhook["channel"], webhook["recipient"]) == (WEBHOOK, str(wanted))
    assert webhook["address"] == "https://agency.test/hook"
    assert json.loads(webhook["body"])["id"] == event.id


def test_employee_events_are_never_forwarded_to_agencies(uow, repo, delivering, samples):
    repo.subscriber("https://agency.test/hook", "*")

    plan(uow, delivering, "employee.registered", samples.employee())

    assert repo.deliveries == []


def test_history_is_forwarded_to_agencies_but_told_to_nobody(uow, repo, delivering, samples):
    repo.upsert_employee(samples.employee())
    repo.template("assessed", "id", "Hasil", "Isi")
    repo.rule("assessment.recorded", EMPLOYEE, (INBOX,), "assessed")
    repo.subscriber("https://agency.test/hook", "assessment.*")

    plan(uow, delivering, "assessment.recorded", {**samples.assessment(), "current": False})

    assert [d["channel"] for d in repo.deliveries] == [WEBHOOK]


def test_an_event_planned_again_adds_no_delivery(uow, repo, delivering, samples, staff):
    repo.rule("proposal.created", EMPLOYEE, (EMAIL, INBOX), "proposal")
    event = incoming("proposal.created", samples.proposal())

    uow.handle(lambda u, e: planning.notify(u, e, delivering), event)
    uow.handle(lambda u, e: planning.notify(u, e, delivering), event)

    assert len(repo.deliveries) == 2 and len(uow.named("notification.delivered")) == 1


def test_the_dispatcher_is_woken_after_the_commit_only_for_email_and_webhooks(
    uow, repo, delivering, samples, staff
):
    repo.rule("proposal.created", EMPLOYEE, (INBOX,), "proposal")
    plan(uow, delivering, "proposal.created", samples.proposal())
    assert repo.on_commit == []

    repo.rule("proposal.approved", EMPLOYEE, (EMAIL,), "proposal")
    approved = {
        **{k: v for k, v in samples.proposal().items() if k in FACTS},
        "approved_items": [],
        "reserved_rupiah": 0,
    }
    plan(uow, delivering, "proposal.approved", approved)
    assert repo.on_commit == [delivering.wake]


FACTS = ("proposal_id", "employee_nip", "employee_name", "unit_code", "fiscal_year", "status")
