"""The rules of competency standards and assessments: plain Python, no I/O.

Terms of art keep their Indonesian names: *nip* (a civil servant's 18-digit number),
*jabatan* (a post), *JPM* (Job Person Match, achieved against required levels, in percent).
Values that regulations do not fix (default levels per grade, category bands) come in as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from asn_shared.vocabulary import CompetencyKind, JabatanKind, values

MIN_LEVEL, MAX_LEVEL = 1, 5
HALF = Decimal("0.5")
JPM_METHODS = ("capped", "uncapped")
DEFAULT_JPM_METHOD, DEFAULT_JPM_SCHEME = "capped", "memenuhi_syarat"
MANAGERIAL_KINDS = (CompetencyKind.MANAJERIAL, CompetencyKind.SOSIAL_KULTURAL)
JABATAN_KINDS = values(JabatanKind)
FUNCTIONAL_GRADES = (
    "pemula",
    "terampil",
    "mahir",
    "penyelia",
    "ahli_pertama",
    "ahli_muda",
    "ahli_madya",
    "ahli_utama",
)
ASSESSMENT_METHODS = ("assessment_centre", "test", "360", "portfolio")
SEX_BY_DIGIT = {"1": "L", "2": "P"}
APPOINTMENT_MIN_AGE = 18  # PP 11/2017 art. 23 (PP 98/2000 before it)


@dataclass(frozen=True)
class Rules:
    """How assessments are scored: JPM arithmetic and the category scheme (configuration)."""

    jpm_method: str = DEFAULT_JPM_METHOD
    scheme: str = DEFAULT_JPM_SCHEME

    def __post_init__(self) -> None:
        checked_jpm_method(self.jpm_method)
        if not self.scheme:
            raise ValueError("JPM_SCHEME must name a category scheme")


def checked_jpm_method(value: str) -> str:
    """``value`` if it names a JPM arithmetic (``JPM_METHOD``); else a ValueError naming them."""
    if value not in JPM_METHODS:
        raise ValueError(f"JPM_METHOD must be one of {JPM_METHODS}, not {value!r}")
    return value


# --- NIP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nip:
    """A parsed NIP: birth date, first appointment month (TMT CPNS), sex, serial."""

    value: str
    birth_date: date
    appointed: date  # the first day of the appointment month
    sex: str  # "L" (laki-laki) or "P" (perempuan)
    serial: str

    def formatted(self) -> str:
        return format_nip(self.value)


def format_nip(value: str) -> str:
    """The way a NIP is written on paper: ``19860926 201505 1 001``."""
    return f"{value[:8]} {value[8:14]} {value[14]} {value[15:]}"


class InvalidNip(ValueError):
    """A NIP that breaks the rules; ``problems`` maps each broken part's stable code
    (``nip.length``, ``nip.digits``, ``nip.birth_date``, ``nip.appointment``, ``nip.sex``,
    ``nip.serial``) to its reason in Bahasa Indonesia."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems

    @property
    def messages(self) -> list[str]:
        return list(self.problems.values())


def parse_nip(text: str, *, today: date | None = None) -> Nip:
    """Validate a NIP (spaces allowed, as written on paper) and return its parts.

    A valid NIP has 18 ASCII digits: a real birth date (YYYYMMDD, not in the future), a real
    appointment month (YYYYMM) not in the future and no earlier than the month of the 18th
    birthday, a sex digit 1 or 2 and a serial from 001. Raises InvalidNip naming every part
    that is wrong.
    """
    value = "".join(str(text).split())
    if not (value.isascii() and value.isdigit()):
        raise InvalidNip({"nip.digits": _digits_reason(value)})
    if len(value) != 18:
        raise InvalidNip({"nip.length": f"NIP harus 18 digit, bukan {len(value)} digit."})
    today = today or date.today()
    problems: dict[str, str] = {}
    birth = _birth_date(value[:8], today, problems)
    appointed = _appointment_month(value[8:14], today, problems)
    if birth is not None and appointed is not None:
        adult = add_years(birth, APPOINTMENT_MIN_AGE)
        if appointed < adult.replace(day=1):
            problems["nip.appointment"] = (
                f"Bulan pengangkatan (digit 9-14) {value[8:14]} jatuh sebelum bulan ulang tahun "
                f"ke-{APPOINTMENT_MIN_AGE} ({adult.isoformat()})."
            )
    sex = SEX_BY_DIGIT.get(value[14])
    if sex is None:
        problems["nip.sex"] = (
            f"Digit jenis kelamin (digit 15) harus 1 (laki-laki) atau 2 (perempuan), "
            f"bukan {value[14]}."
        )
    if value[15:] == "000":
        problems["nip.serial"] = "Nomor urut (digit 16-18) dimulai dari 001, bukan 000."
    # each part that did not parse has left a problem
    if problems or birth is None or appointed is None or sex is None:
        raise InvalidNip(problems)
    return Nip(value, birth, appointed, sex, value[15:])


def _digits_reason(value: str) -> str:
    if not value:
        return "NIP kosong; NIP harus 18 digit angka."
    return "NIP hanya boleh berisi angka 0-9 (18 digit)."


def _birth_date(digits: str, today: date, problems: dict[str, str]) -> date | None:
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        problems["nip.birth_date"] = f"Tanggal lahir (digit 1-8) {digits} bukan tanggal yang ada."
        return None
    if birth > today:
        problems["nip.birth_date"] = f"Tanggal lahir (digit 1-8) {digits} ada di masa depan."
        return None
    return birth


def _appointment_month(digits: str, today: date, problems: dict[str, str]) -> date | None:
    try:
        appointed = date(int(digits[:4]), int(digits[4:6]), 1)
    except ValueError:
        problems["nip.appointment"] = (
            f"Bulan pengangkatan (digit 9-14) {digits} bukan bulan yang ada."
        )
        return None
    if appointed > today:
        problems["nip.appointment"] = f"Bulan pengangkatan (digit 9-14) {digits} ada di masa depan."
        return None
    return appointed


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


# --- levels, gaps and JPM -----------------------------------------------------------------


class InvalidLevel(ValueError):
    """A level outside 1-5 or not a whole or half level."""


def parse_level(value: object) -> Decimal:
    """An achieved level: 1 to 5 in half levels; a decimal comma (``3,5``) is accepted."""
    if isinstance(value, bool):
        raise InvalidLevel(f"{value!r} bukan level.")
    text = str(value).strip().replace(",", ".")
    try:
        level = Decimal(text)
    except InvalidOperation:
        raise InvalidLevel(f"'{value}' bukan angka level (1-5).") from None
    if not level.is_finite() or not MIN_LEVEL <= level <= MAX_LEVEL:
        raise InvalidLevel(f"Level {text} di luar rentang {MIN_LEVEL}-{MAX_LEVEL}.")
    if level % HALF != 0:
        raise InvalidLevel(f"Level {text} harus bulat atau setengah (mis. 3 atau 3,5).")
    return level.quantize(Decimal("0.1"))


def check_required_level(level: int) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise InvalidLevel(f"Level standar harus bilangan bulat, bukan {level!r}.")
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise InvalidLevel(f"Level standar {level} di luar rentang {MIN_LEVEL}-{MAX_LEVEL}.")
    return level


def gap(achieved: Decimal, required: int) -> Decimal:
    """Achieved minus required: a negative gap is a development need."""
    return Decimal(achieved) - Decimal(required)


def jpm(pairs: Iterable[tuple[int, Decimal]], method: str = "capped") -> Decimal:
    """Job Person Match in percent, rounded half up to 2 decimals.

    ``pairs`` are (required, achieved). ``capped`` counts each achieved level at most up to
    the required one, so a surplus in one competency cannot hide a gap in another;
    ``uncapped`` is the plain ratio and can exceed 100.
    """
    if method not in JPM_METHODS:
        raise ValueError(f"unknown JPM method {method!r}; expected one of {JPM_METHODS}")
    pairs = list(pairs)
    required_total = sum((Decimal(required) for required, _ in pairs), Decimal(0))
    if required_total <= 0:
        raise ValueError("JPM needs at least one competency with a required level")
    if method == "capped":
        achieved_total = sum((min(Decimal(a), Decimal(r)) for r, a in pairs), Decimal(0))
    else:
        achieved_total = sum((Decimal(a) for _, a in pairs), Decimal(0))
    return (achieved_total * 100 / required_total).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class CategoryBand:
    """One category of a scheme: JPM at or above ``min_percent`` (and below the next band)."""

    scheme: str
    code: str
    label: str
    min_percent: Decimal


def categorize(value: Decimal, bands: Iterable[CategoryBand]) -> CategoryBand:
    """The band of the highest threshold that ``value`` reaches (the lowest band starts at 0).

    The rounded JPM is categorised, so the figure shown and its category always agree.
    """
    ordered = sorted(bands, key=lambda band: band.min_percent, reverse=True)
    if not ordered:
        raise ValueError("a category scheme needs at least one band")
    for band in ordered:
        if value >= band.min_percent:
            return band
    return ordered[-1]


# --- job standards ------------------------------------------------------------------------


def grade_key(kind: str, grade: str | None) -> tuple[str, str]:
    """The row of the default table a jabatan takes: its kind, plus the grade if functional."""
    if kind not in JABATAN_KINDS:
        raise ValueError(f"unknown jabatan kind {kind!r}")
    return kind, ((grade or "") if kind == "fungsional" else "")


def check_grade(kind: str, grade: str | None) -> str | None:
    """A functional jabatan needs one of the functional grades; other kinds have none."""
    if kind == "fungsional":
        if grade not in FUNCTIONAL_GRADES:
            raise ValueError(
                f"Jabatan fungsional memerlukan jenjang: salah satu dari "
                f"{', '.join(FUNCTIONAL_GRADES)}."
            )
        return grade
    if grade:
        raise ValueError(f"Jenjang hanya untuk jabatan fungsional, bukan {kind}.")
    return None


def default_standard(
    kind: str, grade: str | None, defaults: Mapping[tuple[str, str, str], int]
) -> dict[str, int]:
    """Required levels for a new jabatan from the default table (kind, grade, code) → level."""
    key = grade_key(kind, grade)
    return {code: level for (k, g, code), level in defaults.items() if (k, g) == key}


# --- assessments --------------------------------------------------------------------------


@dataclass(frozen=True)
class StandardCell:
    competency_code: str
    competency_name: str
    kind: str
    required_level: int


@dataclass(frozen=True)
class ResultLine:
    competency_code: str
    competency_name: str
    kind: str
    required_level: int
    achieved_level: Decimal
    gap: Decimal


class AssessmentRejected(ValueError):
    """Achieved levels that do not fit the standard; ``problems`` maps a code to its reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{code}: {reason}" for code, reason in problems.items()))
        self.problems = problems


def score(standard: Iterable[StandardCell], achieved: Mapping[str, Decimal]) -> list[ResultLine]:
    """Match achieved levels against a jabatan's standard, one line per assessed competency.

    Every managerial and socio-cultural competency of the standard must be assessed;
    technical ones may be left out; a competency outside the standard is refused.
    """
    cells = {cell.competency_code: cell for cell in standard}
    problems = {
        code: "Kompetensi ini tidak termasuk standar jabatan yang dinilai."
        for code in achieved
        if code not in cells
    }
    for code, cell in cells.items():
        if cell.kind in MANAGERIAL_KINDS and code not in achieved:
            problems[code] = "Level capaian wajib diisi untuk kompetensi ini."
    if not achieved and not problems:
        problems["levels"] = "Tidak ada level capaian."
    if problems:
        raise AssessmentRejected(problems)
    return [
        ResultLine(
            cell.competency_code,
            cell.competency_name,
            cell.kind,
            cell.required_level,
            achieved[code],
            gap(achieved[code], cell.required_level),
        )
        for code, cell in sorted(cells.items())
        if code in achieved
    ]


def replaces_current(assessed_on: date, current_on: date | None) -> bool:
    """Whether a new assessment replaces the current one of the same employee and jabatan.

    The later assessment date wins; on the same date the later arrival wins. An older
    result arriving late is kept as history and leaves the current one in place.
    """
    return current_on is None or assessed_on >= current_on
