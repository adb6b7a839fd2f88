"""Reservations, releases, spending and alerts from real events: the service runs as
``nameko run`` processes against real PostgreSQL and RabbitMQ; training's events are
published from here with kombu and the budget's answers read from our own queue."""

import time
from collections import Counter

from asn_shared.events import new_event, registry
from asn_testkit.auth import admin_http
from asn_testkit.events import publish_many
from asn_testkit.metrics import events_handled
from asn_testkit.waiting import wait_for

YEAR = 2026
JUTA = 1_000_000
LATSAR_ONLINE = 5_260_000  # Latsar CPNS online, per participant


def position(url: str, unit: str) -> dict:
    response = admin_http.get(f"{url}/allocations/{unit}/{YEAR}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_500_proposals_on_3_replicas_reserve_exactly_what_the_allocation_covers(
    start_budget, allocate, training, budget_events, ledger_sums, amqp_uri
):
    replicas = start_budget(replicas=3)
    allocated = 200 * LATSAR_ONLINE
    allocate(replicas[0].url, "DINKES", allocated)
    proposals = [training.proposal("DINKES", [LATSAR_ONLINE]) for _ in range(500)]
    events = [new_event(registry.get("proposal.created", 1), p) for p in proposals]

    started = time.monotonic()
    publish_many(amqp_uri, events)
    published = time.monotonic() - started
    budget_events.wait("budget.reserved", 200, timeout=90)
    budget_events.wait("budget.rejected", 300, timeout=90)
    elapsed = time.monotonic() - started
    print(
        f"\n500 proposal.created on 3 replicas: published in {published:.1f}s, "
        f"all 500 decisions received in {elapsed:.1f}s ({500 / elapsed:.0f} events/s)"
    )
    budget_events.settle(quiet=1.5)  # a duplicate answer would show up here

    reserved, rejected = (
        budget_events.data("budget.reserved"),
        budget_events.data("budget.rejected"),
    )
    assert (len(reserved), len(rejected)) == (200, 300)
    decided = [e["proposal_id"] for e in reserved + rejected]
    assert sorted(decided) == sorted(str(p["proposal_id"]) for p in proposals)
    assert all(e["amount_rupiah"] == LATSAR_ONLINE and not e["partial"] for e in reserved)
    assert all(e["reason"] == "insufficient_funds" for e in rejected)
    assert all(e["requested_rupiah"] == LATSAR_ONLINE for e in rejected)
    assert all(e["available_rupiah"] < LATSAR_ONLINE for e in rejected)
    # each reservation saw its own committed figure: the unit's row serialised them all
    assert sorted(e["committed_rupiah"] for e in reserved) == [
        n * LATSAR_ONLINE for n in range(1, 201)
    ]
    assert max(e["committed_rupiah"] for e in reserved + rejected) == allocated

    thresholds = budget_events.data("budget.threshold_reached")
    assert sorted(e["threshold_percent"] for e in thresholds) == [80, 100]
    assert {e["threshold_percent"]: e["committed_rupiah"] for e in thresholds} == {
        80: 160 * LATSAR_ONLINE,
        100: allocated,
    }

    final = position(replicas[1].url, "DINKES")
    assert final["available_rupiah"] == 0
    assert final["reserved_rupiah"] == final["allocated_rupiah"] == allocated
    assert final["thresholds_reached"] == [80, 100]
    assert ledger_sums("DINKES") == {"allocated": allocated, "reserved": allocated, "spent": 0}
    entries = admin_http.get(
        f"{replicas[2].url}/ledger", params={"unit_code": "DINKES", "kind": "reservation"}
    ).json()
    assert entries["total"] == 200

    counts = [events_handled(replica.url, "on_proposal_created") for replica in replicas]
    assert sum(counts) == 500 and all(counts), f"events handled by each replica: {counts}"


def test_the_same_event_delivered_twice_reserves_once(
    start_budget, allocate, training, publish_event, budget_events, ledger_sums
):
    (service,) = start_budget()
    allocate(service.url, "KEC-PLAJU", 10 * JUTA)
    proposal = training.proposal("KEC-PLAJU", [3 * JUTA])
    event = new_event(registry.get("proposal.created", 1), proposal)

    publish_event(event=event)
    publish_event(event=event)  # at-least-once delivery: the very same event again
    publish_event("proposal.created", proposal)  # and the same proposal under a new event id

    budget_events.wait("budget.reserved", 1)
    wait_for(lambda: service.log().count("duplicate event ignored") == 1, what="the duplicate")
    wait_for(lambda: "proposal already decided" in service.log(), what="the re-announcement")
    budget_events.settle(quiet=1.0)
    assert len(budget_events.seen) == 1
    assert ledger_sums("KEC-PLAJU") == {"allocated": 10 * JUTA, "reserved": 3 * JUTA, "spent": 0}
    decision = admin_http.get(f"{service.url}/proposals/{proposal['proposal_id']}").json()
    assert decision["status"] == "reserved" and decision["reserved_rupiah"] == 3 * JUTA


def test_per_item_policy_reserves_what_fits_and_a_unit_without_allocation_is_rejected(
    start_budget, allocate, training, publish_event, budget_events, ledger_sums
):
    (service,) = start_budget()
    allocate(service.url, "PUSKESMAS-PLAJU", 10 * JUTA)
    proposal = training.proposal("PUSKESMAS-PLAJU", [6 * JUTA, 5 * JUTA, 3 * JUTA])
    publish_event("proposal.created", proposal)
    budget_events.wait("budget.reserved", 1)
    (reserved,) = budget_events.data("budget.reserved")
    first, second, third = (str(item["item_id"]) for item in proposal["items"])
    assert reserved["partial"] is True
    assert reserved["item_ids"] == [first, third]
    assert reserved["rejected_item_ids"] == [second]
    assert (reserved["amount_rupiah"], reserved["available_rupiah"]) == (9 * JUTA, JUTA)

    orphan = training.proposal("DISHUB", [2 * JUTA, 4 * JUTA])
    publish_event("proposal.created", orphan)
    budget_events.wait("budget.rejected", 1)
    (rejected,) = budget_events.data("budget.rejected")
    assert rejected["reason"] == "no_allocation"
    assert rejected["requested_rupiah"] == 6 * JUTA
    assert (rejected["allocated_rupiah"], rejected["available_rupiah"]) == (0, 0)
    assert ledger_sums("PUSKESMAS-PLAJU")["reserved"] == 9 * JUTA
    assert "Traceback" not in service.log()


def test_all_or_nothing_policy_by_configuration(
    start_budget, allocate, training, publish_event, budget_events
):
    (service,) = start_budget(env={"BUDGET_RESERVATION_POLICY": "all_or_nothing"})
    allocate(service.url, "KEL-PLAJU-ULU", 10 * JUTA)
    publish_event("proposal.created", training.proposal("KEL-PLAJU-ULU", [6 * JUTA, 5 * JUTA]))
    publish_event("proposal.created", training.proposal("KEL-PLAJU-ULU", [6 * JUTA, 4 * JUTA]))
    budget_events.wait("budget.rejected", 1)
    budget_events.wait("budget.reserved", 1)
    (rejected,) = budget_events.data("budget.rejected")
    (reserved,) = budget_events.data("budget.reserved")
    assert (rejected["reason"], rejected["requested_rupiah"]) == ("insufficient_funds", 11 * JUTA)
    assert (reserved["amount_rupiah"], reserved["partial"]) == (10 * JUTA, False)


def test_release_on_cancellation_and_spending_on_completion(
    start_budget, allocate, training, publish_event, budget_events, ledger_sums
):
    (service,) = start_budget()
    url = service.url
    allocate(url, "DISPAR", 20 * JUTA)
    two_items = training.proposal("DISPAR", [6 * JUTA, 4 * JUTA])
    one_item = training.proposal("DISPAR", [7 * JUTA])
    publish_event("proposal.created", two_items)
    publish_event("proposal.created", one_item)
    budget_events.wait("budget.reserved", 2)
    # 17 of 20 million committed: the 80 % alert, once
    budget_events.wait("budget.threshold_reached", 1)
    (alert,) = budget_events.data("budget.threshold_reached")
    assert (alert["threshold_percent"], alert["committed_rupiah"]) == (80, 17 * JUTA)

    cancel = training.cancelled(one_item)
    publish_event("proposal.cancelled", cancel)
    publish_event("proposal.cancelled", {**cancel, "reason": "digantikan usulan baru"})
    budget_events.wait("budget.released", 1)
    (released,) = budget_events.data("budget.released")
    assert (released["amount_rupiah"], released["available_rupiah"]) == (7 * JUTA, 10 * JUTA)

    first, second = two_items["items"]
    exact = training.completed("DISPAR", 6 * JUTA, proposal=two_items, item=first)
    cheaper = training.completed("DISPAR", 3 * JUTA, proposal=two_items, item=second)
    publish_event("enrollment.completed", exact)
    publish_event("enrollment.completed", cheaper)
    budget_events.wait("budget.spent", 2)
    publish_event("enrollment.completed", {**cheaper, "cost_rupiah": 9 * JUTA})  # same enrollment
    publish_event("enrollment.completed", training.completed("DISPAR", 2 * JUTA))  # no proposal
    publish_event("enrollment.completed", training.completed("DISPAR", 0))  # free: nothing moves
    budget_events.wait("budget.spent", 3)
    spent = budget_events.data("budget.spent")
    wait_for(lambda: events_handled(url, "on_enrollment_completed") == 5, what="five completions")
    wait_for(lambda: events_handled(url, "on_proposal_cancelled") == 2, what="two cancellations")
    budget_events.settle(quiet=0.5)
    assert len(budget_events.data("budget.spent")) == 3
    assert len(budget_events.data("budget.released")) == 1
    assert "enrollment already charged" in service.log()
    assert sorted(e["amount_rupiah"] for e in spent) == [2 * JUTA, 3 * JUTA, 6 * JUTA]
    assert {e["proposal_id"] for e in spent} == {str(two_items["proposal_id"]), None}

    # 20 allocated; 6 + 3 spent from the reservation (1 given back), 2 spent directly
    assert ledger_sums("DISPAR") == {"allocated": 20 * JUTA, "reserved": 0, "spent": 11 * JUTA}
    final = position(url, "DISPAR")
    assert (final["available_rupiah"], final["committed_rupiah"]) == (9 * JUTA, 11 * JUTA)
    kinds = Counter(
        e["kind"]
        for e in admin_http.get(f"{url}/ledger", params={"unit_code": "DISPAR"}).json()["items"]
    )
    assert kinds == {"allocation": 1, "reservation": 2, "release": 1, "spend": 3}
    decision = admin_http.get(f"{url}/proposals/{two_items['proposal_id']}").json()
    assert [item["state"] for item in decision["items"]] == ["spent", "spent"]
    assert [item["spent_rupiah"] for item in decision["items"]] == [6 * JUTA, 3 * JUTA]
    assert admin_http.get(f"{url}/proposals/{one_item['proposal_id']}").json()["status"] == (
        "released"
    )


def test_a_cancellation_that_overtakes_its_proposal_prevents_the_reservation(
    start_budget, allocate, training, publish_event, budget_events, ledger_sums
):
    (service,) = start_budget()
    allocate(service.url, "DLH", 10 * JUTA)
    proposal = training.proposal("DLH", [2 * JUTA])
    publish_event("proposal.cancelled", training.cancelled(proposal))
    wait_for(lambda: "cancelled before its creation" in service.log(), what="the tombstone")
    publish_event("proposal.created", proposal)
    wait_for(lambda: "proposal already decided" in service.log(), what="the late proposal")
    budget_events.settle(quiet=1.0)
    assert budget_events.seen == []
    assert ledger_sums("DLH")["reserved"] == 0


def test_a_completion_spends_exactly_the_item_it_names_and_nothing_when_funded_another_way(
    start_budget, allocate, training, publish_event, budget_events, ledger_sums
):
    (service,) = start_budget()
    url = service.url
    allocate(url, "DISHUB", 10 * JUTA)
    # two batches of one workshop in one proposal: the programme code cannot tell them apart
    first = training.item(6 * JUTA, programme_code="LOKAKARYA-TRANSPORTASI")
    second = training.item(3 * JUTA, programme_code="LOKAKARYA-TRANSPORTASI")
    proposal = {**training.proposal("DISHUB", []), "items": [first, second]}
    proposal["total_cost_rupiah"], proposal["total_jp"] = 9 * JUTA, 48
    publish_event("proposal.created", proposal)
    budget_events.wait("budget.reserved", 1)

    publish_event(
        "enrollment.completed",
        training.completed("DISHUB", 3 * JUTA, proposal=proposal, item=second),
    )
    budget_events.wait("budget.spent", 1)
    decision = admin_http.get(f"{url}/proposals/{proposal['proposal_id']}").json()
    assert [item["state"] for item in decision["items"]] == ["reserved", "spent"]
    assert ledger_sums("DISHUB") == {
        "allocated": 10 * JUTA,
        "reserved": 6 * JUTA,
        "spent": 3 * JUTA,
    }

    # an item an operator approved as funded another way (no reservation) charges nothing
    outside = training.proposal("DISHUB", [1 * JUTA])
    funded_elsewhere = training.completed(
        "DISHUB", 1 * JUTA, proposal=outside, item=outside["items"][0], funding="other"
    )
    publish_event("enrollment.completed", funded_elsewhere)
    wait_for(lambda: events_handled(url, "on_enrollment_completed") == 2, what="two completions")
    budget_events.settle(quiet=0.5)
    assert len(budget_events.data("budget.spent")) == 1
    assert ledger_sums("DISHUB") == {
        "allocated": 10 * JUTA,
        "reserved": 6 * JUTA,
        "spent": 3 * JUTA,
    }
    assert position(url, "DISHUB")["available_rupiah"] == 1 * JUTA
