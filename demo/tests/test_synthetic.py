"""The synthetic city of the benchmark and the chaos run, without any service running."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from kompas_demo import seed
from kompas_demo.synthetic import City, first_batch_day, synthetic_city, synthetic_nip

CORE = ("M.01", "M.02", "SK.01")
CITY = City(
    "UJI",
    "Pemerintah Kota Uji",
    units=10,
    employees=95,
    standard=CORE,
    fiscal_year=2026,
    starts_on=date(2026, 12, 1),
    email_domain="uji.test",
    underfunded_top_up=1_500_000,
    officials=True,
)


def test_nips_are_valid_and_distinct_far_beyond_a_benchmark_s_size():
    nips = [synthetic_nip(i) for i in range(0, 2_000_000, 7)]
    assert len(set(nips)) == len(nips)
    assert synthetic_nip(0) == "197001012019011001"
    assert synthetic_nip(1) == "197001022019012002"
    assert all(len(nip) == 18 and nip[8:14] == "201901" for nip in nips)
    assert max(nip[:8] for nip in nips) < "20000101"  # 18 by the appointment in 2019


def test_each_unit_has_a_post_asking_level_3_of_the_standard_and_employees_in_turn():
    data = synthetic_city(CITY)
    root, *units = data.units
    assert (root.code, root.parent_code) == ("UJI", None)
    assert [u.code for u in units] == [f"UJI-U{n:02d}" for n in range(10)]
    assert {u.parent_code for u in units} == {"UJI"}
    assert [dict(j.technical) for j in data.jabatan] == [dict.fromkeys(CORE, 3)] * 10
    assert [e.unit_code for e in data.employees[:11]] == [*(u.code for u in units), "UJI-U00"]
    assert data.employees[5].email == "pegawai5@uji.test"
    assert {e.supervisor_nip for e in data.employees} == {None}


def test_one_unit_in_ten_is_funded_for_half_its_proposals_and_the_top_up():
    data = synthetic_city(CITY)
    need = 10 * 2 * 1_500_000  # ten employees a unit at most, two programmes each
    amounts = {a.unit_code: a.amount_rupiah for a in data.allocations}
    assert amounts["UJI-U09"] == need // 2 + 1_500_000
    assert set(amounts.values()) == {need + need // 10, need // 2 + 1_500_000}
    assert [p.code for p in data.programmes] == ["P-M.01", "P-M.02", "P-SK.01"]
    assert {(o.role, o.unit_code) for o in data.officials} == {
        ("bkpsdm_admin", None),
        ("unit_operator", "UJI-U09"),
    }
    assert synthetic_city(replace(CITY, officials=False)).officials == ()


def test_the_first_batch_is_in_december_after_today():
    assert first_batch_day(date(2026, 6, 1)) == date(2026, 12, 1)
    assert first_batch_day(date(2026, 12, 10)) == date(2026, 12, 11)
    assert first_batch_day(date(2026, 12, 31)) == date(2026, 12, 30)


def test_what_is_left_out_is_left_to_the_service():
    data = synthetic_city(CITY)
    employee = replace(data.employees[0], sex=None)
    programme = replace(data.programmes[0], jp=None)
    assert "sex" not in seed.employee_body(employee)
    assert seed.employee_body(data.employees[1])["sex"] == "P"
    assert "jp" not in seed.programme_body(programme)
    assert seed.programme_body(data.programmes[0])["jp"] == 20
