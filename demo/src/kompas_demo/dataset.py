"""The shape of a demo dataset and generic, seeded ways to fill it.

Plain Python, no I/O. Nothing here knows a place: a deployment's units, posts, names and
catalogue come from a data module (see :mod:`kompas_demo.plaju`), which calls these helpers
with its own ``random.Random``. The same seed gives the same dataset, byte for byte.

Terms of art: *jabatan* is a job (post) with its competency standard; *golongan* the civil
service rank (I/a … IV/e); *NIP* the 18-digit civil servant number; *JP* (jam pelajaran) the
unit of development time, 45 minutes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

GOLONGAN = tuple(
    f"{rank}/{room}"
    for rank, rooms in (("I", "abcd"), ("II", "abcd"), ("III", "abcd"), ("IV", "abcde"))
    for room in rooms
)
SEX_DIGIT = {"L": "1", "P": "2"}  # laki-laki, perempuan
APPOINTMENT_MIN_AGE = 18  # PP 11/2017 art. 23


# --- what a dataset holds -----------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str | None
    parent_code: str | None = None


@dataclass(frozen=True)
class Competency:
    """A technical competency of the agency, with a description per level 1-5."""

    code: str
    name: str
    description: str
    levels: tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Jabatan:
    """A post in a unit; its managerial standard comes from the grade defaults, its
    technical competencies and their required levels from ``technical``."""

    code: str
    name: str
    kind: str
    grade: str | None
    unit_code: str
    technical: Mapping[str, int] = field(default_factory=dict)
    head: bool = False


@dataclass(frozen=True)
class Employee:
    nip: str
    name: str
    sex: str | None  # "L" or "P", as the NIP's sex digit says; None: the digit decides
    golongan: str
    unit_code: str
    jabatan_code: str | None
    email: str | None
    phone: str | None
    supervisor_nip: str | None
    language: str = "id"


@dataclass(frozen=True)
class Batch:
    starts_on: date
    ends_on: date
    place: str | None
    online: bool
    capacity: int


@dataclass(frozen=True)
class Programme:
    code: str
    title: str
    form: str  # pendidikan, klasikal, nonklasikal
    activity: str | None
    jp: int | None  # None: the activity's default
    cost_rupiah: int  # per participant, whole rupiah; 0 is free
    provider: str
    competencies: Mapping[str, int]  # competency code → the level it brings a participant to
    batches: tuple[Batch, ...]


@dataclass(frozen=True)
class Allocation:
    """A unit's training budget (pagu) for a fiscal year, in whole rupiah."""

    unit_code: str
    unit_name: str
    fiscal_year: int
    amount_rupiah: int
    sub_activity_code: str
    sub_activity_name: str | None
    account_code: str
    account_name: str | None
    reference: str | None


@dataclass(frozen=True)
class Official:
    """Someone notified by role: a unit's HR operator or a BKPSDM administrator."""

    role: str  # unit_operator or bkpsdm_admin
    name: str
    email: str
    unit_code: str | None = None


@dataclass(frozen=True)
class Subscription:
    """Another agency's webhook: the events (patterns) it wants posted to ``url``."""

    name: str
    url: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Dataset:
    fiscal_year: int
    units: tuple[Unit, ...] = ()
    competencies: tuple[Competency, ...] = ()
    jabatan: tuple[Jabatan, ...] = ()
    employees: tuple[Employee, ...] = ()
    programmes: tuple[Programme, ...] = ()
    allocations: tuple[Allocation, ...] = ()
    officials: tuple[Official, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()


@dataclass(frozen=True)
class AssessmentRow:
    """One employee's results in an assessment round: achieved level per competency."""

    nip: str
    name: str
    jabatan_code: str
    assessed_on: date
    method: str
    levels: Mapping[str, float]


# --- NIP, age and rank --------------------------------------------------------------------


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def compose_nip(birth: date, appointed: date, sex: str, serial: int) -> str:
    """The 18 digits: birth date, appointment month (TMT CPNS), sex digit, 3-digit serial."""
    if date(appointed.year, appointed.month, 1) < add_years(birth, APPOINTMENT_MIN_AGE).replace(
        day=1
    ):
        raise ValueError("appointment before the month of the 18th birthday")
    if not 1 <= serial <= 999:
        raise ValueError("serial must be 001-999")
    return f"{birth:%Y%m%d}{appointed:%Y%m}{SEX_DIGIT[sex]}{serial:03d}"


def birth_and_appointment(
    rng: random.Random, as_of: date, ages: tuple[int, int], entry_ages: tuple[int, int]
) -> tuple[date, date]:
    """A birth date giving an age in ``ages`` on ``as_of`` and a first-appointment month at an
    age in ``entry_ages`` (never later than the month before ``as_of``)."""
    age = rng.randint(*ages)
    birth = as_of - timedelta(days=age * 365 + rng.randint(0, 364))
    entry_age = rng.randint(entry_ages[0], max(entry_ages[0], min(entry_ages[1], age - 1)))
    appointed = add_years(birth, entry_age) + timedelta(days=rng.randint(0, 300))
    latest = date(as_of.year, as_of.month, 1) - timedelta(days=1)
    appointed = min(appointed, latest)
    return birth, date(appointed.year, appointed.month, 1)


def golongan_for(entry: str, years_of_service: int, lowest: str, highest: str) -> str:
    """Rank by regular promotion (one step every four years from ``entry``), kept within the
    range the post requires."""
    index = GOLONGAN.index(entry) + years_of_service // 4
    index = max(GOLONGAN.index(lowest), min(GOLONGAN.index(highest), index))
    return GOLONGAN[index]


# --- how many people in each post ----------------------------------------------------------


def apportion(weights: Sequence[int], total: int, caps: Sequence[int | None]) -> list[int]:
    """Split ``total`` over ``weights`` (largest remainder), never above a post's cap."""
    counts = [0] * len(weights)
    open_ = [i for i, weight in enumerate(weights) if weight > 0]
    left = total
    while left > 0 and open_:
        weight_sum = sum(weights[i] for i in open_)
        shares = {i: left * weights[i] / weight_sum for i in open_}
        given = 0
        for i in open_:
            room = _room(caps[i], counts[i])
            take = min(int(shares[i]), room)
            counts[i] += take
            given += take
        remainder = sorted(open_, key=lambda i: (-(shares[i] - int(shares[i])), i))
        for i in remainder:
            if given >= left:
                break
            if _room(caps[i], counts[i]) > 0:
                counts[i] += 1
                given += 1
        left -= given
        open_ = [i for i in open_ if _room(caps[i], counts[i]) > 0]
        if given == 0:
            break
    return counts


def _room(cap: int | None, count: int) -> int:
    return 10**9 if cap is None else max(0, cap - count)


# --- posts: who a unit employs -------------------------------------------------------------

# Rank ranges and ages per kind of post [~ common practice, not a regulation's table].
RANKS = {
    ("administrator", None): ("III/d", "IV/b"),
    ("pengawas", None): ("III/b", "III/d"),
    ("pelaksana", None): ("II/a", "III/c"),
    ("fungsional", "pemula"): ("II/a", "II/b"),
    ("fungsional", "terampil"): ("II/c", "III/b"),
    ("fungsional", "mahir"): ("III/a", "III/c"),
    ("fungsional", "penyelia"): ("III/c", "III/d"),
    ("fungsional", "ahli_pertama"): ("III/a", "III/b"),
    ("fungsional", "ahli_muda"): ("III/c", "III/d"),
    ("fungsional", "ahli_madya"): ("IV/a", "IV/c"),
    ("fungsional", "ahli_utama"): ("IV/d", "IV/e"),
}
AGES = {
    "administrator": (42, 57),
    "pengawas": (34, 57),
    "pelaksana": (22, 57),
    "pemula": (21, 45),
    "terampil": (23, 56),
    "mahir": (30, 57),
    "penyelia": (38, 57),
    "ahli_pertama": (25, 45),
    "ahli_muda": (32, 57),
    "ahli_madya": (40, 59),
    "ahli_utama": (48, 64),
}


@dataclass(frozen=True)
class Post:
    """A jabatan template in a unit, and the kind of people holding it.

    ``weight`` is the number of holders in the full-size dataset; a smaller or larger
    dataset scales it, never above ``cap`` (one for single posts such as a section head).
    """

    key: str
    name: str
    kind: str
    grade: str | None = None
    technical: Mapping[str, int] = field(default_factory=dict)
    weight: int = 1
    cap: int | None = None
    head: bool = False
    women: float = 0.45  # share of women among the holders
    front_titles: tuple[str, ...] = ("",)
    back_titles: tuple[str, ...] = ("",)
    graduate_entry: float = 0.5  # pelaksana only: share entering as graduates (III/a)
    with_email: float = 0.97

    @property
    def ranks(self) -> tuple[str, str]:
        return RANKS[(self.kind, self.grade if self.kind == "fungsional" else None)]

    @property
    def ages(self) -> tuple[int, int]:
        return AGES[self.grade if self.kind == "fungsional" else self.kind]

    def entry_golongan(self, rng: random.Random) -> str:
        """The rank a holder was first appointed at, from the schooling the post asks."""
        if self.kind == "pelaksana":
            return "III/a" if rng.random() < self.graduate_entry else "II/a"
        if self.grade in ("pemula",):
            return "II/a"
        if self.grade in ("terampil", "mahir", "penyelia"):
            return "II/c"
        return "III/a"


def head_post(key: str, name: str, kind: str, grade: str | None = None, **options) -> Post:
    return Post(key, name, kind, grade, head=True, weight=1, cap=1, **options)


def single_post(key: str, name: str, kind: str, grade: str | None = None, **options) -> Post:
    return Post(key, name, kind, grade, weight=1, cap=1, **options)


# --- names and addresses ------------------------------------------------------------------


def ascii_slug(text: str) -> str:
    """Lower-case letters and dots only: what an e-mail local part is made of here."""
    kept = "".join(ch.lower() if ch.isalnum() else "." for ch in text if ch.isascii())
    return ".".join(part for part in kept.split(".") if part)


def unique(candidate: str, taken: set[str]) -> str:
    """``candidate``, or ``candidate2``, ``candidate3``… whichever is still free."""
    name, number = candidate, 1
    while name in taken:
        number += 1
        name = f"{candidate}{number}"
    taken.add(name)
    return name


def phone_number(rng: random.Random) -> str:
    """An Indonesian mobile number as people write it: +62 8xx xxxx xxxx."""
    prefix = rng.choice(("811", "812", "813", "821", "822", "852", "853", "857", "878", "895"))
    return f"+62 {prefix} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


# --- an assessment round ------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How an employee fares against the standard: the chance each competency falls short."""

    name: str
    share: float
    shortfall: float


PROFILES = (
    Profile("memenuhi", 0.45, 0.0),
    Profile("sebagian", 0.35, 0.18),
    Profile("perlu_pengembangan", 0.20, 0.40),
)
SHORTFALLS = ((-0.5, 0.65), (-1.0, 0.30), (-1.5, 0.05))
SURPLUSES = ((0.0, 0.60), (0.5, 0.28), (1.0, 0.12))


def _pick(rng: random.Random, options: Iterable[tuple[float, float]]) -> float:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights)[0]


def achieved_levels(
    rng: random.Random, standard: Mapping[str, int], profile: Profile
) -> dict[str, float]:
    """Achieved levels in half steps around ``standard``, within 1 to 5."""
    levels = {}
    for code in sorted(standard):
        required = standard[code]
        short = rng.random() < profile.shortfall
        delta = _pick(rng, SHORTFALLS) if short else _pick(rng, SURPLUSES)
        levels[code] = min(5.0, max(1.0, required + delta))
    return levels


def assessment_round(
    employees: Iterable[Employee],
    standards: Mapping[str, Mapping[str, int]],
    *,
    seed: int,
    assessed_on: date,
    method: str = "assessment_centre",
) -> list[AssessmentRow]:
    """One row per employee whose jabatan has a standard; the same seed, the same levels.

    ``standards`` maps a jabatan code to its required level per competency code, as the
    competency service holds it (the grade defaults plus the technical cells).
    """
    rng = random.Random(f"assessment-round-{seed}")
    rows = []
    for employee in employees:
        standard = standards.get(employee.jabatan_code)
        if not standard:
            continue
        profile = rng.choices(PROFILES, [p.share for p in PROFILES])[0]
        rows.append(
            AssessmentRow(
                employee.nip,
                employee.name,
                employee.jabatan_code,
                assessed_on,
                method,
                achieved_levels(rng, standard, profile),
            )
        )
    return rows
