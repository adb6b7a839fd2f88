"""Who hears of an event, planned against a real PostgreSQL database (no broker needed)."""

import uuid
from collections.abc import Iterator
from functools import partial

import pytest
import sqlalchemy
from sqlalchemy import delete, insert, select, update

from asn_shared.events import new_event, registry
from asn_shared.persistence import UnitOfWork, make_engine, session_factory
from notification.channels import SmtpSender, WebhookSender
from notification.domain import RetryPolicy
from notification.models import Delivery, DeliveryAttempt, Employee, Subscription, Template
from notification.use_cases import common, planning, recipients

DELIVERING = common.Delivering(
    email=SmtpSender("unused.test", 25, "unused@test"),
    webhook=WebhookSender(),
    policies={"email": RetryPolicy(5, 1, 10), "webhook": RetryPolicy(8, 1, 10)},
)


@pytest.fixture
def engine(notification_db: str) -> Iterator[sqlalchemy.Engine]:
    engine = make_engine(notification_db, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def apply(engine):
    """Run a use case on an event in its own committed transaction, as a handler would
    (without the inbox, so a repeated event reaches the use case again)."""

    def run(name: str = "", data: dict | None = None, use_case=None, *, event=None):
        event = event or new_event(registry.get(name, 1), data)
        with UnitOfWork(session_factory(engine), service="notification") as uow:
            (use_case or partial(planning.notify, delivering=DELIVERING))(uow, event)
            uow.commit()
        return event

    return run


@pytest.fixture
def register(apply, samples):
    def run(**changes):
        apply("employee.registered", samples.employee(**changes), recipients.record_employee)

    return run


def rows(engine, statement) -> list:
    with engine.connect() as connection:
        return connection.execute(statement).all()


def planned_for(engine, event) -> list[tuple[str, str, str, str]]:
    return sorted(
        rows(
            engine,
            select(Delivery.recipient, Delivery.channel, Delivery.address, Delivery.subject).where(
                Delivery.event_id == event.id
            ),
        )
    )


def test_proposal_reaches_the_employee_and_her_supervisor_in_his_language(
    apply, register, engine, samples
):
    register()
    register(
        nip=samples.BUDI_NIP,
        name="Budi Santoso",
        email="budi@plaju.test",
        supervisor_nip=None,
        language="en",
    )
    event = apply("proposal.created", samples.proposal())

    assert planned_for(engine, event) == [
        (
            samples.BUDI_NIP,
            "email",
            "budi@plaju.test",
            "Competency development proposed for Siti Rahmawati",
        ),
        (
            samples.BUDI_NIP,
            "inbox",
            samples.BUDI_NIP,
            "Competency development proposed for Siti Rahmawati",
        ),
        (
            samples.SITI_NIP,
            "email",
            "siti@plaju.test",
            "Usulan pengembangan kompetensi tahun 2026 untuk Anda",
        ),
        (
            samples.SITI_NIP,
            "inbox",
            samples.SITI_NIP,
            "Usulan pengembangan kompetensi tahun 2026 untuk Anda",
        ),
    ]
    [body] = rows(
        engine,
        select(Delivery.body).where(
            Delivery.recipient == samples.SITI_NIP, Delivery.channel == "email"
        ),
    )
    assert (
        "- Pelatihan Dasar CPNS (daring) (klasikal, pelatihan teknis): 40 JP, Rp 5.260.000"
        in (body[0])
    )
    assert "26 November 2026 s.d. 4 Desember 2026" in body[0]


def test_an_event_planned_twice_is_delivered_once_per_recipient_and_channel(
    apply, register, engine, samples
):
    register(supervisor_nip=None)
    event = apply("proposal.approved", _approved(samples))
    assert len(planned_for(engine, event)) == 2

    apply(event=event)  # as if its inbox row were gone, or another consumer ran it
    assert len(planned_for(engine, event)) == 2
    attempts = rows(engine, select(DeliveryAttempt.delivery_id))
    assert len(attempts) == 1  # the inbox message, delivered once

    # and the database itself refuses a second delivery for the same triple
    [first] = rows(engine, select(Delivery).where(Delivery.channel == "email"))
    duplicate = {**first._asdict(), "id": uuid.uuid4()}
    with pytest.raises(sqlalchemy.exc.IntegrityError, match="deliveries_once"):
        with engine.begin() as connection:
            connection.execute(insert(Delivery).values(duplicate))


def test_the_highest_employee_version_wins_in_any_order(register, engine, samples):
    register(email="v2@plaju.test", version=2)
    register(email="v1@plaju.test", version=1)  # late and stale: ignored
    assert rows(engine, select(Employee.email, Employee.version)) == [("v2@plaju.test", 2)]
    register(email="v3@plaju.test", language="en", version=3)
    assert rows(engine, select(Employee.email, Employee.language, Employee.version)) == [
        ("v3@plaju.test", "en", 3)
    ]


def test_an_event_about_an_unknown_employee_fails_so_that_it_is_retried(
    apply, register, engine, samples
):
    with pytest.raises(common.RecipientUnknown, match=samples.SITI_NIP):
        apply("enrollment.created", _enrolled(samples))
    register()  # her supervisor Budi is still unknown
    with pytest.raises(common.RecipientUnknown, match=f"supervisor {samples.BUDI_NIP}"):
        apply("proposal.created", samples.proposal())
    assert rows(engine, select(Delivery.id)) == []  # nothing half-planned


def test_an_employee_without_email_still_gets_the_inbox_message(apply, register, engine, samples):
    register(email=None, supervisor_nip=None)
    event = apply("enrollment.created", _enrolled(samples))
    [(recipient, channel, _, subject)] = planned_for(engine, event)
    assert (recipient, channel) == (samples.SITI_NIP, "inbox")
    assert subject == "Anda terdaftar sebagai peserta Pelatihan Dasar CPNS (daring)"


def test_a_missing_english_template_falls_back_to_bahasa_indonesia(
    apply, register, engine, samples
):
    register(language="en", supervisor_nip=None)
    with engine.begin() as connection:
        connection.execute(delete(Template).where(Template.key == "enrollment_created"))
        connection.execute(
            insert(Template).values(
                key="enrollment_created",
                language="id",
                subject="Terdaftar: {{ data.jp }} JP",
                body="Halo {{ recipient.name }}",
            )
        )
    event = apply("enrollment.created", _enrolled(samples))
    assert {subject for *_, subject in planned_for(engine, event)} == {"Terdaftar: 40 JP"}


def test_webhooks_go_to_the_subscriptions_whose_patterns_match(apply, register, engine, samples):
    register(supervisor_nip=None)
    with engine.begin() as connection:
        for name, patterns, active in (
            ("budget watcher", ["budget.*"], True),
            ("everything", ["#"], True),
            ("cancelled", ["#"], False),
            ("assessments", ["assessment.recorded"], True),
        ):
            connection.execute(
                insert(Subscription).values(
                    id=uuid.uuid4(),
                    name=name,
                    url=f"https://{name.replace(' ', '-')}.test/hook",
                    patterns=patterns,
                    secret="s",
                    active=active,
                )
            )

    def hooks(event) -> set[str]:
        return {
            address for _, channel, address, _ in planned_for(engine, event) if channel == "webhook"
        }

    rejected = apply("budget.rejected", samples.budget_rejected())
    assert hooks(rejected) == {"https://budget-watcher.test/hook", "https://everything.test/hook"}
    enrolled = apply("enrollment.created", _enrolled(samples))
    assert hooks(enrolled) == {"https://everything.test/hook"}
    # employee events carry personal data: never forwarded, whatever the pattern
    registered = apply("employee.updated", samples.employee(version=5))
    assert planned_for(engine, registered) == []

    with engine.begin() as connection:
        connection.execute(update(Subscription).values(active=False))
    later = apply("budget.rejected", samples.budget_rejected())
    assert hooks(later) == set()


def test_an_older_assessment_recorded_late_is_only_forwarded_to_agencies(apply, engine, samples):
    with engine.begin() as connection:
        connection.execute(
            insert(Subscription).values(
                id=uuid.uuid4(),
                name="a",
                url="https://a.test/",
                patterns=["#"],
                secret="s",
                active=True,
            )
        )
    history = {**samples.assessment(), "current": False}
    event = apply("assessment.recorded", history)
    assert [channel for _, channel, _, _ in planned_for(engine, event)] == ["webhook"]


def _approved(samples) -> dict:
    proposal = samples.proposal()
    return {
        **{k: proposal[k] for k in ("proposal_id", "employee_nip", "employee_name", "unit_code")},
        "fiscal_year": 2026,
        "status": "approved",
        "approved_items": proposal["items"],
        "reserved_rupiah": 5_260_000,
    }


def _enrolled(samples) -> dict:
    item = samples.item()
    return {
        "enrollment_id": uuid.uuid4(),
        "proposal_id": None,
        "employee_nip": samples.SITI_NIP,
        "unit_code": samples.UNIT_CODE,
        "programme_code": item["programme_code"],
        "programme_title": item["programme_title"],
        "form": item["form"],
        "jp": item["jp"],
        "batch": item["batch"],
    }


def plan_as_one_batch(engine, events: list) -> list[str]:
    """Plan ``events`` as a handler plans a batch (``prepare``, then each event in order, one
    commit); the SQL sent meanwhile."""
    sent: list[str] = []
    sqlalchemy.event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    with UnitOfWork(session_factory(engine), service="notification") as uow:
        planning.prepare(uow, events)
        for event in events:
            planning.notify(uow, event, DELIVERING)
        uow.commit()
    return sent


def test_a_batchs_employees_and_their_supervisors_are_read_with_one_statement(
    register, engine, samples
):
    register()
    register(nip=samples.BUDI_NIP, name="Budi Santoso", supervisor_nip=None)
    events = [
        new_event(registry.get("proposal.created", 1), samples.proposal()),
        new_event(registry.get("proposal.approved", 1), _approved(samples)),
    ]
    sent = plan_as_one_batch(engine, events)

    assert len([sql for sql in sent if "FROM employees" in sql]) == 1
    assert [r[0] for r in planned_for(engine, events[0])] == [samples.BUDI_NIP] * 2 + [
        samples.SITI_NIP
    ] * 2


def test_an_employee_unknown_to_a_batchs_read_still_fails_her_event(engine, samples):
    event = new_event(registry.get("enrollment.created", 1), _enrolled(samples))
    with pytest.raises(common.RecipientUnknown, match=samples.SITI_NIP):
        plan_as_one_batch(engine, [event])


def test_the_employees_a_batch_carries_are_stored_with_one_statement_the_newest_kept(
    register, engine, samples
):
    register(nip=samples.BUDI_NIP, name="Budi Santoso", supervisor_nip=None)
    older, newer = (samples.employee(version=v, email=f"v{v}@plaju.test") for v in (1, 2))
    events = [
        new_event(registry.get("assessment.recorded", 1), samples.assessment(employee))
        for employee in (newer, older, newer)
    ]
    sent = plan_as_one_batch(engine, events)

    assert len([sql for sql in sent if sql.startswith("INSERT INTO employees")]) == 1
    assert rows(engine, select(Employee.email).where(Employee.nip == samples.SITI_NIP)) == [
        ("v2@plaju.test",)
    ]
    assert ("email", "v2@plaju.test") in [(c, a) for _, c, a, _ in planned_for(engine, events[1])]
