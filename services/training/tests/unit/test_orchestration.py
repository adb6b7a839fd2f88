"""From an assessment to a settled proposal, without broker or database: supersession, the
budget's answers, alternatives, the year's JP and the year planned."""

from datetime import date, timedelta

import pytest

from asn_shared.clock import FixedClock
from asn_testkit.fakes import FakeUnitOfWork
from training.domain import ItemStatus, Status
from training.use_cases import decisions, planning


def assess(uow, events, *results, **options):
    """Record an assessment; returns the proposal it led to (or None) and its review."""
    event = events.assessed(list(results) or [events.result("M.01", 3, 2)], **options)
    uow.handle(planning.record_assessment, event)
    assessment = uow.fake.assessments[event.data["assessment_id"]]
    proposal = next((p for p in uow.fake.proposals if p.id == assessment.proposal_id), None)
    return proposal, assessment


def codes(proposal):
    return [item.programme_code for item in proposal.items]


# --- an assessment becomes a proposal -------------------------------------------------------


def test_a_gap_becomes_a_proposal_of_this_year(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})

    proposal, assessment = assess(uow, events)

    assert proposal.status == Status.PENDING_BUDGET
    assert (proposal.fiscal_year, proposal.jabatan_code) == (2026, "KASI-PEM")
    assert codes(proposal) == ["P-PEM"] and proposal.total_cost_rupiah == 2_000_000
    assert assessment.outcome == "proposed"
    [created] = uow.named("proposal.created")
    assert created.data["proposal_id"] == proposal.id
    [reviewed] = uow.named("assessment.reviewed")
    assert reviewed.data["proposal_id"] == proposal.id


def test_no_programme_for_the_gap_no_proposal(uow, repo, events):
    repo.programme("P-OTHER", 1_000_000, {"M.09": 3})

    proposal, assessment = assess(uow, events)

    assert proposal is None and assessment.outcome == "no_proposal"
    assert uow.named("proposal.created") == []
    assert assessment.review["competencies"][0]["finding"] == "no_programme"


def test_a_programme_already_approved_is_not_proposed_again(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    first, _ = assess(uow, events)
    uow.handle(decisions.budget_reserved, events.reserved(first, first.items, 2_000_000))

    again, assessment = assess(uow, events)

    assert again is None
    assert assessment.review["competencies"][0]["finding"] == "already_booked"


# --- supersession -------------------------------------------------------------------------


def test_a_reassessment_supersedes_the_pending_proposal_for_the_same_jabatan(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    first, earlier = assess(uow, events)

    second, _ = assess(uow, events, supersedes=earlier.id)

    assert first.status == Status.CANCELLED and first.status_reason == "superseded"
    assert all(item.status == ItemStatus.CANCELLED for item in first.items)
    assert second.status == Status.PENDING_BUDGET and second.supersedes == first.id
    [cancelled] = uow.named("proposal.cancelled")
    assert (cancelled.data["proposal_id"], cancelled.data["reason"]) == (first.id, "superseded")


def test_an_assessment_for_another_jabatan_leaves_the_first_proposal_alone(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    first, _ = assess(uow, events, jabatan="KASI-PEM")

    other, _ = assess(uow, events, jabatan="KASI-KESOS")

    assert first.status == Status.PENDING_BUDGET
    assert other.status == Status.PENDING_BUDGET and other.supersedes is None
    assert uow.named("proposal.cancelled") == []


def test_a_proposal_from_before_jabatan_were_recorded_is_superseded_by_any(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    first, _ = assess(uow, events)
    first.jabatan_code = None

    second, _ = assess(uow, events, jabatan="KASI-KESOS")

    assert first.status == Status.CANCELLED and second.supersedes == first.id


def test_an_approved_proposal_is_not_superseded(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    first, _ = assess(uow, events)
    uow.handle(decisions.budget_reserved, events.reserved(first, first.items, 2_000_000))

    assess(uow, events)

    assert first.status == Status.APPROVED
    assert uow.named("proposal.cancelled") == []


def test_an_older_assessment_arriving_late_is_ignored(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    newer, _ = assess(uow, events, assessed_on=events.TODAY)

    older, assessment = assess(uow, events, assessed_on=events.TODAY - timedelta(days=30))

    assert older is None and assessment.outcome == "stale"
    assert newer.status == Status.PENDING_BUDGET
    assert len(uow.named("proposal.created")) == 1


# --- the budget's answers -----------------------------------------------------------------


def test_a_reservation_of_every_item_approves_the_proposal(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    proposal, _ = assess(uow, events)

    uow.handle(decisions.budget_reserved, events.reserved(proposal, proposal.items, 2_000_000))

    assert proposal.status == Status.APPROVED and proposal.reserved_rupiah == 2_000_000
    assert [(i.status, i.funding) for i in proposal.items] == [("approved", "budget")]
    [approved] = uow.named("proposal.approved")
    assert approved.data["reserved_rupiah"] == 2_000_000
    assert uow.named("proposal.waitlisted") == []


def test_a_partial_reservation_waitlists_the_rest_and_proposes_a_cheaper_one(uow, repo, events):
    repo.programme("P-A", 2_000_000, {"M.01": 3})
    repo.programme("P-B", 3_000_000, {"M.02": 3})
    repo.programme("P-B-LITE", 500_000, {"M.02": 2})  # narrows the gap only, at a sixth
    proposal, _ = assess(uow, events, events.result("M.01", 3, 2), events.result("M.02", 3, 1))
    assert sorted(codes(proposal)) == ["P-A", "P-B"]
    paid = [i for i in proposal.items if i.programme_code == "P-A"]

    uow.handle(decisions.budget_reserved, events.reserved(proposal, paid, 2_000_000))

    assert proposal.status == Status.PARTIALLY_APPROVED
    assert proposal.status_reason == "insufficient_funds"
    statuses = {i.programme_code: i.status for i in proposal.items}
    assert statuses == {"P-A": "approved", "P-B": "waitlisted"}
    alternative = repo.proposals[-1]
    assert alternative.alternative_of == proposal.id and codes(alternative) == ["P-B-LITE"]
    assert alternative.fiscal_year == proposal.fiscal_year
    [waitlisted] = uow.named("proposal.waitlisted")
    assert waitlisted.data["alternative_proposal_id"] == alternative.id
    assert [i["programme_code"] for i in waitlisted.data["waitlisted_items"]] == ["P-B"]


def test_a_rejection_waitlists_everything_without_an_alternative_when_none_is_cheaper(
    uow, repo, events
):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    proposal, _ = assess(uow, events)

    uow.handle(decisions.budget_rejected, events.rejected(proposal, "no_allocation"))

    assert proposal.status == Status.WAITLISTED and proposal.status_reason == "no_allocation"
    assert len(repo.proposals) == 1
    [waitlisted] = uow.named("proposal.waitlisted")
    assert waitlisted.data["alternative_proposal_id"] is None
    assert waitlisted.data["reason"] == "no_allocation"


@pytest.mark.parametrize("held", [False, True])
def test_an_alternative_is_never_a_programme_the_employee_holds(uow, repo, events, held):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    repo.programme("P-NARROW", 100_000, {"M.01": 2})
    if held:
        repo.completed(8, events.TODAY - timedelta(days=400)).programme_code = "P-NARROW"
    proposal, _ = assess(uow, events, events.result("M.01", 3, 1))

    uow.handle(decisions.budget_rejected, events.rejected(proposal))

    alternatives = [p for p in repo.proposals if p.alternative_of == proposal.id]
    assert [codes(p) for p in alternatives] == ([] if held else [["P-NARROW"]])


def test_a_budget_answer_for_a_settled_proposal_is_ignored(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    proposal, _ = assess(uow, events)
    answer = events.reserved(proposal, proposal.items, 2_000_000)
    uow.handle(decisions.budget_reserved, answer)

    uow.handle(decisions.budget_reserved, answer)
    uow.handle(decisions.budget_rejected, events.rejected(proposal))

    assert proposal.status == Status.APPROVED and proposal.reserved_rupiah == 2_000_000
    assert len(uow.named("proposal.approved")) == 1
    assert uow.named("proposal.waitlisted") == []


# --- the year's 20 JP ---------------------------------------------------------------------


def top_up_catalogue(repo):
    repo.programme("P-GAP", 1_000_000, {"M.01": 3}, jp=8)  # closes the gap, 8 JP
    repo.programme("P-JP", 1_500_000, {"M.05": 4}, jp=16)  # a competency without a gap


def needs(events):
    return events.result("M.01", 3, 2), events.result("M.05", 3, 3)


def test_under_20_jp_this_year_a_programme_tops_the_year_up(uow, repo, events):
    top_up_catalogue(repo)

    proposal, assessment = assess(uow, events, *needs(events))

    assert sorted(codes(proposal)) == ["P-GAP", "P-JP"] and proposal.jp_before == 0
    assert assessment.review["jp"] == {"counted": 0, "minimum": 20, "finding": "top_up_proposed"}


def test_jp_completed_this_year_count_toward_the_20(uow, repo, events):
    top_up_catalogue(repo)
    repo.completed(12, events.TODAY - timedelta(days=30))

    proposal, assessment = assess(uow, events, *needs(events))

    assert codes(proposal) == ["P-GAP"] and proposal.jp_before == 12
    assert assessment.review["jp"]["finding"] == "minimum_reached"


def test_jp_of_last_year_do_not_count(uow, repo, events):
    top_up_catalogue(repo)
    repo.completed(40, date(2025, 12, 20))

    proposal, assessment = assess(uow, events, *needs(events))

    assert sorted(codes(proposal)) == ["P-GAP", "P-JP"] and proposal.jp_before == 0
    assert assessment.review["jp"]["finding"] == "top_up_proposed"


def test_jp_booked_by_an_approved_proposal_count_toward_the_20(uow, repo, events):
    repo.programme("P-BIG", 3_000_000, {"M.07": 3}, jp=24)
    booked, _ = assess(uow, events, events.result("M.07", 3, 2), jabatan="KASI-KESOS")
    uow.handle(decisions.budget_reserved, events.reserved(booked, booked.items, 3_000_000))
    top_up_catalogue(repo)

    proposal, assessment = assess(uow, events, *needs(events))

    assert codes(proposal) == ["P-GAP"] and proposal.jp_before == 0
    assert assessment.review["jp"] == {"counted": 24, "minimum": 20, "finding": "minimum_reached"}


# --- the year planned ---------------------------------------------------------------------


def december(repo):
    """A fake unit of work whose clock reads 10 December 2026."""
    return FakeUnitOfWork("training", repo, FixedClock(date(2026, 12, 10)))


def test_in_december_without_a_batch_this_year_next_years_batches_are_planned(repo, events):
    uow = december(repo)
    repo.programme("P-PEM", 2_000_000, {"M.01": 3}, starts_on=date(2027, 1, 12))

    proposal, assessment = assess(uow, events, assessed_on=date(2026, 12, 9))

    assert proposal.fiscal_year == 2027 and proposal.status_reason == planning.NEXT_YEAR_REASON
    assert assessment.review["next_year"] is True
    assert assessment.review["jp"]["finding"] == "not_planned"


def test_a_december_batch_ending_in_january_belongs_to_next_year(repo, events):
    uow = december(repo)
    repo.programme("P-PEM", 2_000_000, {"M.01": 3}, starts_on=date(2026, 12, 30), days=5)

    proposal, _ = assess(uow, events, assessed_on=date(2026, 12, 9))

    assert proposal.fiscal_year == 2027
    assert proposal.items[0].batch.ends_on == date(2027, 1, 3)


def test_a_batch_of_this_year_is_preferred_to_next_years(repo, events):
    uow = december(repo)
    programme = repo.programme("P-PEM", 2_000_000, {"M.01": 3}, starts_on=date(2027, 1, 12))
    this_year = repo.add_batch(programme, date(2026, 12, 14), date(2026, 12, 16))

    proposal, _ = assess(uow, events, assessed_on=date(2026, 12, 9))

    assert proposal.fiscal_year == 2026 and proposal.items[0].batch is this_year
    assert proposal.status_reason is None


def test_a_batch_that_has_started_is_not_offered(repo, events):
    uow = december(repo)
    repo.programme("P-PEM", 2_000_000, {"M.01": 3}, starts_on=date(2026, 12, 1))

    proposal, assessment = assess(uow, events, assessed_on=date(2026, 12, 9))

    assert proposal is None and assessment.outcome == "no_proposal"
