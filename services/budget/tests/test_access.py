"""Who may call each route of the budget service: admins everything, operators read the
figures of their unit and its sub-units (the tree learnt from competency's ``unit.*``
events); employees and agencies nothing here."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from asn_shared.auth import ADMIN, OPERATOR, ROLES
from asn_testkit import auth
from asn_testkit.access import Callers, check_table, read_as, row
from asn_testkit.units import PLAJU, check_a_move_is_followed, register_tree

YEAR = 2026
JUTA = 1_000_000
FUNDED = ("KEC-PLAJU", "KEL-PLAJU-ULU", "DINKES")
CALLERS = Callers(unit="KEC-PLAJU", nip="199001012015031001", agency="bps-sumsel")


@dataclass
class Seeded:
    url: str
    proposals: dict[str, str]  # unit: proposal id


@pytest.fixture
def seeded(start_budget, allocate, training, publish_event, budget_events) -> Seeded:
    (service,) = start_budget()
    url = service.url
    register_tree(publish_event, url, PLAJU)
    for unit in FUNDED:
        allocate(url, unit, 10 * JUTA)
    proposals = {}
    for unit in ("KEL-PLAJU-ULU", "DINKES"):
        proposal = training.proposal(unit, [2 * JUTA])
        publish_event("proposal.created", proposal)
        proposals[unit] = str(proposal["proposal_id"])
    budget_events.wait("budget.reserved", len(proposals))
    return Seeded(url, proposals)


def access_table(seeded: Seeded) -> list:
    inside, outside = seeded.proposals["KEL-PLAJU-ULU"], seeded.proposals["DINKES"]
    allocation = {
        "unit_code": "KEL-PLAJU-ILIR",
        "fiscal_year": YEAR,
        "amount_rupiah": 5 * JUTA,
        "sub_activity_code": "x.xx.01.2.05.0009",
        "account_code": "5.1.02.02.12.0001",
    }
    return [
        row("GET /openapi.json", *ROLES),
        row("POST /allocations", ADMIN, body=allocation),
        row(
            "POST /allocations/{unit_code}/{fiscal_year}/amendments",
            ADMIN,
            path=f"/allocations/KEL-PLAJU-ULU/{YEAR}/amendments",
            body={"allocated_rupiah": 12 * JUTA},
            note="even the operator's own unit",
        ),
        row("GET /allocations", ADMIN, OPERATOR),
        row("GET /allocations", ADMIN, OPERATOR, path="/allocations?unit_code=KEL-PLAJU-ULU"),
        row("GET /allocations", ADMIN, path="/allocations?unit_code=DINKES", note="another unit's"),
        row(
            "GET /allocations/{unit_code}/{fiscal_year}",
            ADMIN,
            OPERATOR,
            path=f"/allocations/KEL-PLAJU-ULU/{YEAR}",
        ),
        row(
            "GET /allocations/{unit_code}/{fiscal_year}",
            ADMIN,
            path=f"/allocations/DINKES/{YEAR}",
            note="another unit's",
        ),
        row(
            "GET /allocations/{unit_code}/{fiscal_year}",
            ADMIN,
            path=f"/allocations/PEMKOT/{YEAR}",
            note="the operator's parent unit",
        ),
        row("GET /ledger", ADMIN, OPERATOR),
        row("GET /ledger", ADMIN, OPERATOR, path="/ledger?unit_code=KEC-PLAJU"),
        row("GET /ledger", ADMIN, path="/ledger?unit_code=DINKES", note="another unit's"),
        row(
            "GET /reports/utilisation",
            ADMIN,
            OPERATOR,
            path=f"/reports/utilisation?fiscal_year={YEAR}",
        ),
        row("GET /proposals/{proposal_id}", ADMIN, OPERATOR, path=f"/proposals/{inside}"),
        row(
            "GET /proposals/{proposal_id}",
            ADMIN,
            path=f"/proposals/{outside}",
            note="another unit's",
        ),
    ]


def test_every_route_admits_exactly_the_roles_and_scopes_it_names(seeded):
    check_table(seeded.url, access_table(seeded), CALLERS)


def test_an_operator_reads_only_the_figures_of_its_units(seeded):
    def read(http, path: str) -> dict:
        return read_as(http, f"{seeded.url}{path}")

    def units(items: list[dict]) -> set[str]:
        return {item["unit_code"] for item in items}

    admin = auth.session()
    operator = auth.session(OPERATOR, "KEC-PLAJU")
    sub_unit_operator = auth.session(OPERATOR, "KEL-PLAJU-ULU")
    mine = {"KEC-PLAJU", "KEL-PLAJU-ULU"}

    assert units(read(admin, "/allocations")["items"]) == set(FUNDED)
    assert units(read(operator, "/allocations")["items"]) == mine
    assert units(read(sub_unit_operator, "/allocations")["items"]) == {"KEL-PLAJU-ULU"}

    ledger = read(operator, "/ledger?per_page=100")
    assert units(ledger["items"]) == mine and ledger["total"] == 3  # 2 allocations, 1 reserve
    assert read(admin, "/ledger")["total"] == 5

    report = read(operator, f"/reports/utilisation?fiscal_year={YEAR}")
    assert units(report["units"]) == mine
    assert report["totals"]["allocated_rupiah"] == 20 * JUTA
    assert report["totals"]["reserved_rupiah"] == 2 * JUTA
    assert (
        read(admin, f"/reports/utilisation?fiscal_year={YEAR}")["totals"]["allocated_rupiah"]
        == 30 * JUTA
    )


def test_the_unit_tree_follows_a_move_and_ignores_an_older_announcement(
    start_budget, allocate, publish_event
):
    (service,) = start_budget()
    url = service.url
    register_tree(publish_event, url, {**PLAJU, "PUSK-PLAJU": "DINKES"})
    allocate(url, "PUSK-PLAJU", 3 * JUTA)
    operator = auth.session(OPERATOR, "KEC-PLAJU")

    def operator_reaches() -> int:
        return operator.get(f"{url}/allocations/PUSK-PLAJU/{YEAR}", timeout=10).status_code

    check_a_move_is_followed(publish_event, url, operator_reaches)
    listed = operator.get(f"{url}/allocations", timeout=10).json()
    assert [item["unit_code"] for item in listed["items"]] == ["PUSK-PLAJU"]
