"""The budget rules alone: no broker, no database."""

import pytest

from budget import domain
from budget.domain import EntryKind, Item, Policy, Position

JUTA = 1_000_000  # one million rupiah


def items(*costs: int) -> list[Item]:
    return [Item(f"item-{n}", cost) for n, cost in enumerate(costs)]


def ids(chosen) -> list[str]:
    return [item.item_id for item in chosen]


# --- positions and movements ------------------------------------------------------------


def test_position_committed_available_and_utilisation():
    position = Position(allocated=10 * JUTA, reserved=3 * JUTA, spent=2 * JUTA)
    assert position.committed == 5 * JUTA
    assert position.available == 5 * JUTA
    assert position.utilisation_percent == 50.0
    assert Position().utilisation_percent == 0.0


def test_apply_refuses_to_commit_more_than_is_allocated():
    position = Position(allocated=10 * JUTA, reserved=9 * JUTA)
    assert domain.apply(position, domain.Decision(tuple(items(JUTA)), ()).movement()) == Position(
        10 * JUTA, 10 * JUTA, 0
    )
    with pytest.raises(domain.Overcommitted):
        domain.apply(position, domain.Decision(tuple(items(JUTA + 1)), ()).movement())
    with pytest.raises(domain.Overcommitted):
        domain.apply(position, domain.release(9 * JUTA + 1))


def test_total_sums_positions():
    assert domain.total([Position(10, 2, 3), Position(5, 1, 0)]) == Position(15, 3, 3)


# --- reservation policies -----------------------------------------------------------------


def test_per_item_reserves_in_proposal_order_and_skips_what_no_longer_fits():
    proposal = items(6 * JUTA, 5 * JUTA, 3 * JUTA, 1 * JUTA)
    decision = domain.decide(proposal, 10 * JUTA, Policy.PER_ITEM)
    # 6 fits (4 left), 5 does not, 3 fits (1 left), 1 fits
    assert ids(decision.reserved) == ["item-0", "item-2", "item-3"]
    assert ids(decision.refused) == ["item-1"]
    assert decision.amount == 10 * JUTA
    assert decision.requested == 15 * JUTA
    assert decision.accepted and decision.partial


def test_per_item_keeps_the_proposal_order_not_the_cheapest_first():
    decision = domain.decide(items(8 * JUTA, 2 * JUTA, 2 * JUTA), 9 * JUTA, Policy.PER_ITEM)
    assert ids(decision.reserved) == ["item-0"]  # cheapest-first would have taken the two 2s
    assert ids(decision.refused) == ["item-1", "item-2"]


def test_all_or_nothing_reserves_every_item_or_none():
    proposal = items(6 * JUTA, 5 * JUTA)
    whole = domain.decide(proposal, 11 * JUTA, Policy.ALL_OR_NOTHING)
    assert ids(whole.reserved) == ["item-0", "item-1"] and not whole.partial
    none = domain.decide(proposal, 11 * JUTA - 1, Policy.ALL_OR_NOTHING)
    assert none.reserved == () and ids(none.refused) == ["item-0", "item-1"]
    assert not none.accepted and none.requested == 11 * JUTA


def test_exactly_the_available_amount_fits():
    for policy in Policy:
        decision = domain.decide(items(5 * JUTA), 5 * JUTA, policy)
        assert decision.accepted and decision.amount == 5 * JUTA


def test_nothing_fits_is_a_rejection_under_both_policies():
    for policy in Policy:
        decision = domain.decide(items(5 * JUTA, 7 * JUTA), 4 * JUTA, policy)
        assert not decision.accepted and decision.amount == 0


def test_free_items_are_reserved_even_when_no_money_is_left():
    decision = domain.decide(items(0, 5 * JUTA), 0, Policy.PER_ITEM)
    assert ids(decision.reserved) == ["item-0"] and decision.partial and decision.amount == 0


# --- amendments -------------------------------------------------------------------------


def test_amendment_records_the_difference_up_or_down():
    position = Position(allocated=10 * JUTA, reserved=4 * JUTA, spent=2 * JUTA)
    up = domain.amendment(position, 15 * JUTA)
    assert (up.kind, up.amount, up.allocated) == (EntryKind.AMENDMENT, 5 * JUTA, 5 * JUTA)
    down = domain.amendment(position, 6 * JUTA)
    assert (down.amount, down.allocated) == (4 * JUTA, -4 * JUTA)
    assert domain.apply(position, down).available == 0


def test_amendment_never_goes_below_what_is_committed_or_changes_nothing():
    position = Position(allocated=10 * JUTA, reserved=4 * JUTA, spent=2 * JUTA)
    with pytest.raises(domain.AmendmentRefused, match="terpakai"):
        domain.amendment(position, 6 * JUTA - 1)
    with pytest.raises(domain.AmendmentRefused):
        domain.amendment(position, 10 * JUTA)
    with pytest.raises(domain.AmendmentRefused):
        domain.amendment(position, 0)


def test_an_allocation_must_be_positive():
    assert domain.allocation(JUTA).allocated == JUTA
    with pytest.raises(domain.BudgetRuleError):
        domain.allocation(0)


# --- spending ---------------------------------------------------------------------------


def test_spending_turns_the_reservation_into_spent_money():
    position = Position(allocated=10 * JUTA, reserved=5 * JUTA)
    charge = domain.charge(position, reserved_for_item=3 * JUTA, cost=3 * JUTA)
    assert (charge.released, charge.spent, charge.uncovered) == (3 * JUTA, 3 * JUTA, 0)
    assert domain.apply(position, charge.movement()) == Position(10 * JUTA, 2 * JUTA, 3 * JUTA)


def test_a_cheaper_completion_gives_the_difference_back():
    position = Position(allocated=10 * JUTA, reserved=5 * JUTA)
    after = domain.apply(position, domain.charge(position, 3 * JUTA, 2 * JUTA).movement())
    assert after == Position(10 * JUTA, 2 * JUTA, 2 * JUTA)
    assert after.available == 6 * JUTA


def test_a_dearer_completion_is_charged_only_as_far_as_the_budget_goes():
    position = Position(allocated=10 * JUTA, reserved=9 * JUTA)
    charge = domain.charge(position, reserved_for_item=3 * JUTA, cost=5 * JUTA)
    assert (charge.spent, charge.uncovered) == (4 * JUTA, JUTA)
    assert domain.apply(position, charge.movement()).available == 0


def test_a_completion_without_reservation_is_charged_from_the_available_budget():
    position = Position(allocated=10 * JUTA, reserved=2 * JUTA)
    charge = domain.charge(position, reserved_for_item=0, cost=JUTA)
    assert (charge.released, charge.spent) == (0, JUTA)
    assert not domain.charge(position, 0, 0).moves_money


# --- thresholds -------------------------------------------------------------------------


def test_thresholds_reached_with_exact_integer_arithmetic():
    allocated = 3 * JUTA
    assert domain.reached_thresholds(Position(allocated, 2_399_999), (80, 100)) == []
    assert domain.reached_thresholds(Position(allocated, 2_400_000), (80, 100)) == [80]
    assert domain.reached_thresholds(Position(allocated, allocated - 1), (80, 100)) == [80]
    assert domain.reached_thresholds(Position(allocated, 2 * JUTA, JUTA), (80, 100)) == [80, 100]
    assert domain.reached_thresholds(Position(0, 0), (80, 100)) == []


def test_each_threshold_is_announced_once_even_when_several_are_crossed_at_once():
    full = Position(allocated=10 * JUTA, reserved=10 * JUTA)
    assert domain.to_announce(full, (80, 100), announced=[]) == [80, 100]
    assert domain.to_announce(full, (80, 100), announced=[80]) == [100]
    assert domain.to_announce(full, (80, 100), announced=[80, 100]) == []


def test_a_threshold_is_not_announced_again_after_falling_back_below_it():
    announced = domain.to_announce(Position(10, 8), (80, 100), announced=[])
    assert announced == [80]
    fell_back = domain.to_announce(Position(10, 5), (80, 100), announced)
    rose_again = domain.to_announce(Position(10, 9), (80, 100), announced)
    assert fell_back == [] and rose_again == []


def test_a_lowered_allocation_can_cross_a_threshold_too():
    position = Position(allocated=10 * JUTA, reserved=7 * JUTA)
    lowered = domain.apply(position, domain.amendment(position, 8 * JUTA))
    assert domain.to_announce(lowered, (80, 100), []) == [80]


# --- configuration ----------------------------------------------------------------------


def test_policy_and_thresholds_parsed_with_their_defaults():
    assert domain.parse_policy(None) is Policy.PER_ITEM
    assert domain.parse_policy("All_Or_Nothing") is Policy.ALL_OR_NOTHING
    assert domain.parse_thresholds("") == (80, 100)
    assert domain.parse_thresholds("100, 75,90") == (75, 90, 100)
    assert domain.parse_thresholds(90) == (90,)
    assert domain.parse_thresholds([80, 100]) == (80, 100)


@pytest.mark.parametrize("value", ["0,100", "80,101", "eighty", ","])
def test_invalid_thresholds_are_refused(value):
    with pytest.raises(ValueError, match="BUDGET_THRESHOLDS"):
        domain.parse_thresholds(value)


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="per_item"):
        domain.parse_policy("cheapest_first")
