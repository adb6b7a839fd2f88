"""The SQL repository's reads within one transaction, against real PostgreSQL: the open
batches are read once per transaction and set of competencies, and read again once a seat
is freed or taken; a proposal is locked without writing what other proposals left pending;
a batch's employees are read at once, each answered to its first event only; so are the
proposals a batch of budget answers names."""

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

import training
from asn_shared.persistence import make_engine
from training import repository
from training.models import (
    Assessment,
    Batch,
    Employee,
    Enrollment,
    Programme,
    ProgrammeCompetency,
    Proposal,
)

MIGRATIONS = Path(training.__file__).parent / "migrations"
TODAY = date.today()
YEARS = [TODAY.year, TODAY.year + 1]
NIP = "198701012010011001"


@pytest.fixture
def session(database):
    engine = make_engine(database(migrations=MIGRATIONS), pool_size=1)
    with Session(engine) as session:
        yield session
    engine.dispose()


def statements_run(session: Session) -> list[str]:
    """The SQL ``session`` sends from now on (appended as it goes)."""
    sent: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: sent.append(a[2]))
    return sent


def a_full_batch(session: Session, seats: int = 1) -> tuple[Batch, list[Enrollment]]:
    """A programme developing M.01 whose only batch has ``seats`` seats, all taken."""
    session.add(Programme(code="P-1", title="Pelatihan", form="klasikal", jp=20, cost_rupiah=1))
    session.add(ProgrammeCompetency(programme_code="P-1", competency_code="M.01", level=3))
    batch = Batch(
        programme_code="P-1",
        starts_on=TODAY + timedelta(days=7),
        ends_on=TODAY + timedelta(days=9),
        online=True,
        capacity=seats,
        enrolled=seats,
    )
    session.add(batch)
    session.flush()
    enrollments = [
        Enrollment(
            employee_nip=f"{NIP[:-1]}{n}",
            unit_code="KEC-PLAJU",
            programme_code="P-1",
            batch_id=batch.id,
            jp=20,
            cost_rupiah=1,
            competency_codes=["M.01"],
            status="enrolled",
        )
        for n in range(seats)
    ]
    session.add_all(enrollments)
    session.commit()
    return batch, enrollments


def offered(repo, codes=("M.01",), exclude=()) -> list[uuid.UUID]:
    offers, _ = repo.offers(list(codes), TODAY, YEARS, exclude=list(exclude))
    return [offer.batch.batch_id for offer in offers]


def test_open_batches_are_read_once_per_transaction_and_again_after_a_seat_is_freed(session):
    batch, [enrollment] = a_full_batch(session)
    repo = repository.sql(session)
    sent = statements_run(session)

    assert offered(repo) == []  # full
    assert offered(repo, exclude=["P-1"]) == []
    assert len(sent) == 1  # the second read, another employee's, came from the first

    repo.free_seat(session.get(Enrollment, enrollment.id))
    assert offered(repo) == [batch.id]
    assert offered(repo, exclude=["P-1"]) == []  # what the employee holds is left out


def test_offers_are_read_again_in_the_next_transaction(session):
    batch, _ = a_full_batch(session)
    assert offered(repository.sql(session)) == []
    session.commit()

    session.get(Batch, batch.id).enrolled = 0  # another transaction frees the seat
    session.commit()
    assert offered(repository.sql(session)) == [batch.id]


def test_seats_freed_by_two_events_of_a_batch_without_autoflush_both_count(session):
    batch, enrollments = a_full_batch(session, seats=2)
    repo = repository.sql(session)
    with session.no_autoflush:  # as a batch of an own_subject handler runs its events
        for enrollment in enrollments:
            repo.free_seat(session.get(Enrollment, enrollment.id))
    session.commit()
    assert session.get(Batch, batch.id).enrolled == 0


def test_a_proposal_is_locked_without_writing_what_others_left_pending(session):
    first, second = (proposal(session) for _ in range(2))
    session.commit()
    repo = repository.sql(session)
    repo.locked_proposal(first).status = "approved"
    sent = statements_run(session)

    assert repo.locked_proposal(second).status == "pending_budget"
    assert not any(sql.startswith("UPDATE") for sql in sent)  # first's change still pending
    # the same proposal again: its pending change is written first, not lost to the re-read
    assert repo.locked_proposal(first).status == "approved"
    assert any(sql.startswith("UPDATE proposals") for sql in sent)


def proposal(session: Session, nip: str = NIP) -> uuid.UUID:
    found = Proposal(
        id=uuid.uuid4(),
        employee_nip=nip,
        employee_name="Siti",
        unit_code="KEC-PLAJU",
        status="pending_budget",
        total_cost_rupiah=0,
        total_jp=0,
        reserved_rupiah=0,
        jp_before=0,
        fiscal_year=TODAY.year,
    )
    session.add(found)
    return found.id


def test_a_batchs_employees_are_read_at_once_and_answered_to_each_ones_first_event(session):
    siti, budi = NIP, "199002022015022002"
    for nip in (siti, budi):
        session.add(
            Employee(nip=nip, name=nip, unit_code="KEC-PLAJU", unit_name="Plaju", version=1)
        )
    assessed = Assessment(
        id=uuid.uuid4(), employee_nip=siti, jabatan_code="J", assessed_on=TODAY, outcome="proposed"
    )
    session.add(assessed)
    waiting = proposal(session, budi)
    session.commit()
    repo = repository.sql(session)
    repo.prepare([siti, budi, siti])
    sent = statements_run(session)

    assert repo.recorded_employee({"nip": siti, "version": 1}).nip == siti
    assert repo.assessments_of(siti, "J") == [assessed]
    assert repo.open_proposals(siti, "J") == []
    assert repo.development(siti, YEARS).held == set()
    assert repo.recorded_employee({"nip": budi, "version": 1}).nip == budi
    assert [p.id for p in repo.open_proposals(budi, "J")] == [waiting]
    assert sent == []  # all of it read by prepare

    repo.recorded_employee({"nip": siti, "version": 1})  # siti's second event reads again
    repo.assessments_of(siti, "J")
    assert len(sent) == 2


def test_a_batchs_budget_answers_lock_their_proposals_at_once_each_for_its_first_answer(session):
    first, second = proposal(session), proposal(session, "199002022015022002")
    unknown = uuid.uuid4()
    session.commit()
    repo = repository.sql(session)
    repo.prepare_proposals([second, first, unknown, first])
    sent = statements_run(session)

    assert repo.locked_proposal(first).id == first
    assert repo.locked_proposal(unknown) is None
    repo.locked_proposal(second).status = "approved"
    assert sent == []  # locked by prepare_proposals, in one statement

    assert repo.locked_proposal(second).status == "approved"  # a later answer reads again,
    assert [sql.split()[0] for sql in sent] == ["UPDATE", "SELECT"]  # its change written first
