"""A made-up city for load and chaos runs: as many units and employees as asked, every one
alike, so that each assessment takes the same way through the chain.

Plain Python, no I/O, like :mod:`kompas_demo.plaju`; :class:`kompas_demo.seed.Seeder` puts
it into the services. The benchmark (``bench/chain.py``), the chaos driver
(``asn_testkit.chaos``) and the end-to-end tests describe their worlds with it or with the
dataclasses of :mod:`kompas_demo.dataset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .dataset import (
    Allocation,
    Batch,
    Dataset,
    Employee,
    Jabatan,
    Official,
    Programme,
    Unit,
    compose_nip,
)

LEVEL = 3  # the level every jabatan of the city asks of each competency of its standard
PROGRAMME_LEVEL = 5  # the level a programme brings its competency to
SUB_ACTIVITY = "x.xx.01.2.05.0009"  # Pendidikan dan Pelatihan Pegawai Berdasarkan Tugas …
ACCOUNT = "5.1.02.02.12.0001"  # Belanja Kursus Singkat/Pelatihan
CAPACITY = 100_000  # a batch's largest capacity the training API takes: room for everyone
FIRST_BIRTH = date(1970, 1, 1)
BIRTHS = 10_000  # distinct birth dates before they repeat (all born before 1997-05-19)
APPOINTED = date(2019, 1, 1)


def synthetic_nip(i: int) -> str:
    """The ``i``-th made-up NIP: born 1970-01-01 plus ``i`` days (repeating after
    :data:`BIRTHS` days, so everyone was 18 by the appointment in 01-2019), men and women
    alternately, serial 001-999. Distinct for ``i`` below ten million."""
    birth = FIRST_BIRTH + timedelta(days=i % BIRTHS)
    return compose_nip(birth, APPOINTED, "L" if i % 2 == 0 else "P", 1 + i % 999)


def underfunded(index: int) -> bool:
    """One unit in ten (the 10th, 20th …) gets too small an allocation: waitlists happen."""
    return index % 10 == 9


def first_batch_day(today: date) -> date:
    """A day in December of this year after today (on 31 December: the 30th)."""
    starts = max(today + timedelta(days=1), date(today.year, 12, 1))
    return min(starts, date(today.year, 12, 30))


@dataclass(frozen=True)
class City:
    """What makes a synthetic city (see :func:`synthetic_city`)."""

    code: str  # the root unit; units are {code}-U00, {code}-U01 …
    name: str  # the root unit's name
    units: int
    employees: int
    standard: Sequence[str]  # competency codes each jabatan asks at LEVEL
    fiscal_year: int
    starts_on: date  # every programme's one batch, a one-day online one
    email_domain: str  # employees are pegawai{i}@email_domain
    gaps: int = 2  # competencies each employee will fall short on: programmes proposed
    cost_rupiah: int = 1_500_000  # every programme's cost per participant
    jp: int = 20
    underfunded_top_up: int = 0  # an underfunded unit's allocation above half its need
    officials: bool = False  # a BKPSDM administrator and an operator per underfunded unit

    def unit_codes(self) -> list[str]:
        return [f"{self.code}-U{u:02d}" for u in range(self.units)]


def synthetic_city(city: City) -> Dataset:
    """Units under one root, a pelaksana jabatan per unit asking :data:`LEVEL` of every
    competency of the standard, a programme ``P-<competency>`` per competency, a budget per
    unit paying ``gaps`` programmes for each of its employees and a tenth more (half, plus
    ``underfunded_top_up``, in an :func:`underfunded` unit), employees spread over the units
    in turn (e-mail, no supervisor, no phone) and, if asked, officials."""
    units = city.unit_codes()
    return Dataset(
        fiscal_year=city.fiscal_year,
        units=(
            Unit(city.code, city.name, None),
            *(Unit(unit, f"Unit {unit}", "opd", city.code) for unit in units),
        ),
        jabatan=tuple(
            Jabatan(
                f"J-{unit}",
                "Pengelola Data",
                "pelaksana",
                None,
                unit,
                dict.fromkeys(city.standard, LEVEL),
            )
            for unit in units
        ),
        employees=tuple(_employee(city, i, units[i % len(units)]) for i in range(city.employees)),
        programmes=tuple(_programme(city, code) for code in city.standard),
        allocations=tuple(_allocation(city, n, unit) for n, unit in enumerate(units)),
        officials=_officials(city, units) if city.officials else (),
    )


def _employee(city: City, i: int, unit: str) -> Employee:
    nip = synthetic_nip(i)
    return Employee(
        nip=nip,
        name=f"Pegawai {i}",
        sex="L" if i % 2 == 0 else "P",
        golongan="III/a",
        unit_code=unit,
        jabatan_code=f"J-{unit}",
        email=f"pegawai{i}@{city.email_domain}",
        phone=None,
        supervisor_nip=None,
    )


def _programme(city: City, competency: str) -> Programme:
    batch = Batch(city.starts_on, city.starts_on, None, True, CAPACITY)
    return Programme(
        code=f"P-{competency}",
        title=f"Pelatihan {competency}",
        form="klasikal",
        activity=None,
        jp=city.jp,
        cost_rupiah=city.cost_rupiah,
        provider="BPSDM Provinsi",
        competencies={competency: PROGRAMME_LEVEL},
        batches=(batch,),
    )


def _allocation(city: City, index: int, unit: str) -> Allocation:
    need = -(-city.employees // city.units) * city.gaps * city.cost_rupiah
    amount = need // 2 + city.underfunded_top_up if underfunded(index) else need + need // 10
    return Allocation(
        unit, f"Unit {unit}", city.fiscal_year, amount, SUB_ACTIVITY, None, ACCOUNT, None, None
    )


def _officials(city: City, units: list[str]) -> tuple[Official, ...]:
    admin = Official("bkpsdm_admin", "Admin BKPSDM", "admin@bkpsdm.test")
    operators = (
        Official(
            "unit_operator",
            f"Operator {unit}",
            f"operator.{unit.lower()}@{city.email_domain}",
            unit,
        )
        for n, unit in enumerate(units)
        if underfunded(n)
    )
    return (admin, *operators)
