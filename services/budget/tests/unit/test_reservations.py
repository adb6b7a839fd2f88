"""A proposal's money, without broker or database: reserved or rejected once, released on
cancellation, spent item by item at completion, thresholds announced once a year."""

from budget import domain
from budget.use_cases import reservations

RULES = domain.Rules()


def reserve(uow, event, rules=RULES):
    uow.handle(lambda u, e: reservations.reserve_for_proposal(u, e, rules=rules), event)


def release(uow, event):
    uow.handle(lambda u, e: reservations.release_for_proposal(u, e, rules=RULES), event)


def spend(uow, event):
    uow.handle(lambda u, e: reservations.spend_for_enrollment(u, e, rules=RULES), event)


def states(repo, proposal_id):
    return [
        i.state for i in sorted(repo.items, key=lambda i: i.ordinal) if i.proposal_id == proposal_id
    ]


# --- reservations ---------------------------------------------------------------------------


def test_a_proposal_that_fits_is_reserved_whole(uow, repo, events):
    allocation = repo.allocate(10_000_000)
    proposal = events.created(events.item("P-A", 2_000_000), events.item("P-B", 3_000_000))

    reserve(uow, proposal)

    [answer] = uow.named("budget.reserved")
    assert (answer.data["amount_rupiah"], answer.data["partial"]) == (5_000_000, False)
    assert answer.data["available_rupiah"] == 5_000_000
    assert allocation.reserved_rupiah == 5_000_000
    pid = proposal.data["proposal_id"]
    assert repo.proposals[pid].status == "reserved" and states(repo, pid) == ["reserved"] * 2
    [entry] = repo.entries
    assert (entry.kind, entry.reserved_delta, entry.proposal_id) == ("reservation", 5_000_000, pid)


def test_per_item_reserves_what_fits_in_the_proposals_order(uow, repo, events):
    repo.allocate(4_000_000)
    first, second = events.item("P-A", 3_000_000), events.item("P-B", 2_000_000)
    proposal = events.created(first, second)

    reserve(uow, proposal)

    [answer] = uow.named("budget.reserved")
    assert answer.data["item_ids"] == [first["item_id"]]
    assert answer.data["rejected_item_ids"] == [second["item_id"]]
    assert answer.data["partial"] is True and answer.data["amount_rupiah"] == 3_000_000
    assert states(repo, proposal.data["proposal_id"]) == ["reserved", "refused"]


def test_all_or_nothing_rejects_a_proposal_that_does_not_fit_whole(uow, repo, events):
    allocation = repo.allocate(4_000_000)
    proposal = events.created(events.item("P-A", 3_000_000), events.item("P-B", 2_000_000))

    reserve(uow, proposal, domain.Rules(policy=domain.Policy.ALL_OR_NOTHING))

    [answer] = uow.named("budget.rejected")
    assert answer.data["reason"] == "insufficient_funds"
    assert answer.data["requested_rupiah"] == 5_000_000
    assert allocation.reserved_rupiah == 0 and repo.entries == []
    assert repo.proposals[proposal.data["proposal_id"]].status == "rejected"


def test_a_unit_without_an_allocation_is_rejected_as_such(uow, repo, events):
    reserve(uow, events.created(events.item("P-A", 1_000_000)))

    [answer] = uow.named("budget.rejected")
    assert answer.data["reason"] == "no_allocation" and answer.data["allocated_rupiah"] == 0


def test_a_proposal_is_decided_once_however_often_it_arrives(uow, repo, events):
    allocation = repo.allocate(10_000_000)
    proposal = events.created(events.item("P-A", 2_000_000))

    reserve(uow, proposal)
    reserve(uow, proposal)

    assert len(uow.named("budget.reserved")) == 1 and allocation.reserved_rupiah == 2_000_000


def test_each_threshold_is_announced_once_a_year(uow, repo, events):
    repo.allocate(5_000_000)

    reserve(uow, events.created(events.item("P-A", 4_000_000)))  # 80 %
    reserve(uow, events.created(events.item("P-B", 500_000)))  # 90 %: nothing new
    reserve(uow, events.created(events.item("P-C", 500_000)))  # 100 %

    announced = [e.data["threshold_percent"] for e in uow.named("budget.threshold_reached")]
    assert announced == [80, 100]


# --- releases -------------------------------------------------------------------------------


def test_a_cancelled_proposal_gives_its_reservation_back_once(uow, repo, events):
    allocation = repo.allocate(10_000_000)
    proposal = events.created(events.item("P-A", 2_000_000), events.item("P-B", 3_000_000))
    pid = proposal.data["proposal_id"]
    reserve(uow, proposal)

    release(uow, events.cancelled(pid))
    release(uow, events.cancelled(pid))

    [released] = uow.named("budget.released")
    assert released.data["amount_rupiah"] == 5_000_000
    assert allocation.reserved_rupiah == 0
    assert repo.proposals[pid].status == "released" and states(repo, pid) == ["released"] * 2


def test_a_cancellation_that_overtakes_its_proposal_stops_the_reservation(uow, repo, events):
    allocation = repo.allocate(10_000_000)
    proposal = events.created(events.item("P-A", 2_000_000))

    release(uow, events.cancelled(proposal.data["proposal_id"]))
    reserve(uow, proposal)

    assert repo.proposals[proposal.data["proposal_id"]].status == "cancelled"
    assert allocation.reserved_rupiah == 0
    assert uow.named("budget.reserved") == [] and uow.named("budget.released") == []


def test_a_rejected_proposal_has_nothing_to_release(uow, repo, events):
    proposal = events.created(events.item("P-A", 2_000_000))
    reserve(uow, proposal)  # no allocation: rejected

    release(uow, events.cancelled(proposal.data["proposal_id"]))

    assert uow.named("budget.released") == []


# --- spending -------------------------------------------------------------------------------


def reserved_twice(uow, repo, events):
    """A proposal with two reserved items of the same programme (2 and 3 million)."""
    first, second = events.item("P-A", 2_000_000), events.item("P-A", 3_000_000)
    proposal = events.created(first, second)
    reserve(uow, proposal)
    return proposal.data["proposal_id"], first["item_id"], second["item_id"]


def test_a_completion_spends_exactly_the_item_it_names(uow, repo, events):
    allocation = repo.allocate(10_000_000)
    pid, _, second = reserved_twice(uow, repo, events)

    spend(uow, events.completed(3_000_000, proposal_id=pid, item_id=second))

    assert states(repo, pid) == ["reserved", "spent"]
    assert (allocation.reserved_rupiah, allocation.spent_rupiah) == (2_000_000, 3_000_000)
    [spent] = uow.named("budget.spent")
    assert spent.data["amount_rupiah"] == 3_000_000


def test_an_older_completion_without_item_spends_the_first_item_of_its_programme(uow, repo, events):
    repo.allocate(10_000_000)
    pid, _, _ = reserved_twice(uow, repo, events)

    spend(uow, events.completed(2_000_000, proposal_id=pid, programme="P-A"))

    assert states(repo, pid) == ["spent", "reserved"]


def test_an_enrolment_is_charged_once(uow, repo, events):
    allocation = repo.allocate(10_000_000)
    pid, first, _ = reserved_twice(uow, repo, events)
    completion = events.completed(2_000_000, proposal_id=pid, item_id=first)

    spend(uow, completion)
    spend(uow, completion)

    assert allocation.spent_rupiah == 2_000_000 and len(uow.named("budget.spent")) == 1


def test_development_funded_another_way_charges_nothing(uow, repo, events):
    allocation = repo.allocate(10_000_000)
    pid, first, _ = reserved_twice(uow, repo, events)

    spend(uow, events.completed(2_000_000, proposal_id=pid, item_id=first, funding="other"))

    assert allocation.spent_rupiah == 0 and uow.named("budget.spent") == []
    assert states(repo, pid) == ["reserved", "reserved"]


def test_a_completion_without_a_proposal_is_charged_from_the_available_budget(uow, repo, events):
    allocation = repo.allocate(10_000_000)

    spend(uow, events.completed(750_000, programme=None))

    assert (allocation.reserved_rupiah, allocation.spent_rupiah) == (0, 750_000)
    [entry] = repo.entries
    assert (entry.kind, entry.spent_delta) == ("spend", 750_000)
