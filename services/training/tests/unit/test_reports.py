"""The gap-closing cost per unit without broker or database: gaps funded, proposed or open,
the cheapest programmes for the open ones, and the caller's units."""

from datetime import date, timedelta

import pytest

from asn_shared.auth import ADMIN, OPERATOR, Principal
from asn_shared.errors import Forbidden
from training.use_cases import decisions, planning, reports

ADMIN_CALLER = Principal("admin", ADMIN)


def assess(uow, events, *results):
    uow.handle(planning.record_assessment, events.assessed(list(results)))


def cost(uow, caller=ADMIN_CALLER, unit_code=None):
    [unit] = reports.gap_closing_cost(uow, 2026, unit_code, caller)["units"]
    return unit


def test_a_proposed_gap_costs_its_item_once(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3, "M.02": 3})

    assess(uow, events, events.result("M.01", 3, 2), events.result("M.02", 3, 1))

    unit = cost(uow)
    assert (unit["gaps"], unit["proposed_gaps"], unit["open_gaps"]) == (2, 2, 0)
    assert unit["proposed_rupiah"] == unit["closing_cost_rupiah"] == 2_000_000


def test_a_funded_gap_costs_nothing_more(uow, repo, events):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    assess(uow, events, events.result("M.01", 3, 2))
    [proposal] = repo.proposals
    uow.handle(decisions.budget_reserved, events.reserved(proposal, proposal.items, 2_000_000))

    unit = cost(uow)
    assert (unit["funded_gaps"], unit["closing_cost_rupiah"]) == (1, 0)


def test_open_gaps_take_the_cheapest_programmes_that_close_them(uow, repo, events):
    assess(uow, events, events.result("M.01", 3, 2), events.result("M.02", 2, 1))  # no catalogue
    later = date(2026, 6, 22)
    repo.programme("P-BOTH", 3_000_000, {"M.01": 3, "M.02": 2}, starts_on=later)
    repo.programme("P-M01", 1_000_000, {"M.01": 3}, starts_on=later)
    repo.programme("P-M02", 1_500_000, {"M.02": 2}, starts_on=later)

    unit = cost(uow)
    assert (unit["open_gaps"], unit["unplanned_rupiah"], unit["unclosable_gaps"]) == (
        2,
        2_500_000,
        0,
    )


def test_a_gap_no_programme_of_the_year_reaches_is_unclosable(uow, repo, events):
    assess(uow, events, events.result("M.01", 4, 2))
    repo.programme("P-LOW", 1_000_000, {"M.01": 3})  # too low a level
    repo.programme("P-2027", 1_000_000, {"M.01": 4}, starts_on=date(2027, 2, 1))

    unit = cost(uow)
    assert (unit["unclosable_gaps"], unit["unplanned_rupiah"]) == (1, 0)


def test_only_the_newest_reviewed_assessment_of_a_jabatan_counts(uow, repo, events, clock):
    repo.programme("P-PEM", 2_000_000, {"M.01": 3, "M.02": 3})
    assess(uow, events, events.result("M.01", 3, 2), events.result("M.02", 3, 2))
    clock.advance(timedelta(days=10))
    uow.handle(
        planning.record_assessment,
        events.assessed([events.result("M.01", 3, 2)], assessed_on=clock.today()),
    )

    assert cost(uow)["gaps"] == 1


def test_an_operator_reports_only_on_their_units(uow, repo, events):
    assess(uow, events, events.result("M.01", 3, 2))

    assert cost(uow, Principal("op", OPERATOR, "KOTA"))["unit_code"] == "KEC-PLAJU"
    with pytest.raises(Forbidden) as refused:
        reports.gap_closing_cost(uow, 2026, "KEC-PLAJU", Principal("op", OPERATOR, "KEC-ILIR"))
    assert refused.value.code == "auth.unit_scope"
    empty = reports.gap_closing_cost(uow, 2026, None, Principal("op", OPERATOR, "KEC-ILIR"))
    assert empty["units"] == []
