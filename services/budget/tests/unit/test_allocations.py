"""Allocations (pagu) and their amendments without broker or database: the ledger entry of
each change, the position shown after it, refusals and the thresholds announced once."""

import pytest

from asn_shared.auth import OPERATOR, Principal
from asn_shared.errors import Conflict, Forbidden, NotFound
from budget import domain
from budget.domain import AmendmentRefused, BudgetRuleError
from budget.use_cases import allocations, reports

from .conftest import UNIT, YEAR

RULES = domain.Rules()
JUTA = 1_000_000


def allocate(uow, amount=10 * JUTA, unit=UNIT, **extra):
    command = {
        "unit_code": unit,
        "fiscal_year": YEAR,
        "unit_name": "Kecamatan Plaju",
        "sub_activity_code": "5.03.01.2.01",
        "account_code": "5.1.02.02.01",
        "amount_rupiah": amount,
        "reference": "DPA-2026-01",
        **extra,
    }
    return allocations.create_allocation(uow, command, RULES)


def amend(uow, allocated, unit=UNIT):
    command = {"allocated_rupiah": allocated, "note": "APBD perubahan"}
    return allocations.amend_allocation(uow, unit, YEAR, command, RULES)


def test_an_allocation_is_posted_to_the_ledger_and_shown_from_it(uow, repo):
    view = allocate(uow)

    [entry] = repo.entries
    assert (entry.kind, entry.amount_rupiah, entry.allocated_delta) == (
        "allocation",
        10 * JUTA,
        10 * JUTA,
    )
    assert entry.reference == "DPA-2026-01"
    assert view["allocated_rupiah"] == view["available_rupiah"] == 10 * JUTA
    assert view["thresholds_reached"] == [] and uow.commits == 1 and uow.published == []


def test_a_second_allocation_for_the_year_is_refused(uow, repo):
    allocate(uow)

    with pytest.raises(Conflict) as refused:
        allocate(uow, 5 * JUTA)
    assert refused.value.code == "conflict" and len(repo.entries) == 1


def test_an_allocation_must_be_positive(uow, repo):
    with pytest.raises(BudgetRuleError) as refused:
        allocate(uow, 0)
    assert refused.value.code == "rule_broken" and repo.allocations == {}


def test_an_amendment_posts_the_difference(uow, repo):
    allocate(uow)

    view = amend(uow, 7 * JUTA)

    amendment = repo.entries[-1]
    assert (amendment.kind, amendment.amount_rupiah, amendment.allocated_delta) == (
        "amendment",
        3 * JUTA,
        -3 * JUTA,
    )
    assert amendment.note == "APBD perubahan" and view["allocated_rupiah"] == 7 * JUTA


def test_an_amendment_below_what_is_committed_is_refused(uow, repo):
    allocate(uow)
    repo.allocations[UNIT, YEAR].reserved_rupiah = 6 * JUTA

    with pytest.raises(AmendmentRefused) as refused:
        amend(uow, 5 * JUTA)
    assert refused.value.code == "rule_broken"
    assert len(repo.entries) == 1 and repo.allocations[UNIT, YEAR].allocated_rupiah == 10 * JUTA


def test_an_amendment_that_changes_nothing_is_refused(uow, repo):
    allocate(uow)

    with pytest.raises(AmendmentRefused):
        amend(uow, 10 * JUTA)


def test_amending_a_missing_allocation_is_not_found(uow, repo):
    with pytest.raises(NotFound) as refused:
        amend(uow, 5 * JUTA)
    assert refused.value.code == "not_found"


def test_lowering_the_allocation_announces_a_reached_threshold_once(uow, repo):
    allocate(uow)
    repo.allocations[UNIT, YEAR].reserved_rupiah = 8 * JUTA  # 80 % of 10 juta committed

    view = amend(uow, 9 * JUTA)

    [reached] = uow.named("budget.threshold_reached")
    assert reached.data["threshold_percent"] == 80 and reached.subject == f"{UNIT}/{YEAR}"
    assert view["thresholds_reached"] == [80]
    amend(uow, 8_500_000)
    assert len(uow.named("budget.threshold_reached")) == 1


def test_a_position_is_shown_to_an_operator_of_the_unit_only(uow, repo):
    allocate(uow)

    shown = reports.position(uow, UNIT, YEAR, Principal("op", OPERATOR, "KOTA"))
    assert shown["unit_code"] == UNIT and shown["allocated_rupiah"] == 10 * JUTA
    with pytest.raises(Forbidden) as refused:
        reports.position(uow, UNIT, YEAR, Principal("op", OPERATOR, "KEC-ILIR"))
    assert refused.value.code == "auth.unit_scope"
