"""After the budget's answer, without broker or database: enrolment into batches, completion
into the JP ledger, cancellation and an operator's approval."""

from datetime import date, timedelta

import pytest

from asn_shared.auth import ADMIN, EMPLOYEE, Principal
from asn_shared.errors import Conflict, Forbidden, RuleBroken
from training.domain import ItemStatus, Status
from training.use_cases import decisions, enrolment, ledger, planning

ADMIN_CALLER = Principal("admin", ADMIN)


def approved(uow, repo, events, *, capacity=30, programme="P-PEM"):
    """A proposal for one programme, its budget reserved."""
    repo.programme(programme, 2_000_000, {"M.01": 3}, capacity=capacity)
    uow.handle(planning.record_assessment, events.assessed([events.result("M.01", 3, 2)]))
    [proposal] = repo.proposals
    uow.handle(decisions.budget_reserved, events.reserved(proposal, proposal.items, 2_000_000))
    return proposal


def enrol(uow, proposal, caller=ADMIN_CALLER):
    return enrolment.enrol_proposal(uow, proposal.id, caller)


def test_an_approved_proposal_is_enrolled_in_its_items_batches(uow, repo, events):
    proposal = approved(uow, repo, events)

    [view] = enrol(uow, proposal)

    [item] = proposal.items
    assert proposal.status == Status.ENROLLED and item.status == ItemStatus.ENROLLED
    [enrollment] = repo.enrollments
    assert (enrollment.batch_id, enrollment.item_id) == (item.batch.id, item.id)
    assert item.batch.enrolled == 1 and view["enrollment_id"] == enrollment.id
    [created] = uow.named("enrollment.created")
    assert created.data["batch"]["batch_id"] == item.batch.id


def test_a_full_batch_sends_the_employee_to_the_next_one_with_a_seat(uow, repo, events):
    proposal = approved(uow, repo, events, capacity=1)
    [item] = proposal.items
    item.batch.enrolled = 1
    later = repo.add_batch(
        repo.programmes["P-PEM"], item.batch.starts_on + timedelta(days=14), date(2026, 7, 10)
    )

    enrol(uow, proposal)

    [enrollment] = repo.enrollments
    assert enrollment.batch_id == later.id and later.enrolled == 1


def test_every_batch_full_refuses_the_enrolment(uow, repo, events):
    proposal = approved(uow, repo, events, capacity=1)
    proposal.items[0].batch.enrolled = 1

    with pytest.raises(Conflict):
        enrol(uow, proposal)
    assert repo.enrollments == [] and uow.named("enrollment.created") == []


def test_a_waiting_proposal_cannot_be_enrolled(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    uow.handle(planning.record_assessment, events.assessed([events.result("M.01", 3, 2)]))
    [proposal] = repo.proposals

    with pytest.raises(Conflict):
        enrol(uow, proposal)


def test_an_employee_reaches_only_their_own_proposal(uow, repo, events):
    proposal = approved(uow, repo, events)

    with pytest.raises(Forbidden):
        enrol(uow, proposal, Principal("someone", EMPLOYEE, "199001012015011001"))


def test_completion_credits_the_jp_to_the_year_it_ended_and_completes_the_proposal(
    uow, repo, events
):
    proposal = approved(uow, repo, events)
    [view] = enrol(uow, proposal)

    ledger.complete_enrollment(
        uow,
        view["enrollment_id"],
        {"started_on": date(2026, 12, 29), "ended_on": date(2027, 1, 2)},
        ADMIN_CALLER,
    )

    [entry] = repo.ledger
    assert (entry.jp, entry.jp_year, entry.programme_code) == (24, 2027, "P-PEM")
    assert proposal.status == Status.COMPLETED
    assert proposal.items[0].status == ItemStatus.COMPLETED
    [completed] = uow.named("enrollment.completed")
    assert completed.data["proposal_item_id"] == proposal.items[0].id
    assert completed.data["funding"] == "budget" and completed.data["jp_year"] == 2027


def test_a_completion_ending_before_it_started_is_refused(uow, repo, events):
    proposal = approved(uow, repo, events)
    [view] = enrol(uow, proposal)
    backwards = {"started_on": date(2026, 7, 3), "ended_on": date(2026, 7, 1)}

    with pytest.raises(RuleBroken):
        ledger.complete_enrollment(uow, view["enrollment_id"], backwards, ADMIN_CALLER)
    assert uow.named("enrollment.completed") == []


def test_cancelling_an_enrolled_proposal_frees_its_seats(uow, repo, events):
    proposal = approved(uow, repo, events)
    enrol(uow, proposal)
    [enrollment] = repo.enrollments

    decisions.cancel_proposal(uow, proposal.id, "pindah tugas", ADMIN_CALLER)

    assert proposal.status == Status.CANCELLED and enrollment.status == "cancelled"
    assert proposal.items[0].batch.enrolled == 0
    [cancelled] = uow.named("proposal.cancelled")
    assert cancelled.data["reason"] == "pindah tugas"


def test_an_operator_approves_what_waits_as_funded_another_way(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    uow.handle(planning.record_assessment, events.assessed([events.result("M.01", 3, 2)]))
    [proposal] = repo.proposals
    uow.handle(decisions.budget_rejected, events.rejected(proposal))

    decisions.approve_proposal(uow, proposal.id, None, ADMIN_CALLER)

    assert proposal.status == Status.APPROVED and proposal.status_reason == "disetujui operator"
    assert [(i.status, i.funding) for i in proposal.items] == [("approved", "other")]
    assert uow.named("proposal.approved")[-1].data["reserved_rupiah"] == 0
