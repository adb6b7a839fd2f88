"""The report of what closing the open competency gaps would cost, per unit and year."""

from __future__ import annotations

from datetime import date

from asn_testkit import auth
from training.use_cases.reports import cheapest_cover

REPORT = "/reports/gap-closing-cost"


def test_the_cheapest_cover_may_take_two_programmes_over_one_that_closes_both():
    programmes = {
        "BOTH": (3_000_000, frozenset({"M.01", "M.02"})),
        "ONE": (1_000_000, frozenset({"M.01"})),
        "TWO": (1_500_000, frozenset({"M.02"})),
    }
    assert cheapest_cover(["M.01", "M.02", "M.09"], programmes) == (
        2_500_000,
        {"ONE", "TWO"},
        {"M.09"},
    )
    cheaper_combined = {**programmes, "BOTH": (2_000_000, frozenset({"M.01", "M.02"}))}
    assert cheapest_cover(["M.01", "M.02"], cheaper_combined) == (2_000_000, {"BOTH"}, set())
    assert cheapest_cover([], programmes) == (0, set(), set())


def test_open_gaps_cost_the_waiting_proposal_then_the_cheapest_plan_once_it_is_cancelled(
    api, training_events, publish_event, build
):
    api.post("/programmes", build.programme("BOTH", 3_000_000, {"M.01": 3, "M.02": 3}), 201)
    api.post("/programmes", build.programme("ONE", 1_000_000, {"M.01": 3}), 201)
    api.post("/programmes", build.programme("TWO", 1_500_000, {"M.02": 3}), 201)
    results = [build.result("M.01", 3, 2), build.result("M.02", 3, 2)]
    results += [build.result("M.09", 3, 1), build.result("M.03", 3, 3)]
    publish_event("assessment.recorded", build.assessment(results))
    proposal = training_events.wait("proposal.created")[0]["data"]
    year = date.today().year

    # no budget answers here: the proposal waits, and its items are what the gaps cost
    [unit] = api.get(REPORT, fiscal_year=year)["units"]
    assert unit == {
        "unit_code": "KEC-PLAJU",
        "unit_name": "Kecamatan Plaju",
        "employees_with_gaps": 1,
        "gaps": 3,
        "funded_gaps": 0,
        "proposed_gaps": 2,
        "open_gaps": 1,
        "unclosable_gaps": 1,
        "proposed_rupiah": proposal["total_cost_rupiah"],
        "unplanned_rupiah": 0,
        "closing_cost_rupiah": proposal["total_cost_rupiah"],
    }

    # cancelled, nothing is proposed: the cheapest plan closing both gaps is two programmes
    api.post(f"/proposals/{proposal['proposal_id']}/cancel", {"reason": "diganti rencana"})
    [unit] = api.get(REPORT, unit_code="KEC-PLAJU")["units"]
    assert (unit["proposed_rupiah"], unit["unplanned_rupiah"]) == (0, 2_500_000)
    assert (unit["open_gaps"], unit["unclosable_gaps"], unit["closing_cost_rupiah"]) == (
        3,
        1,
        2_500_000,
    )

    # another year's catalogue has none of these programmes: every open gap is unclosable
    [later] = api.get(REPORT, fiscal_year=year + 2)["units"]
    assert (later["unplanned_rupiah"], later["unclosable_gaps"]) == (0, 3)


def test_an_operator_reaches_only_the_report_of_their_units(
    api, training_events, publish_event, build
):
    publish_event("assessment.recorded", build.assessment([build.result("M.01", 3, 2)]))
    training_events.wait("assessment.reviewed")
    own = auth.session("operator", "KEC-PLAJU").get(f"{api.url}{REPORT}", timeout=10)
    assert own.status_code == 200, own.text
    assert [u["unit_code"] for u in own.json()["units"]] == ["KEC-PLAJU"]
    other = auth.session("operator", "KEL-TALANG-PUTRI")
    assert other.get(f"{api.url}{REPORT}", timeout=10).json()["units"] == []
    refused = other.get(f"{api.url}{REPORT}", params={"unit_code": "KEC-PLAJU"}, timeout=10)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    employee = auth.session("employee", build.NIP).get(f"{api.url}{REPORT}", timeout=10)
    assert employee.status_code == 403
    bad = api.call("GET", REPORT, 400, params={"fiscal_year": "soon"})
    assert "fiscal_year" in bad["errors"]
