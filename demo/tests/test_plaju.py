"""The Plaju demo data, checked against ../shared/domain.md without any service running."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date

import pytest

from kompas_demo import dataset, plaju, rounds, seed

TODAY = date(2026, 11, 28)
CORE = ("M.01", "M.02", "M.03", "M.04", "M.05", "M.06", "M.07", "M.08", "SK.01")
KELURAHAN = {
    "Plaju Darat",
    "Talang Putri",
    "Komperta",
    "Plaju Ilir",
    "Talang Bubuk",
    "Plaju Ulu",
    "Bagus Kuning",
}
GOLONGAN = [
    f"{r}/{x}"
    for r, rooms in (("I", "abcd"), ("II", "abcd"), ("III", "abcd"), ("IV", "abcde"))
    for x in rooms
]


@pytest.fixture(scope="module")
def data() -> dataset.Dataset:
    return plaju.build(seed=plaju.DEFAULT_SEED, employees=600, today=TODAY)


# --- domain.md §6: a valid NIP ---------------------------------------------------------------


def nip_problems(nip: str, sex: str, today: date = TODAY) -> list[str]:
    """What is wrong with a NIP by domain.md §6 (empty: valid), written here from the rules."""
    if len(nip) != 18 or not nip.isdigit():
        return ["not 18 digits"]
    problems = []
    try:
        birth = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
        if birth > today:
            problems.append("born in the future")
    except ValueError:
        return ["birth date is not a real date"]
    year, month = int(nip[8:12]), int(nip[12:14])
    if not 1 <= month <= 12:
        return ["appointment month is not a real month"]
    try:
        seventeenth = birth.replace(year=birth.year + 17)
    except ValueError:  # born on 29 February
        seventeenth = date(birth.year + 17, 3, 1)
    if date(year, month, 1) < seventeenth:
        problems.append("appointed before the 17th birthday")
    if nip[14] not in "12":
        problems.append("sex digit is not 1 or 2")
    elif {"1": "L", "2": "P"}[nip[14]] != sex:
        problems.append("sex digit disagrees with the employee's sex")
    return problems


def test_the_nip_check_itself_refuses_what_domain_md_refuses() -> None:
    assert nip_problems("198609262015051001", "L") == []
    assert nip_problems("19860926201505100", "L") == ["not 18 digits"]
    assert nip_problems("198602302015051001", "L") == ["birth date is not a real date"]
    assert nip_problems("198609262015131001", "L") == ["appointment month is not a real month"]
    assert nip_problems("198609262003051001", "L") == ["appointed before the 17th birthday"]
    assert nip_problems("198609262015053001", "L") == ["sex digit is not 1 or 2"]
    assert nip_problems("198609262015052001", "L") == [
        "sex digit disagrees with the employee's sex"
    ]


def test_every_nip_is_valid_unique_and_agrees_with_the_employee(data) -> None:
    wrong = {e.nip: nip_problems(e.nip, e.sex) for e in data.employees}
    assert {nip: problems for nip, problems in wrong.items() if problems} == {}
    assert len({e.nip for e in data.employees}) == len(data.employees)


# --- units ----------------------------------------------------------------------------------


def test_the_unit_tree_has_one_root_and_parents_before_children(data) -> None:
    roots = [u for u in data.units if u.parent_code is None]
    assert [(u.code, u.name) for u in roots] == [("PLG", "Pemerintah Kota Palembang")]
    seen: set[str] = set()
    for unit in data.units:
        assert unit.parent_code is None or unit.parent_code in seen, unit.code
        seen.add(unit.code)
    assert len(seen) == len(data.units)


def test_the_kecamatan_office_has_the_seven_kelurahan_of_plaju(data) -> None:
    kecamatan = [u for u in data.units if u.kind == "kecamatan"]
    assert [u.name for u in kecamatan] == ["Kecamatan Plaju"]
    kelurahan = [u for u in data.units if u.kind == "kelurahan"]
    assert {u.name.removeprefix("Kelurahan ") for u in kelurahan} == KELURAHAN
    assert {u.parent_code for u in kelurahan} == {kecamatan[0].code}


def test_health_schools_and_five_city_offices_with_field_units_in_plaju(data) -> None:
    names = {u.name for u in data.units}
    assert "UPTD Puskesmas Plaju" in names
    schools = [u.name for u in data.units if u.kind == "sekolah"]
    assert sum(n.startswith("SD Negeri") for n in schools) >= 3
    assert sum(n.startswith("SMP Negeri") for n in schools) >= 1
    for office in (
        "Dinas Perhubungan",
        "Dinas Lingkungan Hidup dan Kebersihan",
        "Dinas Kependudukan dan Pencatatan Sipil",
        "Dinas Sosial",
        "Dinas Pemadam Kebakaran dan Penyelamatan",
    ):
        parent = next(u for u in data.units if u.name == office)
        fields = [u for u in data.units if u.parent_code == parent.code]
        assert [u.kind for u in fields] == ["lapangan"], office
        assert any(e.unit_code == fields[0].code for e in data.employees), office


# --- jabatan and employees --------------------------------------------------------------------


def test_about_six_hundred_employees_in_posts_of_their_own_unit(data) -> None:
    assert len(data.employees) == 600
    jabatan = {j.code: j for j in data.jabatan}
    assert len(jabatan) == len(data.jabatan)
    for employee in data.employees:
        assert jabatan[employee.jabatan_code].unit_code == employee.unit_code


def test_jabatan_kinds_follow_domain_md(data) -> None:
    by_name = {(j.unit_code, j.name): j for j in data.jabatan}
    kecamatan = "PLG-KEC-PLAJU"
    assert by_name[(kecamatan, "Camat")].kind == "administrator"
    assert by_name[(kecamatan, "Sekretaris Kecamatan")].kind == "administrator"
    assert by_name[(kecamatan, "Kepala Seksi Pemerintahan")].kind == "pengawas"
    lurah = [j for j in data.jabatan if j.name == "Lurah"]
    assert len(lurah) == 7 and {j.kind for j in lurah} == {"pengawas"}
    puskesmas = [j for j in data.jabatan if j.unit_code == "PLG-PKM-PLAJU"]
    for job in ("Dokter", "Perawat", "Bidan"):
        found = [j for j in puskesmas if j.name.startswith(job)]
        assert found and all(j.kind == "fungsional" and j.grade for j in found), job
    teachers = [j for j in data.jabatan if j.name.startswith("Guru")]
    assert teachers and {j.kind for j in teachers} == {"fungsional"}
    assert any(j.kind == "pelaksana" for j in data.jabatan)
    assert all(j.grade is None for j in data.jabatan if j.kind != "fungsional")
    codes = {c.code for c in data.competencies}
    assert all(set(j.technical) <= codes for j in data.jabatan)


def test_golongan_fits_the_post(data) -> None:
    jabatan = {j.code: j for j in data.jabatan}
    lowest = {
        "administrator": "III/d",
        "pengawas": "III/b",
        "ahli_pertama": "III/a",
        "ahli_muda": "III/c",
        "ahli_madya": "IV/a",
    }
    highest = {"pelaksana": "III/d", "terampil": "III/b", "mahir": "III/c", "penyelia": "III/d"}
    for employee in data.employees:
        post = jabatan[employee.jabatan_code]
        key = post.grade or post.kind
        rank = GOLONGAN.index(employee.golongan)
        if key in lowest:
            assert rank >= GOLONGAN.index(lowest[key]), (employee.golongan, post.name)
        if key in highest:
            assert rank <= GOLONGAN.index(highest[key]), (employee.golongan, post.name)


def test_each_staffed_unit_has_one_head_who_supervises_its_staff(data) -> None:
    jabatan = {j.code: j for j in data.jabatan}
    people = {e.nip: e for e in data.employees}
    heads = {e.unit_code: e for e in data.employees if jabatan[e.jabatan_code].head}
    assert Counter(e.unit_code for e in data.employees if jabatan[e.jabatan_code].head) == Counter(
        set(heads)
    )
    for employee in data.employees:
        if jabatan[employee.jabatan_code].head:
            continue
        assert employee.supervisor_nip == heads[employee.unit_code].nip
    camat = next(e for e in data.employees if jabatan[e.jabatan_code].name == "Camat")
    lurah = [e for e in data.employees if jabatan[e.jabatan_code].name == "Lurah"]
    assert camat.supervisor_nip is None
    assert {e.supervisor_nip for e in lurah} == {camat.nip}
    assert all(e.supervisor_nip in people for e in data.employees if e.supervisor_nip)


def test_names_and_addresses(data) -> None:
    emails = [e.email for e in data.employees if e.email]
    assert len(emails) == len(set(emails)) > 500
    assert all(email.endswith(f"@{plaju.EMAIL_DOMAIN}") for email in emails)
    assert all(e.name.strip() and len(e.name) <= 200 for e in data.employees)
    assert len({e.name for e in data.employees}) > 500
    assert Counter(e.sex for e in data.employees).keys() == {"L", "P"}
    assert {e.language for e in data.employees} == {"id", "en"}


# --- the catalogue ---------------------------------------------------------------------------


def test_about_forty_programmes_covering_every_core_competency(data) -> None:
    assert 35 <= len(data.programmes) <= 50
    assert len({p.code for p in data.programmes}) == len(data.programmes)
    covered = {code for p in data.programmes for code in p.competencies}
    assert set(CORE) <= covered
    assert {p.form for p in data.programmes} == {"pendidikan", "klasikal", "nonklasikal"}


def test_every_required_level_can_be_reached_by_some_programme(data) -> None:
    best = Counter()
    for programme in data.programmes:
        for code, level in programme.competencies.items():
            best[code] = max(best[code], level)
    for job in data.jabatan:
        for code, level in job.technical.items():
            assert best[code] >= level, (job.code, code)
    assert all(best[code] >= 4 for code in CORE)  # ahli madya posts require level 4


def test_the_development_examples_of_domain_md(data) -> None:
    titles = {p.title.lower(): p for p in data.programmes}

    def one(*words: str) -> dataset.Programme:
        found = [p for t, p in titles.items() if all(w in t for w in words)]
        assert found, words
        return found[0]

    assert "pemasaran" in one("destinasi wisata").title.lower()
    assert one("layanan publik digital").competencies
    assert one("transportasi berkelanjutan").provider == "Dinas Perhubungan Kota Palembang"
    assert one("transportasi berkelanjutan").activity == "lokakarya"
    degrees = [p for p in data.programmes if p.form == "pendidikan"]
    assert degrees and all("Universitas" in p.provider for p in degrees)
    free = [p for p in data.programmes if p.activity == "e_learning" and p.cost_rupiah == 0]
    assert len(free) >= 2
    assert any(
        p.activity == "pertukaran_swasta" and "swasta" in p.provider for p in data.programmes
    )


def test_money_is_whole_rupiah_in_the_ranges_of_domain_md(data) -> None:
    costs = [p.cost_rupiah for p in data.programmes]
    assert all(type(cost) is int for cost in costs)
    paid = [cost for cost in costs if cost]
    assert min(paid) >= 1_000_000 and max(paid) <= 40_000_000
    assert 22_783_750 in costs  # the administrator leadership tariff
    bimtek = [p.cost_rupiah for p in data.programmes if p.activity == "bimbingan_teknis"]
    assert bimtek and all(2_000_000 <= cost <= 7_000_000 for cost in bimtek)
    assert all(type(a.amount_rupiah) is int and a.amount_rupiah > 0 for a in data.allocations)


def test_batches_start_from_today_within_the_year(data) -> None:
    for programme in data.programmes:
        assert 1 <= len(programme.batches) <= 2
        for batch in programme.batches:
            assert TODAY <= batch.starts_on <= date(TODAY.year, 12, 31)
            assert batch.ends_on >= batch.starts_on
            assert batch.capacity >= 1 and (batch.online or batch.place)


def test_budgets_are_generous_tight_or_missing(data) -> None:
    staffed = {e.unit_code for e in data.employees}
    allocated = {a.unit_code: a for a in data.allocations}
    assert set(allocated) < staffed and len(staffed - set(allocated)) == 1
    per_head = Counter(e.unit_code for e in data.employees)
    ratios = [a.amount_rupiah / per_head[a.unit_code] for a in data.allocations]
    assert max(ratios) >= 5 * min(ratios)
    for allocation in data.allocations:
        assert allocation.fiscal_year == TODAY.year
        assert allocation.sub_activity_code.endswith(".01.2.05.0009")
        assert allocation.account_code == "5.1.02.02.12.0001"


def test_an_administrator_and_an_operator_per_staffed_unit(data) -> None:
    roles = Counter(o.role for o in data.officials)
    assert roles["bkpsdm_admin"] >= 1
    operated = {o.unit_code for o in data.officials if o.role == "unit_operator"}
    assert operated == {e.unit_code for e in data.employees}


# --- determinism and size --------------------------------------------------------------------


def test_the_same_seed_gives_the_same_data_and_another_seed_other_people(data) -> None:
    again = plaju.build(seed=plaju.DEFAULT_SEED, employees=600, today=TODAY)
    assert again == data
    other = plaju.build(seed=plaju.DEFAULT_SEED + 1, employees=600, today=TODAY)
    assert {e.nip for e in other.employees} != {e.nip for e in data.employees}
    assert other.units == data.units and other.jabatan == data.jabatan


def test_a_small_dataset_keeps_every_unit_head() -> None:
    small = plaju.build(employees=40, today=TODAY)
    assert len(small.employees) == 40
    heads = {j.code for j in small.jabatan if j.head}
    assert {e.unit_code for e in small.employees if e.jabatan_code in heads} == {
        j.unit_code for j in small.jabatan
    }
    with pytest.raises(ValueError, match="paling sedikit"):
        plaju.build(employees=10, today=TODAY)


def test_apportion_reaches_the_total_without_passing_caps() -> None:
    assert dataset.apportion([1, 3, 6], 10, [None, None, None]) == [1, 3, 6]
    assert sum(dataset.apportion([1, 1, 5, 9], 37, [1, 1, None, None])) == 37
    assert dataset.apportion([1, 1, 5, 9], 37, [1, 1, None, None])[:2] == [1, 1]
    assert sum(dataset.apportion([2, 3], 1, [None, None])) == 1


# --- the assessment round ----------------------------------------------------------------------

# domain.md §1: required managerial and socio-cultural level by grade (the defaults)
DEFAULTS = {
    "administrator": 3,
    "pengawas": 2,
    "pelaksana": 1,
    "pemula": 1,
    "terampil": 1,
    "mahir": 2,
    "penyelia": 3,
    "ahli_pertama": 2,
    "ahli_muda": 3,
    "ahli_madya": 4,
}


def standards(data: dataset.Dataset) -> dict[str, dict[str, int]]:
    return {
        j.code: {**dict.fromkeys(CORE, DEFAULTS[j.grade or j.kind]), **j.technical}
        for j in data.jabatan
    }


def test_an_assessment_round_has_half_levels_around_the_standard(data) -> None:
    table = standards(data)
    rows = plaju.assessment_round(data, table, seed=7, assessed_on=TODAY)
    assert [r.nip for r in rows] == [e.nip for e in data.employees]
    with_gaps = 0
    for row in rows:
        standard = table[row.jabatan_code]
        assert set(row.levels) == set(standard)
        for code, level in row.levels.items():
            assert 1 <= level <= 5 and (level * 2).is_integer()
            assert abs(level - standard[code]) <= 1.5
        with_gaps += any(row.levels[c] < standard[c] for c in standard)
    assert 0.2 * len(rows) <= with_gaps <= 0.7 * len(rows)
    assert rows == plaju.assessment_round(data, table, seed=7, assessed_on=TODAY)
    assert rows != plaju.assessment_round(data, table, seed=8, assessed_on=TODAY)


def test_the_round_as_a_csv_file_and_its_chunks(data) -> None:
    rows = plaju.assessment_round(data, standards(data), assessed_on=TODAY)[:30]
    content = rounds.to_csv(rows)
    table = list(csv.reader(io.StringIO(content.decode())))
    assert table[0][:5] == ["nip", "nama", "assessed_on", "method", "jabatan_code"]
    assert table[0][5:14] == list(CORE)
    assert len(table) == 31 and table[1][0] == rows[0].nip and table[1][2] == "2026-11-28"
    cells = {cell for line in table[1:] for cell in line[5:]}
    assert cells <= {"", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5"}
    parts = rounds.chunks(content, 12)
    assert [p.count(b"\n") for p in parts] == [13, 13, 7]
    assert all(p.startswith(content.split(b"\n")[0]) for p in parts)


def test_rupiah_are_written_with_dots() -> None:
    assert rounds.rupiah(5_260_000) == "Rp 5.260.000"
    assert rounds.rupiah(0) == "Rp 0"
    assert rounds.rupiah(22_783_750) == "Rp 22.783.750"


def test_seeding_order_puts_parents_and_supervisors_first(data) -> None:
    for things, key, depends_on in (
        (data.units, lambda u: u.code, lambda u: u.parent_code),
        (data.employees, lambda e: e.nip, lambda e: e.supervisor_nip),
    ):
        waves = seed.waves(things, key, depends_on)
        position = {key(t): number for number, wave in enumerate(waves) for t in wave}
        assert len(position) == len(things)
        assert all(position[depends_on(t)] < position[key(t)] for t in things if depends_on(t))
    with pytest.raises(ValueError, match="cycle"):
        seed.waves([("a", "b"), ("b", "a")], lambda t: t[0], lambda t: t[1])
