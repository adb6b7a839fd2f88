"""What the budget shows, without broker or database: positions summed from the ledger, the
utilisation report of the caller's units, ledger pages and the decision on a proposal."""

import uuid

import pytest

from asn_shared.auth import ADMIN, OPERATOR, Principal
from asn_shared.errors import Forbidden, NotFound
from budget import domain
from budget.use_cases import allocations, reports, reservations

from .conftest import UNIT, YEAR

RULES = domain.Rules()
ADMIN_CALLER = Principal("admin", ADMIN)
ILIR = Principal("op-ilir", OPERATOR, "KEC-ILIR")
PAGE = {"page": 1, "per_page": 10}


def allocate(uow, unit, amount):
    command = {
        "unit_code": unit,
        "fiscal_year": YEAR,
        "sub_activity_code": "5.03.01.2.01",
        "account_code": "5.1.02.02.01",
        "amount_rupiah": amount,
    }
    allocations.create_allocation(uow, command, RULES)


def two_units(uow, events):
    """Plaju half reserved, Ilir untouched."""
    allocate(uow, UNIT, 10_000_000)
    allocate(uow, "KEC-ILIR", 4_000_000)
    proposal = events.created(events.item("P-A", 5_000_000))
    uow.handle(lambda u, e: reservations.reserve_for_proposal(u, e, rules=RULES), proposal)
    return proposal


def test_utilisation_lists_the_fullest_unit_first_with_the_totals(uow, repo, events):
    two_units(uow, events)

    report = reports.utilisation_report(uow, YEAR, ADMIN_CALLER)

    assert [u["unit_code"] for u in report["units"]] == [UNIT, "KEC-ILIR"]
    assert report["units"][0]["utilisation_percent"] == 50.0
    totals = report["totals"]
    assert (totals["allocated_rupiah"], totals["reserved_rupiah"]) == (14_000_000, 5_000_000)
    assert totals["available_rupiah"] == 9_000_000


def test_an_operator_sees_only_their_units(uow, repo, events):
    two_units(uow, events)

    report = reports.utilisation_report(uow, YEAR, ILIR)
    assert [u["unit_code"] for u in report["units"]] == ["KEC-ILIR"]
    page, total = reports.allocations_page(uow, {**PAGE, "unit_code": None}, ILIR)
    assert total == 1 and page[0]["allocated_rupiah"] == 4_000_000
    with pytest.raises(Forbidden) as refused:
        reports.ledger_page(uow, {**PAGE, "unit_code": UNIT}, ILIR)
    assert refused.value.code == "auth.unit_scope"


def test_the_ledger_is_paged_in_the_order_written(uow, repo, events):
    two_units(uow, events)

    entries, total = reports.ledger_page(uow, {**PAGE, "unit_code": UNIT}, ADMIN_CALLER)

    assert total == 2 and [e["kind"] for e in entries] == ["allocation", "reservation"]


def test_the_decision_on_a_proposal_shows_its_items_in_order(uow, repo, events):
    proposal = two_units(uow, events)
    proposal_id = proposal.data["proposal_id"]

    view = reports.proposal_view(uow, proposal_id, ADMIN_CALLER)

    assert view["status"] == "reserved" and view["reserved_rupiah"] == 5_000_000
    assert [i["programme_code"] for i in view["items"]] == ["P-A"]
    with pytest.raises(Forbidden):
        reports.proposal_view(uow, proposal_id, ILIR)
    with pytest.raises(NotFound):
        reports.proposal_view(uow, uuid.uuid4(), ADMIN_CALLER)
