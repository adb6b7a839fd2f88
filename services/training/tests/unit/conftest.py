"""The proposal orchestration without broker or database: an in-memory repository behind a
fake unit of work, and a fixed clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from asn_shared.auth import Principal
from asn_shared.clock import FixedClock
from asn_testkit.fakes import FakeUnitOfWork, FakeUnitTree, incoming, keep_newest
from training import domain, repository
from training.domain import ItemStatus
from training.models import (
    Activity,
    Assessment,
    Batch,
    Employee,
    Enrollment,
    LedgerEntry,
    Programme,
    ProgrammeCompetency,
    Proposal,
)
from training.use_cases import catalogue, common

NIP = "198609262015051001"
TODAY = date(2026, 6, 15)


class FakeProposalRepository:
    """``training.repository.ProposalRepository`` over lists: what the SQL selects, selected
    here in Python; row locks mean nothing with one test thread."""

    def __init__(self) -> None:
        self.employees: dict[str, Employee] = {}
        self.assessments: dict[uuid.UUID, Assessment] = {}
        self.proposals: list[Proposal] = []
        self.programmes: dict[str, Programme] = {}
        self.batches: dict[uuid.UUID, Batch] = {}
        self.enrollments: list[Enrollment] = []
        self.ledger: list[LedgerEntry] = []
        self.activity_kinds: dict[str, Activity] = {}
        self.units = FakeUnitTree({"KOTA": None, "KEC-PLAJU": "KOTA", "KEC-ILIR": "KOTA"})

    # --- the repository ---------------------------------------------------------------------

    def upsert_employee(self, employee: dict[str, Any]) -> None:
        row = Employee(
            nip=employee["nip"],
            name=employee["name"],
            unit_code=employee["unit"]["code"],
            unit_name=employee["unit"]["name"],
            version=employee["version"],
        )
        keep_newest(self.employees, employee["nip"], row)

    def locked_employee(self, nip: str) -> Employee:
        return self.employees[nip]

    def prepare(self, nips: Sequence[str]) -> None:
        pass  # the fake reads from memory: nothing to read ahead

    def recorded_employee(self, employee: dict[str, Any]) -> Employee:
        self.upsert_employee(employee)
        return self.employees[employee["nip"]]

    def assessment(self, assessment_id: uuid.UUID) -> Assessment | None:
        return self.assessments.get(assessment_id)

    def assessments_of(self, nip: str, jabatan_code: str) -> list[Assessment]:
        return [
            a
            for a in self.assessments.values()
            if a.employee_nip == nip and a.jabatan_code in (jabatan_code, None)
        ]

    def add_assessment(self, assessment: Assessment) -> None:
        self.assessments[assessment.id] = assessment

    def open_proposals(self, nip: str, jabatan_code: str) -> list[Proposal]:
        return [
            p
            for p in self.proposals
            if p.employee_nip == nip
            and p.status in domain.NOT_YET_APPROVED
            and p.jabatan_code in (jabatan_code, None)
        ]

    def locked_proposal(self, proposal_id: uuid.UUID) -> Proposal | None:
        return next((p for p in self.proposals if p.id == proposal_id), None)

    def prepare_proposals(self, proposal_ids: Iterable[uuid.UUID]) -> None:
        pass

    def proposal(self, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal | None:
        return self.locked_proposal(proposal_id)

    def enrollment(self, enrollment_id: uuid.UUID, *, lock: bool = False) -> Enrollment | None:
        return next((e for e in self.enrollments if e.id == enrollment_id), None)

    def batches_from(self, programme_code: str, starts_on: date) -> list[Batch]:
        batches = [
            b
            for b in self.batches.values()
            if b.programme_code == programme_code and b.starts_on >= starts_on
        ]
        return sorted(batches, key=lambda b: (b.starts_on, str(b.id)))

    def add_enrollment(self, enrollment: Enrollment) -> None:
        self.enrollments.append(enrollment)

    def open_enrolment_count(self, proposal_id: uuid.UUID) -> int:
        return len(self.open_enrolments(proposal_id))

    def add_ledger_entry(self, entry: LedgerEntry) -> None:
        self.ledger.append(entry)

    def add_proposal(self, proposal: Proposal) -> None:
        if proposal not in self.proposals:
            self.proposals.append(proposal)

    def batch(self, batch_id: uuid.UUID) -> Batch | None:
        return self.batches.get(batch_id)

    def open_enrolments(self, proposal_id: uuid.UUID) -> list[Enrollment]:
        return [
            e for e in self.enrollments if e.proposal_id == proposal_id and e.status == "enrolled"
        ]

    def free_seat(self, enrollment: Enrollment) -> None:
        self.batches[enrollment.batch_id].enrolled -= 1
        enrollment.status = "cancelled"

    def offers(
        self,
        competency_codes: Iterable[str],
        today: date,
        years: Iterable[int],
        exclude: Iterable[str] = (),
    ) -> tuple[list[domain.Offer], dict[str, Programme]]:
        codes, years, excluded = set(competency_codes), sorted(set(years)), set(exclude)
        by_code = {
            code: p
            for code, p in self.programmes.items()
            if codes & set(p.levels()) and code not in excluded
        }
        batches = sorted(
            (
                b
                for b in self.batches.values()
                if b.programme_code in by_code
                and b.starts_on >= today
                and date(years[0], 1, 1) <= b.ends_on <= date(years[-1], 12, 31)
                and b.enrolled < b.capacity
            ),
            key=lambda b: (b.starts_on, str(b.id)),
        )
        return catalogue.earliest_offers(by_code, batches, years), by_code

    def jp_counts(self, nip: str, years: Sequence[int]) -> dict[int, tuple[int, int]]:
        done = {year: 0 for year in years}
        booked = {year: 0 for year in years}
        for entry in self.ledger:
            if entry.employee_nip == nip and entry.jp_year in done:
                done[entry.jp_year] += entry.jp
        for proposal in self.proposals:
            if proposal.employee_nip != nip or proposal.status not in common.ACTIVE_PROPOSALS:
                continue
            for item in proposal.items:
                if item.status == ItemStatus.APPROVED and item.batch.ends_on.year in booked:
                    booked[item.batch.ends_on.year] += item.jp
        for enrollment in self.enrollments:
            year = self.batches[enrollment.batch_id].ends_on.year
            if enrollment.employee_nip == nip and enrollment.status == "enrolled":
                if year in booked:
                    booked[year] += enrollment.jp
        return {year: (done[year], booked[year]) for year in years}

    def development(self, nip: str, years: Sequence[int]) -> repository.Development:
        held, levels = self.development_held(nip)
        return repository.Development(held, levels, self.jp_counts(nip, years))

    def development_held(self, nip: str) -> tuple[set[str], dict[str, int]]:
        mine = [e for e in self.enrollments if e.employee_nip == nip]
        booked = {
            item.programme_code
            for p in self.proposals
            if p.employee_nip == nip
            for item in p.items
            if item.status in common.BOOKED_ITEMS
        } | {e.programme_code for e in mine if e.status == "enrolled"}
        completed = {e.programme_code for e in mine if e.status == "completed"} | {
            entry.programme_code
            for entry in self.ledger
            if entry.employee_nip == nip and entry.programme_code is not None
        }
        levels: dict[str, int] = {}
        for code in booked:
            for competency, level in self.programmes[code].levels().items():
                levels[competency] = max(level, levels.get(competency, 0))
        return booked | completed, levels

    def check_reach(self, caller: Principal, nip: str, unit_code: str | None) -> None:
        self.units.check_reach(caller, nip, unit_code)

    def employee(self, nip: str) -> Employee | None:
        return self.employees.get(nip)

    def activities(self) -> list[Activity]:
        return sorted(self.activity_kinds.values(), key=lambda a: (a.form, a.code))

    def activity(self, code: str, *, lock: bool = False) -> Activity | None:
        return self.activity_kinds.get(code)

    def catalogue_programme(self, code: str) -> Programme | None:
        return self.programmes.get(code)

    def add_programme(self, programme: Programme) -> None:
        self.programmes[programme.code] = programme

    def add_batches(self, batches: Iterable[Batch]) -> None:
        for batch in batches:
            batch.id = batch.id or uuid.uuid4()
            batch.programme = self.programmes[batch.programme_code]  # as the ORM relates them
            self.batches[batch.id] = batch

    def ledger_entries(self, nip: str, year: int) -> list[LedgerEntry]:
        mine = [e for e in self.ledger if e.employee_nip == nip and e.jp_year == year]
        return sorted(mine, key=lambda e: (e.ended_on, str(e.id)))

    def reachable_units(self, caller: Principal, unit_code: str | None) -> set[str] | None:
        scope = self.units.scope(caller)
        if unit_code is not None:
            caller.require_unit(unit_code, scope)
        return scope

    def employees_in(self, scope: set[str] | None, unit_code: str | None) -> list[Employee]:
        return [
            e
            for e in self.employees.values()
            if (scope is None or e.unit_code in scope) and unit_code in (None, "", e.unit_code)
        ]

    def reviewed_assessments(self, nips: list[str]) -> list[Assessment]:
        superseded = {a.supersedes for a in self.assessments.values()}
        found = [
            a
            for a in self.assessments.values()
            if a.employee_nip in nips
            and a.outcome != "stale"
            and a.review is not None
            and a.id not in superseded
        ]
        return sorted(found, key=lambda a: a.assessed_on, reverse=True)

    def funded_programme_levels(
        self, nips: list[str], items: Iterable[str]
    ) -> list[tuple[str, str, int]]:
        held = {
            (p.employee_nip, i.programme_code)
            for p in self.proposals
            if p.employee_nip in nips
            for i in p.items
            if i.status in set(items)
        } | {
            (e.employee_nip, e.programme_code)
            for e in self.enrollments
            if e.employee_nip in nips and e.status in ("enrolled", "completed")
        }
        return [
            (nip, competency, level)
            for nip, code in held
            for competency, level in self.programmes[code].levels().items()
        ]

    def unfunded_items(
        self, nips: list[str], year: int, proposals: Iterable[str], items: Iterable[str]
    ) -> list[tuple[Any, str]]:
        return [
            (i, p.employee_nip)
            for p in self.proposals
            if p.employee_nip in nips and p.fiscal_year == year and p.status in set(proposals)
            for i in p.items
            if i.status in set(items)
        ]

    def programmes_ending_in(self, year: int) -> list[Programme]:
        offered = {b.programme_code for b in self.batches.values() if b.ends_on.year == year}
        return [p for code, p in self.programmes.items() if code in offered]

    def employees_under(
        self, year: int, minimum: int, unit_code: str | None, scope: set[str] | None
    ) -> list[tuple[Employee, int]]:
        jp = {e.nip: 0 for e in self.employees_in(scope, unit_code)}
        for entry in self.ledger:
            if entry.jp_year == year and entry.employee_nip in jp:
                jp[entry.employee_nip] += entry.jp
        under = [(self.employees[nip], total) for nip, total in jp.items() if total < minimum]
        return sorted(under, key=lambda row: (row[0].unit_code, row[1], row[0].nip))

    # --- what a test puts in the catalogue and the ledger -----------------------------------

    def known(self, nip: str = NIP, unit_code: str = "KEC-PLAJU") -> Employee:
        """An employee training knows from competency's events."""
        employee = Employee(
            nip=nip, name=f"Pegawai {nip[-4:]}", unit_code=unit_code, unit_name=unit_code, version=1
        )
        self.employees[nip] = employee
        return employee

    def activity_kind(self, code: str, form: str = "klasikal", default_jp: int = 8) -> Activity:
        activity = Activity(
            code=code, form=form, name=code.replace("_", " "), default_jp=default_jp
        )
        self.activity_kinds[code] = activity
        return activity

    def programme(
        self,
        code: str,
        cost: int,
        levels: dict[str, int],
        *,
        jp: int = 24,
        starts_on: date = TODAY + timedelta(days=7),
        days: int = 3,
        capacity: int = 30,
    ) -> Programme:
        """A programme with one batch starting ``starts_on``."""
        programme = Programme(
            code=code,
            title=f"Pelatihan {code}",
            form="klasikal",
            activity="pelatihan_manajerial",
            jp=jp,
            cost_rupiah=cost,
            provider="BKPSDM Kota Palembang",
            competencies=[
                ProgrammeCompetency(programme_code=code, competency_code=c, level=lv)
                for c, lv in levels.items()
            ],
        )
        self.programmes[code] = programme
        self.add_batch(programme, starts_on, starts_on + timedelta(days=days - 1), capacity)
        return programme

    def add_batch(self, programme: Programme, starts_on: date, ends_on: date, capacity: int = 30):
        batch = Batch(
            id=uuid.uuid4(),
            programme_code=programme.code,
            starts_on=starts_on,
            ends_on=ends_on,
            place="Plaju",
            online=False,
            capacity=capacity,
            enrolled=0,
        )
        batch.programme = programme
        self.batches[batch.id] = batch
        return batch

    def completed(self, jp: int, ended_on: date, nip: str = NIP) -> LedgerEntry:
        entry = LedgerEntry(
            id=uuid.uuid4(),
            employee_nip=nip,
            unit_code="KEC-PLAJU",
            title="Seminar",
            form="klasikal",
            activity="seminar",
            jp=jp,
            started_on=ended_on,
            ended_on=ended_on,
            jp_year=ended_on.year,
            competency_codes=[],
            cost_rupiah=0,
        )
        self.ledger.append(entry)
        return entry


@pytest.fixture
def repo() -> FakeProposalRepository:
    return FakeProposalRepository()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TODAY)


@pytest.fixture
def uow(repo, clock) -> FakeUnitOfWork:
    return FakeUnitOfWork("training", repo, clock)


class Events:
    """The events the orchestration receives (a fixture), from the service tests' builders
    (``build``), on the unit tests' fixed day."""

    NIP, TODAY = NIP, TODAY

    def __init__(self, build: Any) -> None:
        self.build = build
        self.result = build.result

    def assessed(
        self,
        results: list[dict[str, Any]],
        *,
        jabatan: str = "KASI-PEM",
        assessed_on: date = TODAY,
        nip: str = NIP,
        **extra: Any,
    ):
        """``assessment.recorded`` as training receives it."""
        employee = self.build.employee(nip)
        held = {"code": jabatan, "name": jabatan, "kind": "pengawas", "grade": None}
        data = self.build.assessment(results, assessed_on=assessed_on, **extra)
        return incoming("assessment.recorded", {**data, "employee": employee, "jabatan": held})

    def reserved(self, proposal: Proposal, items: list, amount: int):
        """``budget.reserved`` for ``items`` of ``proposal`` (the rest rejected)."""
        paid = {item.id for item in items}
        return incoming(
            "budget.reserved",
            {
                **self.build.budget_position(year=proposal.fiscal_year),
                "reservation_id": uuid.uuid4(),
                "proposal_id": proposal.id,
                "item_ids": sorted(paid),
                "rejected_item_ids": sorted(i.id for i in proposal.items if i.id not in paid),
                "partial": len(paid) < len(proposal.items),
                "amount_rupiah": amount,
            },
        )

    def rejected(self, proposal: Proposal, reason: str = "insufficient_funds"):
        return incoming(
            "budget.rejected",
            {
                **self.build.budget_position(year=proposal.fiscal_year),
                "proposal_id": proposal.id,
                "item_ids": [i.id for i in proposal.items],
                "requested_rupiah": proposal.total_cost_rupiah,
                "reason": reason,
            },
        )


@pytest.fixture
def events(build) -> Events:
    return Events(build)
