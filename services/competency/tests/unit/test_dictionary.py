"""The competency dictionary, the grade defaults and the jabatan with their standards,
without broker or database: what is refused, and the standard a new jabatan takes."""

from datetime import timedelta

import pytest

from asn_shared.errors import Conflict, NotFound, RuleBroken
from competency import use_cases


def competency(code="M.01", kind="manajerial", **extra):
    return {"code": code, "name": "Integritas", "kind": kind, **extra}


def test_a_competency_is_stored_with_its_levels(registry_uow, registry):
    levels = [{"level": 1, "description": "Jujur"}, {"level": 2, "description": "Konsisten"}]

    view = use_cases.create_competency(registry_uow, competency(levels=levels))

    assert view["code"] == "M.01" and [lv["level"] for lv in view["levels"]] == [1, 2]
    assert registry_uow.commits == 1


def test_an_existing_competency_code_is_a_conflict(registry_uow, registry):
    registry.add_to_dictionary("M.01")

    with pytest.raises(Conflict):
        use_cases.create_competency(registry_uow, competency())


def test_a_changed_competency_is_stamped_with_the_clocks_time(registry_uow, registry):
    registry.add_to_dictionary("M.01")
    registry_uow.clock.advance(timedelta(hours=2))

    view = use_cases.update_competency(
        registry_uow, "M.01", {"name": "Integritas", "levels": [{"level": 3, "description": "X"}]}
    )

    assert view["name"] == "Integritas" and view["levels"] == [{"level": 3, "description": "X"}]
    assert registry.competencies["M.01"].updated_at == registry_uow.clock.now()
    with pytest.raises(NotFound):
        use_cases.update_competency(registry_uow, "M.99", {"name": "x"})


def test_a_functional_grade_default_needs_a_functional_grade(registry_uow, registry):
    registry.add_to_dictionary("M.01")
    default = {"kind": "fungsional", "grade": None, "competency_code": "M.01", "level": 3}

    with pytest.raises(RuleBroken) as refused:
        use_cases.set_grade_default(registry_uow, default)
    assert list(refused.value.fields) == ["grade"] and registry.defaults == {}


def test_a_grade_default_for_an_unknown_competency_names_the_field(registry_uow):
    default = {"kind": "pengawas", "grade": "", "competency_code": "M.99", "level": 3}

    with pytest.raises(RuleBroken) as refused:
        use_cases.set_grade_default(registry_uow, default)
    assert list(refused.value.fields) == ["competency_code"]


def jabatan(code="KASI-PEM", **extra):
    return {"code": code, "name": "Kepala Seksi", "kind": "pengawas", "unit_code": "PLJ", **extra}


def test_a_new_jabatan_takes_the_grade_defaults_and_its_own_cells(registry_uow, registry):
    for code in ("M.01", "M.02"):
        registry.add_to_dictionary(code)
    registry.add_to_dictionary("T.01", "teknis")
    for code, level in (("M.01", 3), ("M.02", 2)):
        use_cases.set_grade_default(
            registry_uow,
            {"kind": "pengawas", "grade": "", "competency_code": code, "level": level},
        )

    view = use_cases.create_jabatan(registry_uow, jabatan(standards={"M.02": 3, "T.01": 2}))

    cells = {cell["competency_code"]: cell["required_level"] for cell in view["standards"]}
    assert cells == {"M.01": 3, "M.02": 3, "T.01": 2}


def test_a_jabatan_naming_unknown_competencies_is_refused_naming_each(registry_uow, registry):
    with pytest.raises(RuleBroken) as refused:
        use_cases.create_jabatan(registry_uow, jabatan(standards={"X.01": 2, "X.02": 1}))
    assert sorted(refused.value.fields["standards"]) == ["X.01", "X.02"]
    assert "KASI-PEM" not in registry.jabatans


def test_a_jabatan_of_an_unknown_unit_or_an_existing_code_is_refused(registry_uow):
    with pytest.raises(RuleBroken) as refused:
        use_cases.create_jabatan(registry_uow, jabatan(unit_code="NONE"))
    assert list(refused.value.fields) == ["unit_code"]
    with pytest.raises(Conflict):
        use_cases.create_jabatan(registry_uow, jabatan("LURAH"))


def test_a_jabatan_moves_only_to_a_known_unit(registry_uow, registry):
    with pytest.raises(RuleBroken):
        use_cases.update_jabatan(registry_uow, "LURAH", {"unit_code": "NONE"})

    view = use_cases.update_jabatan(registry_uow, "LURAH", {"unit_code": "ILR"})
    assert view["unit_code"] == "ILR"
    assert registry.jabatans["LURAH"].updated_at == registry_uow.clock.now()


def test_a_technical_competency_is_added_to_and_taken_out_of_a_standard(registry_uow, registry):
    registry.add_to_dictionary("T.01", "teknis")

    added = use_cases.set_standard(registry_uow, "LURAH", "T.01", 2)
    assert [c["competency_code"] for c in added["standards"]] == ["T.01"]

    removed = use_cases.remove_standard(registry_uow, "LURAH", "T.01")
    assert removed["standards"] == [] and registry_uow.commits == 2


def test_a_managerial_competency_stays_in_every_standard(registry_uow, registry):
    registry.add_to_dictionary("M.01")
    use_cases.set_standard(registry_uow, "LURAH", "M.01", 3)

    with pytest.raises(RuleBroken) as refused:
        use_cases.remove_standard(registry_uow, "LURAH", "M.01")
    assert refused.value.code == "rule_broken" and registry.standards["LURAH"] == {"M.01": 3}


@pytest.mark.parametrize("use_case", [use_cases.set_standard, use_cases.remove_standard])
def test_standards_of_unknown_jabatan_or_competencies_are_not_found(registry_uow, use_case):
    arguments = (3,) if use_case is use_cases.set_standard else ()
    with pytest.raises(NotFound):
        use_case(registry_uow, "NONE", "M.01", *arguments)
    with pytest.raises(NotFound):
        use_case(registry_uow, "LURAH", "M.99", *arguments)
