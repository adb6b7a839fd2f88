"""The rules alone, without broker or database: NIP, levels, gaps, JPM, categories, grades."""

from datetime import date
from decimal import Decimal

import pytest

from competency import domain, tabular

D = Decimal
TODAY = date(2026, 11, 28)
MS_SCHEME = [
    domain.CategoryBand("memenuhi_syarat", "MS", "Memenuhi Syarat", D(80)),
    domain.CategoryBand("memenuhi_syarat", "MMS", "Masih Memenuhi Syarat", D(68)),
    domain.CategoryBand("memenuhi_syarat", "KMS", "Kurang Memenuhi Syarat", D(0)),
]
OPTIMAL_SCHEME = [
    domain.CategoryBand("optimal", "O", "Optimal", D(90)),
    domain.CategoryBand("optimal", "CO", "Cukup Optimal", D(78)),
    domain.CategoryBand("optimal", "KO", "Kurang Optimal", D(0)),
]


# --- NIP ----------------------------------------------------------------------------------


def test_a_valid_nip_as_written_on_paper_gives_its_parts():
    nip = domain.parse_nip("19860926 201505 1 001", today=TODAY)
    assert nip.value == "198609262015051001"
    assert nip.birth_date == date(1986, 9, 26)
    assert nip.appointed == date(2015, 5, 1)
    assert (nip.sex, nip.serial) == ("L", "001")
    assert nip.formatted() == "19860926 201505 1 001"
    assert domain.parse_nip("199001152014032002", today=TODAY).sex == "P"


@pytest.mark.parametrize(
    ("nip", "code", "words"),
    [
        ("19860926201505100", "nip.length", "18 digit, bukan 17"),
        ("1986092620150510011", "nip.length", "18 digit, bukan 19"),
        ("19860926-201505-1-001", "nip.digits", "hanya boleh berisi angka 0-9"),
        ("", "nip.digits", "kosong"),
        # Arabic-Indic digits pass str.isdigit(): refused all the same
        ("\u0661\u0669\u0668\u0666" + "09262015051001", "nip.digits", "angka 0-9"),
        ("198613262015051001", "nip.birth_date", "19861326 bukan tanggal"),
        ("198602302015051001", "nip.birth_date", "19860230 bukan tanggal"),
        ("202712012015051001", "nip.birth_date", "masa depan"),
        ("198609262015131001", "nip.appointment", "201513 bukan bulan"),
        ("198609262015001001", "nip.appointment", "201500 bukan bulan"),
        ("198609262004081001", "nip.appointment", "sebelum bulan ulang tahun ke-18 (2004-09-26)"),
        ("198609262027011001", "nip.appointment", "masa depan"),
        ("198609262015053001", "nip.sex", "bukan 3"),
        ("198609262015050001", "nip.sex", "bukan 0"),
        ("198609262015051000", "nip.serial", "bukan 000"),
    ],
)
def test_an_invalid_nip_names_what_is_wrong_with_a_stable_code(nip, code, words):
    with pytest.raises(domain.InvalidNip) as caught:
        domain.parse_nip(nip, today=TODAY)
    assert list(caught.value.problems) == [code]
    assert words in caught.value.problems[code]


def test_every_broken_part_of_a_nip_is_named_at_once():
    with pytest.raises(domain.InvalidNip) as caught:
        domain.parse_nip("198602302015135000", today=TODAY)
    assert set(caught.value.problems) == {
        "nip.birth_date",
        "nip.appointment",
        "nip.sex",
        "nip.serial",
    }
    assert "Tanggal lahir" in caught.value.messages[0]


def test_appointment_is_valid_from_the_month_of_the_18th_birthday():
    # PP 11/2017 art. 23: at least 18 at first appointment; born 26 September 1986
    assert domain.parse_nip("198609262004091001", today=TODAY).appointed == date(2004, 9, 1)
    with pytest.raises(domain.InvalidNip):
        domain.parse_nip("198609262004081001", today=TODAY)
    with pytest.raises(domain.InvalidNip):
        domain.parse_nip("198609262003091001", today=TODAY)  # 17: allowed before, not now
    # born 29 February 1988: 18 on 1 March 2006
    assert domain.parse_nip("198802292006031001", today=TODAY)
    with pytest.raises(domain.InvalidNip):
        domain.parse_nip("198802292006021001", today=TODAY)


def test_the_appointment_month_may_be_this_month_but_not_a_later_one():
    assert domain.parse_nip("199001152026112002", today=date(2026, 11, 30)).appointed == date(
        2026, 11, 1
    )
    with pytest.raises(domain.InvalidNip) as caught:
        domain.parse_nip("199001152026122002", today=date(2026, 11, 30))
    assert list(caught.value.problems) == ["nip.appointment"]


# --- levels and gaps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "level"),
    [(1, "1.0"), ("3,5", "3.5"), (" 4.5 ", "4.5"), (5.0, "5.0"), ("2", "2.0")],
)
def test_levels_run_from_1_to_5_in_half_levels(raw, level):
    assert domain.parse_level(raw) == D(level)


@pytest.mark.parametrize("raw", [0, 0.5, 5.5, 6, "3.25", "tiga", "", True, "nan", "inf"])
def test_levels_outside_1_to_5_or_not_half_are_refused(raw):
    with pytest.raises(domain.InvalidLevel):
        domain.parse_level(raw)


def test_the_gap_is_achieved_minus_required():
    assert domain.gap(D("2.5"), 3) == D("-0.5")
    assert domain.gap(D("4"), 3) == D("1")


def test_score_needs_every_managerial_competency_and_refuses_strangers():
    standard = [
        domain.StandardCell("M.01", "Integritas", "manajerial", 3),
        domain.StandardCell("SK.01", "Perekat Bangsa", "sosial_kultural", 3),
        domain.StandardCell("T.01", "Teknis", "teknis", 2),
    ]
    lines = domain.score(standard, {"M.01": D(2), "SK.01": D("3.5")})  # technical optional
    assert [(line.competency_code, line.gap) for line in lines] == [
        ("M.01", D(-1)),
        ("SK.01", D("0.5")),
    ]
    with pytest.raises(domain.AssessmentRejected) as caught:
        domain.score(standard, {"M.01": D(2), "X.99": D(3)})
    assert set(caught.value.problems) == {"SK.01", "X.99"}
    assert "wajib" in caught.value.problems["SK.01"]
    assert "tidak termasuk standar" in caught.value.problems["X.99"]


# --- JPM and categories -------------------------------------------------------------------


def test_capped_jpm_does_not_let_a_surplus_hide_a_gap():
    pairs = [(3, D(5)), (3, D(1))]  # +2 and -2
    assert domain.jpm(pairs, "capped") == D("66.67")  # (3 + 1) / 6
    assert domain.jpm(pairs, "uncapped") == D("100.00")  # (5 + 1) / 6


def test_uncapped_jpm_can_exceed_100_and_capped_cannot():
    pairs = [(2, D(4)), (2, D(3))]
    assert domain.jpm(pairs, "uncapped") == D("175.00")
    assert domain.jpm(pairs, "capped") == D("100.00")


def test_jpm_with_half_levels_is_rounded_half_up_to_two_decimals():
    pairs = [(3, D("2.5"))] + [(3, D(3))] * 8  # 26.5 / 27
    assert domain.jpm(pairs) == D("98.15")
    assert domain.jpm([(3, D("2.5")), (3, D(3)), (3, D(3))]) == D("94.44")  # 94.444…


def test_jpm_refuses_unknown_arithmetic_and_empty_standards():
    with pytest.raises(ValueError):
        domain.jpm([(3, D(3))], "average")
    with pytest.raises(ValueError):
        domain.jpm([])


@pytest.mark.parametrize(
    ("jpm", "code"),
    [("100", "MS"), ("80.00", "MS"), ("79.99", "MMS"), ("68.00", "MMS"), ("67.99", "KMS"),
     ("0", "KMS"), ("120", "MS")],
)  # fmt: skip
def test_memenuhi_syarat_scheme_boundaries(jpm, code):
    assert domain.categorize(D(jpm), MS_SCHEME).code == code


@pytest.mark.parametrize(
    ("jpm", "code"),
    [("90.00", "O"), ("89.99", "CO"), ("78.00", "CO"), ("77.99", "KO"), ("45", "KO")],
)
def test_optimal_scheme_boundaries(jpm, code):
    band = domain.categorize(D(jpm), OPTIMAL_SCHEME)
    assert band.code == code
    assert band.scheme == "optimal"


def test_exact_boundary_values_reached_through_the_arithmetic():
    eighty = [(5, D(4))]  # 4 / 5
    sixty_eight = [(5, D("3.5"))] * 9 + [(5, D("2.5"))]  # 34 / 50
    ninety = [(5, D("4.5"))]  # 4.5 / 5
    seventy_eight = [(5, D("3.5"))] + [(5, D(4))] * 4  # 19.5 / 25
    assert domain.jpm(eighty) == D("80.00")
    assert domain.categorize(domain.jpm(eighty), MS_SCHEME).label == "Memenuhi Syarat"
    assert domain.jpm(sixty_eight) == D("68.00")
    assert domain.categorize(domain.jpm(sixty_eight), MS_SCHEME).label == "Masih Memenuhi Syarat"
    assert domain.jpm(ninety) == D("90.00")
    assert domain.categorize(domain.jpm(ninety), OPTIMAL_SCHEME).label == "Optimal"
    assert domain.jpm(seventy_eight) == D("78.00")
    assert domain.categorize(domain.jpm(seventy_eight), OPTIMAL_SCHEME).label == "Cukup Optimal"


def test_rules_refuse_an_unknown_jpm_method():
    assert domain.Rules().jpm_method == "capped"
    with pytest.raises(ValueError, match="JPM_METHOD"):
        domain.Rules(jpm_method="median")


# --- job standards ------------------------------------------------------------------------

DEFAULTS = {
    ("pengawas", "", "M.01"): 2,
    ("pengawas", "", "SK.01"): 2,
    ("fungsional", "terampil", "M.01"): 2,
    ("fungsional", "terampil", "M.03"): 1,
    ("fungsional", "ahli_muda", "M.01"): 3,
}


def test_grade_defaults_come_from_the_table_by_kind_and_functional_grade():
    assert domain.default_standard("pengawas", None, DEFAULTS) == {"M.01": 2, "SK.01": 2}
    assert domain.default_standard("fungsional", "terampil", DEFAULTS) == {"M.01": 2, "M.03": 1}
    assert domain.default_standard("fungsional", "ahli_muda", DEFAULTS) == {"M.01": 3}
    assert domain.default_standard("administrator", None, DEFAULTS) == {}


def test_a_functional_jabatan_needs_a_grade_and_others_have_none():
    assert domain.check_grade("fungsional", "ahli_muda") == "ahli_muda"
    assert domain.check_grade("pelaksana", None) is None
    with pytest.raises(ValueError, match="jenjang"):
        domain.check_grade("fungsional", None)
    with pytest.raises(ValueError, match="Jenjang hanya"):
        domain.check_grade("administrator", "ahli_muda")


def test_a_newer_or_same_day_assessment_replaces_the_current_one_and_an_older_does_not():
    assert domain.replaces_current(date(2026, 3, 1), None)
    assert domain.replaces_current(date(2026, 3, 1), date(2026, 3, 1))
    assert domain.replaces_current(date(2026, 3, 2), date(2026, 3, 1))
    assert not domain.replaces_current(date(2025, 3, 1), date(2026, 3, 1))


# --- reading files ------------------------------------------------------------------------


def test_csv_with_semicolons_and_blank_lines_keeps_spreadsheet_row_numbers():
    content = b"nip;assessed_on;M.01\n1;2026-01-01;3,5\n\n2;2026-01-02;4\n"
    table = tabular.read_table(content)
    assert table.format == "csv" and table.header == ["nip", "assessed_on", "M.01"]
    assert table.rows == [(2, ["1", "2026-01-01", "3,5"]), (4, ["2", "2026-01-02", "4"])]


def test_xlsx_is_read_and_converted_back_to_csv_text():
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["nip", "assessed_on", "M.01"])
    sheet.append(["198609262015051001", date(2026, 3, 1), 3.5])
    sheet.append([1.986092620150510e17, "2026-03-02", 4])
    buffer = io.BytesIO()
    book.save(buffer)
    table = tabular.read_table(buffer.getvalue())
    assert table.format == "xlsx"
    assert [number for number, _ in table.rows] == [2, 3]
    text = tabular.to_csv(table.header, [cells for _, cells in table.rows]).decode()
    lines = text.splitlines()
    assert lines[1] == "198609262015051001,2026-03-01,3.5"
    assert lines[2].startswith("1.98609262015051e+17,")  # a number cell: its digits are lost


def test_a_file_called_xlsx_that_is_not_one_is_refused():
    with pytest.raises(tabular.UnreadableFile):
        tabular.detect_format(b"nip,method\n", "hasil.xlsx")
