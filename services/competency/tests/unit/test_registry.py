"""Units, employees and the development history without broker or database: the reach of
administrators, operators and employees, references checked, events and their versions."""

import uuid
from datetime import date, timedelta

import pytest

from asn_shared.auth import ADMIN, EMPLOYEE, OPERATOR, Principal
from asn_shared.errors import Conflict, Forbidden, NotFound, RuleBroken
from asn_testkit.fakes import incoming
from competency import use_cases

from .conftest import NIP

ADMIN_CALLER = Principal("admin", ADMIN)
PLAJU = Principal("op-plaju", OPERATOR, "PLJ")
CITY = Principal("op-kota", OPERATOR, "PLG")
SUPERVISOR_NIP = "197501012000031002"


def employee(nip=NIP, unit_code="PLJ", **changes):
    return {
        "nip": nip,
        "name": "Siti Rahmawati",
        "golongan": "III/b",
        "unit_code": unit_code,
        "jabatan_code": "LURAH",
        "email": "siti@plaju.example",
        **changes,
    }


# --- units ----------------------------------------------------------------------------------


def test_a_unit_is_registered_and_announced_with_the_clocks_time(registry_uow, registry):
    view = use_cases.create_unit(
        registry_uow,
        {"code": "KRT", "name": "Kertapati", "kind": "kecamatan", "parent_code": "PLG"},
    )

    assert view["parent_code"] == "PLG" and "KRT" in registry.unit_rows
    [registered] = registry_uow.named("unit.registered")
    assert registered.subject == "KRT"
    assert registered.data["changed_at"] == registry_uow.clock.now()


def test_an_existing_unit_code_is_a_conflict(registry_uow):
    with pytest.raises(Conflict):
        use_cases.create_unit(registry_uow, {"code": "PLJ", "name": "Plaju", "kind": "kecamatan"})
    assert registry_uow.published == []


def test_an_unknown_parent_unit_names_the_field(registry_uow, registry):
    with pytest.raises(RuleBroken) as refused:
        use_cases.create_unit(
            registry_uow, {"code": "KRT", "name": "K", "kind": "kecamatan", "parent_code": "NONE"}
        )
    assert list(refused.value.fields) == ["parent_code"] and "KRT" not in registry.unit_rows


def test_a_unit_cannot_move_below_itself(registry_uow, registry):
    with pytest.raises(RuleBroken) as refused:
        use_cases.update_unit(registry_uow, "PLG", {"parent_code": "PLJ"})
    assert refused.value.code == "rule_broken"
    assert registry.unit_rows["PLG"].parent_code is None and registry_uow.published == []


def test_a_renamed_unit_is_announced(registry_uow, registry):
    registry_uow.clock.advance(timedelta(days=1))

    view = use_cases.update_unit(registry_uow, "PLJ", {"name": "Kecamatan Plaju"})

    [updated] = registry_uow.named("unit.updated")
    assert view["name"] == updated.data["name"] == "Kecamatan Plaju"
    assert registry.unit_rows["PLJ"].updated_at == registry_uow.clock.now()


def test_an_unknown_unit_is_not_found(registry_uow):
    with pytest.raises(NotFound):
        use_cases.update_unit(registry_uow, "NONE", {"name": "x"})


def test_every_unit_is_announced_again_in_one_commit(registry_uow):
    assert use_cases.announce_units(registry_uow) == 3

    assert [e.subject for e in registry_uow.named("unit.updated")] == ["ILR", "PLG", "PLJ"]
    assert registry_uow.commits == 1


# --- employees ------------------------------------------------------------------------------


def test_an_operator_registers_an_employee_of_their_unit(registry_uow, registry):
    view = use_cases.register_employee(registry_uow, PLAJU, employee())

    stored = registry.employees[NIP]
    assert (stored.sex, stored.birth_date, stored.version) == ("P", date(1986, 9, 26), 1)
    assert view["language"] == "id"  # the default
    [registered] = registry_uow.named("employee.registered")
    assert registered.subject == NIP and registered.data["unit"]["code"] == "PLJ"
    assert registered.data["jabatan"]["code"] == "LURAH"


def test_an_operator_cannot_register_into_another_unit(registry_uow, registry):
    with pytest.raises(Forbidden) as refused:
        use_cases.register_employee(registry_uow, PLAJU, employee(unit_code="ILR"))
    assert refused.value.code == "auth.unit_scope" and registry.employees == {}


def test_an_employee_cannot_register_anyone(registry_uow):
    with pytest.raises(Forbidden) as refused:
        use_cases.register_employee(registry_uow, Principal("e", EMPLOYEE, NIP), employee())
    assert refused.value.code == "auth.role"


def test_a_registered_nip_is_a_conflict(registry_uow):
    use_cases.register_employee(registry_uow, ADMIN_CALLER, employee())

    with pytest.raises(Conflict):
        use_cases.register_employee(registry_uow, ADMIN_CALLER, employee(name="Lain"))
    assert len(registry_uow.named("employee.registered")) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"jabatan_code": "CAMAT"}, "jabatan_code"),
        ({"supervisor_nip": NIP}, "supervisor_nip"),
        ({"supervisor_nip": SUPERVISOR_NIP}, "supervisor_nip"),
    ],
)
def test_unknown_references_name_their_field(registry_uow, registry, changes, field):
    with pytest.raises(RuleBroken) as refused:
        use_cases.register_employee(registry_uow, ADMIN_CALLER, employee(**changes))
    assert list(refused.value.fields) == [field] and registry.employees == {}


def test_a_change_bumps_the_version_and_is_announced(registry_uow, registry):
    use_cases.register_employee(registry_uow, ADMIN_CALLER, employee())
    use_cases.register_employee(registry_uow, ADMIN_CALLER, employee(SUPERVISOR_NIP, name="Budi"))
    registry_uow.clock.advance(timedelta(days=30))

    view = use_cases.update_employee(
        registry_uow, CITY, NIP, {"supervisor_nip": SUPERVISOR_NIP, "unit_code": "ILR"}
    )

    assert view["version"] == 2 and registry.employees[NIP].unit_code == "ILR"
    assert registry.employees[NIP].updated_at == registry_uow.clock.now()
    [updated] = registry_uow.named("employee.updated")
    assert updated.data["version"] == 2 and updated.data["unit"]["code"] == "ILR"


def test_a_change_that_changes_nothing_is_not_announced(registry_uow, registry):
    use_cases.register_employee(registry_uow, ADMIN_CALLER, employee())

    view = use_cases.update_employee(registry_uow, ADMIN_CALLER, NIP, {"name": "Siti Rahmawati"})

    assert view["version"] == 1 and registry_uow.named("employee.updated") == []


def test_an_operator_cannot_move_an_employee_out_of_their_units(registry_uow, registry):
    use_cases.register_employee(registry_uow, ADMIN_CALLER, employee())

    with pytest.raises(Forbidden):
        use_cases.update_employee(registry_uow, PLAJU, NIP, {"unit_code": "ILR"})
    assert registry.employees[NIP].unit_code == "PLJ"


def test_an_employee_reaches_only_themselves(registry_uow, registry):
    use_cases.register_employee(registry_uow, ADMIN_CALLER, employee())

    with pytest.raises(Forbidden) as refused:
        use_cases.update_employee(
            registry_uow, Principal("e", EMPLOYEE, SUPERVISOR_NIP), NIP, {"phone": "0711"}
        )
    assert refused.value.code == "auth.own_records"


def test_an_unknown_employee_is_not_found_even_for_an_operator(registry_uow):
    with pytest.raises(NotFound):
        use_cases.update_employee(registry_uow, PLAJU, NIP, {"phone": "0711"})


# --- development history ----------------------------------------------------------------------


def completed(enrollment_id):
    return incoming(
        "enrollment.completed",
        {
            "enrollment_id": enrollment_id,
            "proposal_id": None,
            "proposal_item_id": None,
            "funding": None,
            "employee_nip": NIP,
            "unit_code": "PLJ",
            "programme_code": None,
            "programme_title": "Seminar pelayanan publik",
            "form": "klasikal",
            "activity": "seminar",
            "jp": 8,
            "started_on": date(2026, 5, 4),
            "ended_on": date(2026, 5, 4),
            "jp_year": 2026,
            "competency_codes": ["M.01"],
            "cost_rupiah": 0,
        },
    )


def test_a_completed_development_is_kept_once(registry_uow, registry):
    enrollment_id = uuid.uuid4()

    registry_uow.handle(use_cases.record_development, completed(enrollment_id))
    registry_uow.handle(use_cases.record_development, completed(enrollment_id))

    [kept] = registry.development.values()
    assert (kept["jp"], kept["competency_codes"], kept["jp_year"]) == (8, ["M.01"], 2026)
