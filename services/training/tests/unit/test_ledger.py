"""Direct enrolment and development recorded elsewhere, without broker or database: the
caller's reach, the seats, the JP credited and ``enrollment.*`` events."""

import uuid
from datetime import date

import pytest

from asn_shared.auth import ADMIN, EMPLOYEE, OPERATOR, Principal
from asn_shared.errors import Conflict, Forbidden, NotFound, RuleBroken
from training.use_cases import enrolment, ledger

from .conftest import NIP

ADMIN_CALLER = Principal("admin", ADMIN)
PLAJU_OPERATOR = Principal("op-plaju", OPERATOR, "KEC-PLAJU")
CITY_OPERATOR = Principal("op-kota", OPERATOR, "KOTA")
ILIR_OPERATOR = Principal("op-ilir", OPERATOR, "KEC-ILIR")


def development(**changes):
    return {
        "employee_nip": NIP,
        "title": "Seminar nasional pelayanan publik",
        "form": "klasikal",
        "activity": "seminar",
        "provider": "Universitas Sriwijaya",
        "started_on": date(2026, 12, 30),
        "ended_on": date(2027, 1, 1),
        "competency_codes": ["M.01"],
        "cost_rupiah": 0,
        "evidence": "sertifikat-123.pdf",
        **changes,
    }


def test_development_elsewhere_is_credited_to_the_year_it_ended(uow, repo):
    repo.known()
    repo.activity_kind("seminar", default_jp=8)

    view = ledger.record_development(uow, development(), PLAJU_OPERATOR)

    [entry] = repo.ledger
    assert (entry.jp, entry.jp_year, entry.unit_code) == (8, 2027, "KEC-PLAJU")
    assert view["source"] == "direct" and view["evidence"] == "sertifikat-123.pdf"
    [completed] = uow.published
    assert completed.name == "enrollment.completed" and completed.subject == NIP
    assert completed.data["enrollment_id"] == entry.id
    assert completed.data["proposal_item_id"] is None and completed.data["jp_year"] == 2027


def test_minutes_become_whole_jp(uow, repo):
    repo.known()
    repo.activity_kind("seminar", default_jp=8)

    ledger.record_development(uow, development(minutes=134), ADMIN_CALLER)

    assert repo.ledger[0].jp == 2  # 134 minutes: two whole JP of 45 minutes


def test_an_operator_of_a_parent_unit_reaches_the_employee(uow, repo):
    repo.known()

    ledger.record_development(uow, development(activity=None, jp=3), CITY_OPERATOR)

    assert repo.ledger[0].jp == 3


def test_an_operator_of_another_unit_is_refused(uow, repo):
    repo.known()
    repo.activity_kind("seminar")

    with pytest.raises(Forbidden) as refused:
        ledger.record_development(uow, development(), ILIR_OPERATOR)
    assert refused.value.code == "auth.unit_scope"
    assert repo.ledger == [] and uow.published == []


def test_development_of_an_unknown_employee_is_refused(uow, repo):
    with pytest.raises(RuleBroken) as refused:
        ledger.record_development(uow, development(), ADMIN_CALLER)
    assert refused.value.fields == {"employee_nip": ["Unknown employee."]}


def test_the_ledger_of_a_year_sums_its_entries_and_the_shortfall(uow, repo):
    repo.known()
    repo.completed(8, date(2026, 3, 1))
    repo.completed(4, date(2026, 5, 2))
    repo.completed(30, date(2025, 11, 2))

    view = ledger.jp_ledger(uow, NIP, 2026, Principal("pegawai", EMPLOYEE, NIP))

    assert (view["jp"], view["shortfall_jp"], view["minimum_jp"]) == (12, 8, 20)
    assert [e["ended_on"] for e in view["entries"]] == [date(2026, 3, 1), date(2026, 5, 2)]


def test_an_employee_sees_only_their_own_ledger(uow, repo):
    repo.known()

    with pytest.raises(Forbidden) as refused:
        ledger.jp_ledger(uow, NIP, 2026, Principal("lain", EMPLOYEE, "199001012015011001"))
    assert refused.value.code == "auth.own_records"


def test_the_ledger_of_an_unknown_employee_is_not_found(uow, repo):
    with pytest.raises(NotFound):
        ledger.jp_ledger(uow, NIP, 2026, ADMIN_CALLER)


# --- direct enrolment ---------------------------------------------------------------------


def enrol_directly(uow, batch, caller=ADMIN_CALLER, programme_code="P-PEM"):
    command = {"employee_nip": NIP, "programme_code": programme_code, "batch_id": batch.id}
    return enrolment.enrol_directly(uow, command, caller)


def test_direct_enrolment_takes_a_seat_and_announces_it(uow, repo):
    repo.known()
    programme = repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    [batch] = programme.batches

    view = enrol_directly(uow, batch, PLAJU_OPERATOR)

    [enrollment] = repo.enrollments
    assert enrollment.proposal_id is None and enrollment.cost_rupiah == 2_000_000
    assert enrollment.competency_codes == ["M.01"] and batch.enrolled == 1
    assert view["batch"]["seats_left"] == 29
    [created] = uow.published
    assert created.name == "enrollment.created" and created.data["batch"]["batch_id"] == batch.id


def test_a_batch_of_another_programme_is_refused(uow, repo):
    repo.known()
    repo.programme("P-PEM", 2_000_000, {"M.01": 3})
    other = repo.programme("P-LAIN", 1_000_000, {"M.02": 2})

    with pytest.raises(RuleBroken) as refused:
        enrol_directly(uow, other.batches[0])
    assert refused.value.fields == {"batch_id": ["Unknown batch."]}
    assert other.batches[0].enrolled == 0


def test_a_full_batch_without_a_later_one_refuses_direct_enrolment(uow, repo):
    repo.known()
    [batch] = repo.programme("P-PEM", 2_000_000, {"M.01": 3}, capacity=1).batches
    batch.enrolled = 1

    with pytest.raises(Conflict):
        enrol_directly(uow, batch)
    assert repo.enrollments == [] and uow.published == []


def test_direct_enrolment_outside_the_operators_units_is_refused(uow, repo):
    repo.known()
    [batch] = repo.programme("P-PEM", 2_000_000, {"M.01": 3}).batches

    with pytest.raises(Forbidden):
        enrol_directly(uow, batch, ILIR_OPERATOR)
    assert batch.enrolled == 0


def test_an_unknown_programme_refuses_direct_enrolment(uow, repo):
    repo.known()

    with pytest.raises(NotFound):
        enrolment.enrol_directly(
            uow,
            {"employee_nip": NIP, "programme_code": "P-NONE", "batch_id": uuid.uuid4()},
            ADMIN_CALLER,
        )


def test_cancelling_a_direct_enrolment_frees_its_seat_once(uow, repo):
    repo.known()
    [batch] = repo.programme("P-PEM", 2_000_000, {"M.01": 3}).batches
    view = enrol_directly(uow, batch)

    cancelled = enrolment.cancel_enrollment(uow, view["enrollment_id"], ADMIN_CALLER)

    assert cancelled["status"] == "cancelled" and batch.enrolled == 0
    with pytest.raises(Conflict):
        enrolment.cancel_enrollment(uow, view["enrollment_id"], ADMIN_CALLER)
    assert batch.enrolled == 0


def test_completing_a_direct_enrolment_settles_no_proposal_item(uow, repo):
    repo.known()
    [batch] = repo.programme("P-PEM", 2_000_000, {"M.01": 3}).batches
    view = enrol_directly(uow, batch)

    ledger.complete_enrollment(uow, view["enrollment_id"], {}, ADMIN_CALLER)

    [entry] = repo.ledger
    assert (entry.started_on, entry.ended_on) == (batch.starts_on, batch.ends_on)
    [completed] = uow.named("enrollment.completed")
    assert completed.data["proposal_id"] is None and completed.data["funding"] is None


# --- who stays under the minimum ----------------------------------------------------------


def test_employees_under_the_minimum_are_grouped_by_unit_with_their_shortfall(uow, repo):
    repo.known()
    repo.known("199001012015011001", "KEC-ILIR")
    repo.known("198501012010011001")
    repo.completed(12, date(2026, 4, 1))
    repo.completed(20, date(2026, 4, 1), nip="198501012010011001")  # the minimum reached

    view = ledger.under_minimum(uow, 2026, None, CITY_OPERATOR)

    assert [u["unit_code"] for u in view["units"]] == ["KEC-ILIR", "KEC-PLAJU"]
    [plaju] = view["units"][1]["employees"]
    assert (plaju["nip"], plaju["jp"], plaju["shortfall_jp"]) == (NIP, 12, 8)
    only_plaju = ledger.under_minimum(uow, 2026, None, PLAJU_OPERATOR)
    assert [u["unit_code"] for u in only_plaju["units"]] == ["KEC-PLAJU"]
    with pytest.raises(Forbidden):
        ledger.under_minimum(uow, 2026, "KEC-ILIR", PLAJU_OPERATOR)


def test_an_enrolment_is_reached_by_the_operators_of_its_unit_and_the_units_above(uow, repo):
    repo.known()
    [batch] = repo.programme("P-PEM", 2_000_000, {"M.01": 3}).batches
    view = enrol_directly(uow, batch)

    with pytest.raises(Forbidden) as refused:
        enrolment.cancel_enrollment(uow, view["enrollment_id"], ILIR_OPERATOR)
    assert refused.value.code == "auth.unit_scope" and batch.enrolled == 1
    with pytest.raises(Forbidden):
        ledger.complete_enrollment(uow, view["enrollment_id"], {}, ILIR_OPERATOR)

    ledger.complete_enrollment(uow, view["enrollment_id"], {}, CITY_OPERATOR)
    assert repo.ledger[0].unit_code == "KEC-PLAJU"
