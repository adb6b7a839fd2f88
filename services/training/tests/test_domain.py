"""The proposal rules and the proposal state machine, without broker or database."""

import itertools
import uuid
from datetime import date, timedelta

import pytest

from training import domain
from training.domain import IllegalTransition, ItemStatus, Need, Offer, OpenBatch, Rule, Status

START = date(2026, 3, 2)


def offer(code, jp, cost, levels, *, week=0):
    starts = START + timedelta(weeks=week)
    return Offer(code, jp, cost, levels, OpenBatch(uuid.uuid4(), starts, starts + timedelta(2)))


def items_by_code(plan):
    return {item.offer.code: item for item in plan.items}


def rules(item):
    return [(r.competency_code, r.rule, r.gap) for r in item.reasons]


# --- proposal rules -------------------------------------------------------------------------


def test_each_negative_gap_gets_the_programme_that_reaches_the_required_level():
    needs = [Need("M.01", 3, 2), Need("M.03", 3, 1.5), Need("M.05", 2, 2)]
    offers = [
        offer("INT-1", 24, 1_200_000, {"M.01": 2}),  # cheaper, but stops short of level 3
        offer("INT-3", 24, 2_400_000, {"M.01": 3}),
        offer("KOM-3", 30, 3_000_000, {"M.03": 3}),
        offer("PEL-2", 10, 500_000, {"M.05": 2}),  # no gap in M.05: not proposed for it
    ]

    plan = domain.propose(needs, offers, jp_this_year=0)

    found = items_by_code(plan)
    assert set(found) == {"INT-3", "KOM-3"}
    assert rules(found["INT-3"]) == [("M.01", Rule.CLOSES_GAP, -1)]
    assert rules(found["KOM-3"]) == [("M.03", Rule.CLOSES_GAP, -1.5)]
    assert plan.total_cost_rupiah == 5_400_000 and plan.total_jp == 54
    assert plan.unmet == []


def test_among_programmes_reaching_the_level_lower_cost_per_jp_then_earlier_batch_wins():
    need = [Need("M.04", 3, 2)]
    dear_per_jp = offer("A", 10, 1_000_000, {"M.04": 3})  # 100,000 a JP
    cheap_late = offer("B", 40, 2_000_000, {"M.04": 4}, week=8)  # 50,000 a JP
    cheap_early = offer("C", 20, 1_000_000, {"M.04": 3}, week=1)  # 50,000 a JP, earlier
    plan = domain.propose(need, [dear_per_jp, cheap_late, cheap_early], jp_this_year=20)
    assert list(items_by_code(plan)) == ["C"]


def test_a_programme_short_of_the_level_is_proposed_only_when_none_reaches_it():
    plan = domain.propose([Need("M.08", 4, 2)], [offer("PK", 20, 0, {"M.08": 3})], 20)
    assert rules(plan.items[0]) == [("M.08", Rule.NARROWS_GAP, -2)]
    unmet = domain.propose([Need("M.08", 4, 3)], [offer("PK", 20, 0, {"M.08": 3})], 20)
    assert unmet.items == [] and unmet.unmet == [Need("M.08", 4, 3)]


def test_one_programme_covers_two_gaps_it_develops():
    needs = [Need("M.02", 3, 2), Need("M.03", 3, 2)]
    offers = [
        offer("TEAM-COMM", 32, 3_200_000, {"M.02": 3, "M.03": 3}),
        offer("COMM-ONLY", 16, 1_760_000, {"M.03": 3}),  # 110,000 a JP: dearer per JP
    ]
    plan = domain.propose(needs, offers, jp_this_year=0)
    assert list(items_by_code(plan)) == ["TEAM-COMM"]
    item = plan.items[0]
    assert item.competency_codes == ["M.02", "M.03"]
    assert rules(item) == [("M.02", Rule.CLOSES_GAP, -1), ("M.03", Rule.CLOSES_GAP, -1)]
    assert plan.total_cost_rupiah == 3_200_000


def test_a_programme_already_chosen_is_preferred_to_a_cheaper_one_for_another_gap():
    # the larger gap (M.06) picks BOTH; it also closes M.07, so CHEAP-7 adds nothing
    needs = [Need("M.06", 3, 1), Need("M.07", 3, 2)]
    offers = [
        offer("BOTH", 20, 2_000_000, {"M.06": 3, "M.07": 3}),
        offer("CHEAP-7", 20, 200_000, {"M.07": 3}),
    ]
    plan = domain.propose(needs, offers, jp_this_year=0)
    assert list(items_by_code(plan)) == ["BOTH"]


def test_the_20_jp_top_up_adds_the_cheapest_relevant_programme_that_reaches_20():
    needs = [Need("M.01", 2, 1), Need("M.05", 2, 2)]
    offers = [
        offer("INT", 8, 800_000, {"M.01": 2}),
        offer("PEL-10", 10, 0, {"M.05": 3}),  # free, and 2 + 8 + 10 reaches 20
        offer("PEL-16", 16, 900_000, {"M.05": 3}),
        offer("OTHER", 40, 0, {"T.99": 3}),  # not a competency of this assessment
    ]
    plan = domain.propose(needs, offers, jp_this_year=2)
    found = items_by_code(plan)
    assert set(found) == {"INT", "PEL-10"}
    assert rules(found["PEL-10"]) == [("M.05", Rule.JP_TOP_UP, 0)]
    assert 2 + plan.total_jp == 20


def test_the_top_up_takes_the_longest_programmes_when_none_reaches_20_alone():
    offers = [offer("E1", 8, 0, {"M.01": 2}), offer("E2", 6, 0, {"M.01": 2})]
    plan = domain.propose([Need("M.01", 2, 2)], offers, jp_this_year=0)
    assert [i.offer.code for i in plan.items] == ["E1", "E2"]
    assert all(r.rule is Rule.JP_TOP_UP for i in plan.items for r in i.reasons)


def test_no_gap_and_20_jp_already_means_no_proposal():
    offers = [offer("INT", 20, 100_000, {"M.01": 3})]
    plan = domain.propose([Need("M.01", 2, 2.5)], offers, jp_this_year=20)
    assert plan.items == [] and plan.unmet == []


def test_no_gap_but_under_20_jp_proposes_the_top_up_only():
    offers = [offer("INT", 20, 100_000, {"M.01": 3})]
    plan = domain.propose([Need("M.01", 2, 2.5)], offers, jp_this_year=4)
    assert rules(plan.items[0]) == [("M.01", Rule.JP_TOP_UP, 0.5)]


def test_cheaper_alternatives_for_unpaid_items_develop_the_same_competency():
    reasons = [
        domain.Reason("M.01", Rule.CLOSES_GAP, 3, 2),
        domain.Reason("M.03", Rule.CLOSES_GAP, 3, 2),
    ]
    unpaid = [domain.UnpaidItem("DEAR", 5_000_000, reasons)]
    offers = [
        offer("DEAR", 40, 5_000_000, {"M.01": 3, "M.03": 3}),
        offer("FREE-ELEARN", 10, 0, {"M.01": 3}),
        offer("CHEAP-COMM", 16, 1_500_000, {"M.03": 3}),
        offer("PRICIER", 16, 6_000_000, {"M.03": 4}),  # not cheaper
    ]
    plan = domain.alternatives(unpaid, offers, exclude=["DEAR"])
    found = items_by_code(plan)
    assert set(found) == {"FREE-ELEARN", "CHEAP-COMM"}
    assert rules(found["FREE-ELEARN"]) == [("M.01", Rule.CHEAPER_ALTERNATIVE, -1)]
    nothing_cheaper = domain.alternatives([domain.UnpaidItem("F", 0, reasons)], offers)
    assert nothing_cheaper.items == []


def test_jp_are_whole_45_minute_units():
    assert domain.jp_from_minutes(90) == 2
    assert domain.jp_from_minutes(134) == 2
    assert domain.jp_from_minutes(135) == 3


# --- budget answers -----------------------------------------------------------------------


def test_a_partial_reservation_approves_the_paid_items_and_waitlists_the_rest():
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    items = {a: "proposed", b: "proposed", c: "proposed"}
    settled = domain.settle_reservation("pending_budget", items, [a, c])
    assert settled.status is Status.PARTIALLY_APPROVED
    assert settled.items == {a: ItemStatus.APPROVED, b: ItemStatus.WAITLISTED, c: "approved"}
    assert settled.newly_waitlisted == [b]

    later = domain.settle_reservation("partially_approved", settled.items, [b])
    assert later.status is Status.APPROVED and later.newly_waitlisted == []


def test_a_full_reservation_approves_and_a_rejection_waitlists_everything():
    a, b = uuid.uuid4(), uuid.uuid4()
    items = {a: "proposed", b: "proposed"}
    assert domain.settle_reservation("pending_budget", items, [a, b]).status is Status.APPROVED
    rejected = domain.settle_rejection("pending_budget", items)
    assert rejected.status is Status.WAITLISTED and rejected.newly_waitlisted == [a, b]


def test_a_budget_answer_for_a_cancelled_proposal_is_refused():
    with pytest.raises(IllegalTransition):
        domain.settle_reservation("cancelled", {uuid.uuid4(): "cancelled"}, [])
    with pytest.raises(IllegalTransition):
        domain.settle_rejection("approved", {uuid.uuid4(): "approved"})


# --- the state machine ----------------------------------------------------------------------

LEGAL = {
    ("pending_budget", "approved"),
    ("pending_budget", "partially_approved"),
    ("pending_budget", "waitlisted"),
    ("pending_budget", "cancelled"),
    ("waitlisted", "approved"),
    ("waitlisted", "partially_approved"),
    ("waitlisted", "cancelled"),
    ("partially_approved", "approved"),
    ("partially_approved", "enrolled"),
    ("partially_approved", "cancelled"),
    ("approved", "enrolled"),
    ("approved", "cancelled"),
    ("enrolled", "completed"),
    ("enrolled", "cancelled"),
}
ALL_PAIRS = set(itertools.product([s.value for s in Status], repeat=2))


@pytest.mark.parametrize("current, target", sorted(ALL_PAIRS - LEGAL))
def test_every_illegal_transition_is_refused_with_a_clear_error(current, target):
    with pytest.raises(IllegalTransition) as refused:
        domain.transition(current, target)
    assert str(refused.value) == f"Usulan berstatus {current} tidak dapat menjadi {target}."


@pytest.mark.parametrize("current, target", sorted(LEGAL))
def test_every_legal_transition_is_allowed(current, target):
    assert domain.transition(current, target) == target


@pytest.mark.parametrize("current", ["pending_budget", "approved", "enrolled", "completed"])
def test_an_operator_cannot_approve_what_the_budget_has_not_answered_or_is_past(current):
    with pytest.raises(IllegalTransition, match="waitlisted atau partially_approved"):
        domain.operator_approval(current)


@pytest.mark.parametrize("current", ["waitlisted", "partially_approved"])
def test_an_operator_approves_what_the_budget_left_waiting(current):
    assert domain.operator_approval(current) is Status.APPROVED


def test_a_full_batch_puts_the_participant_on_the_next_one():
    full = domain.Seats(uuid.uuid4(), START, capacity=2, taken=2)
    earlier = domain.Seats(uuid.uuid4(), START - timedelta(7), capacity=5, taken=0)
    next_ = domain.Seats(uuid.uuid4(), START + timedelta(14), capacity=5, taken=4)
    last = domain.Seats(uuid.uuid4(), START + timedelta(28), capacity=5, taken=0)
    assert domain.place_in_batch(full, [last, earlier, next_]) == next_
    assert domain.place_in_batch(full, [earlier]) is None


# --- a gap no programme closes, development already booked, the year planned ------------------


def test_short_of_the_level_the_programme_reaching_highest_wins_over_a_cheaper_one():
    need = [Need("M.02", 4, 1)]
    cheap_to_2 = offer("KER-2", 24, 240_000, {"M.02": 2})  # 10,000 a JP, 1 -> 2
    dear_to_3 = offer("KER-3", 24, 2_400_000, {"M.02": 3})  # 100,000 a JP, 1 -> 3
    plan = domain.propose(need, [cheap_to_2, dear_to_3], jp_this_year=20)
    assert list(items_by_code(plan)) == ["KER-3"]
    assert rules(plan.items[0]) == [("M.02", Rule.NARROWS_GAP, -3)]


def test_a_gap_booked_development_closes_is_not_proposed_again_one_it_narrows_is_planned_on():
    needs = [Need("M.01", 3, 1), Need("M.03", 4, 2)]
    offers = [
        offer("INT-3", 24, 2_400_000, {"M.01": 3}),
        offer("KOM-3", 24, 1_000_000, {"M.03": 3}),  # would narrow 2 -> 3
        offer("KOM-4", 24, 3_000_000, {"M.03": 4}),
    ]
    plan = domain.propose(needs, offers, 20, booked_levels={"M.01": 3, "M.03": 3})
    assert list(items_by_code(plan)) == ["KOM-4"]  # M.03 from the booked level 3 to 4
    assert [n.competency_code for n in plan.booked] == ["M.01"]


def year_offer(code, levels, starts, ends, cost=1_000_000, jp=24):
    return Offer(code, jp, cost, levels, OpenBatch(uuid.uuid4(), starts, ends))


def test_a_batch_counts_in_the_year_it_ends_so_a_december_to_january_batch_is_next_years():
    across = year_offer("LINTAS", {"M.04": 3}, date(2026, 12, 28), date(2027, 1, 8), cost=100)
    inside = year_offer("DESEMBER", {"M.04": 3}, date(2026, 12, 14), date(2026, 12, 18))
    assert (across.year, inside.year) == (2027, 2026)

    planned = domain.plan_for([Need("M.04", 3, 2)], [across, inside], 2026, {2026: 0})

    # this year's, though the other is cheaper per JP and starts in this year too
    assert [item.offer.code for item in planned.plan.items] == ["DESEMBER"]
    assert planned.review.fiscal_year == 2026 and not planned.review.next_year


def test_jp_booked_in_a_batch_ending_next_year_do_not_meet_this_years_minimum():
    needs = [Need("M.04", 3, 3)]  # no gap: only the 20 JP matter
    top_up = year_offer("SEMINAR", {"M.04": 3}, date(2026, 12, 10), date(2026, 12, 11), jp=20)
    this_year = domain.plan_for(needs, [top_up], 2026, {2026: 0, 2027: 24})
    assert [i.offer.code for i in this_year.plan.items] == ["SEMINAR"]
    assert this_year.review.jp_finding is domain.Finding.TOP_UP_PROPOSED
    reached = domain.plan_for(needs, [top_up], 2026, {2026: 20})
    assert reached.plan.items == []
    assert reached.review.jp_finding is domain.Finding.MINIMUM_REACHED
    assert [c.finding for c in reached.review.competencies] == [domain.Finding.NO_GAP]


def test_when_no_batch_this_year_narrows_a_gap_the_proposal_is_for_next_year():
    needs = [Need("M.06", 3, 1), Need("M.07", 3, 3)]
    january = year_offer("PENGEMBANGAN", {"M.06": 3}, date(2027, 1, 11), date(2027, 1, 15))
    planned = domain.plan_for(needs, [january], 2026, {2026: 0, 2027: 0})
    assert [i.offer.code for i in planned.plan.items] == ["PENGEMBANGAN"]
    review = planned.review
    assert (review.fiscal_year, review.next_year) == (2027, True)
    assert review.jp_finding is domain.Finding.NOT_PLANNED
    assert [(c.competency_code, c.finding) for c in review.competencies] == [
        ("M.06", domain.Finding.PROPOSED),
        ("M.07", domain.Finding.NO_GAP),
    ]


def test_the_review_says_why_an_assessment_led_to_no_proposal():
    needs = [Need("M.01", 3, 1), Need("M.02", 3, 2), Need("M.03", 2, 2)]
    planned = domain.plan_for(needs, [], 2026, {2026: 24}, booked_levels={"M.02": 3})
    assert planned.plan.items == []
    review = planned.review
    assert [(c.competency_code, c.finding) for c in review.competencies] == [
        ("M.01", domain.Finding.NO_PROGRAMME),
        ("M.02", domain.Finding.ALREADY_BOOKED),
        ("M.03", domain.Finding.NO_GAP),
    ]
    assert [c.competency_code for c in review.unmet] == ["M.01"]
    assert review.jp_finding is domain.Finding.MINIMUM_REACHED
