"""Recording assessments and announcing them: one posted through the API, or the rows of an
imported file (see :mod:`.importing`).

Both go through :class:`Recorder`: it locks the employees concerned (so concurrent
recordings of one employee serialise), scores each submission against the jabatan's
standard, decides which result is current, writes everything in bulk and publishes one
``assessment.recorded`` per stored result, in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from asn_shared.auth import Principal
from asn_shared.errors import Conflict, RuleBroken
from asn_shared.persistence import UnitOfWork

from . import access, domain, queries, repository, views
from .models import (
    Jabatan,
    Unit,
)
from .repository import RecordingRepository

FIELDS = ("nip", "assessed_on", "method", "jabatan_code")


@dataclass(frozen=True)
class Submission:
    nip: str
    jabatan_code: str | None
    assessed_on: date
    method: str
    levels: dict[str, Decimal]


class Rejected(Exception):
    """A submission that cannot be recorded; ``problems`` maps a field or column to a reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass
class Outcome:
    status: str  # "stored" or "unchanged"
    assessment_id: uuid.UUID


class Recorder:
    """Records submissions for a known set of employees within one unit of work."""

    def __init__(
        self,
        uow: UnitOfWork,
        rules: domain.Rules,
        nips: set[str],
        *,
        import_id: uuid.UUID | None = None,
        today: date | None = None,
    ) -> None:
        self.uow, self.rules = uow, rules
        self.repo = uow.repository(repository.sql)
        self.import_id = import_id
        self.today = today or uow.clock.today()
        self.bands = category_bands(self.repo, rules.scheme)
        self.employees = {row.nip: row for row in self.repo.locked_employees(nips)}
        self.known: dict[tuple, uuid.UUID] = {}  # natural key → id, stored or new
        self.batch: dict[tuple, Any] = {}  # natural key → origin (row number) in this batch
        self.current: dict[tuple[str, str], tuple[uuid.UUID, date]] = {}
        self._load_existing()
        self._jabatan: dict[str, Jabatan | None] = {}
        self._standards: dict[str, list[domain.StandardCell]] = {}
        self._units: dict[str, Unit] = {}
        self.new_assessments: dict[uuid.UUID, dict[str, Any]] = {}
        self.new_results: list[dict[str, Any]] = []
        self.superseded: list[dict[str, Any]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []

    def _load_existing(self) -> None:
        for row in self.repo.assessments_of(set(self.employees)):
            self.known[(row.employee_nip, row.jabatan_code, row.assessed_on, row.method)] = row.id
            if row.superseded_by is None:
                self.current[(row.employee_nip, row.jabatan_code)] = (row.id, row.assessed_on)

    def jabatan(self, code: str) -> Jabatan | None:
        if code not in self._jabatan:
            self._jabatan[code] = self.repo.jabatan(code)
            self._standards[code] = self.repo.standard(code)
        return self._jabatan[code]

    def unit(self, code: str) -> Unit:
        if code not in self._units:
            self._units[code] = self.repo.unit(code)
        return self._units[code]

    def record(self, submission: Submission, origin: Any = None) -> Outcome:
        """Score and keep one submission, or raise Rejected naming what is wrong."""
        employee = self.employees.get(submission.nip)
        if employee is None:
            raise Rejected({"nip": "Pegawai dengan NIP ini belum terdaftar."})
        code = submission.jabatan_code or employee.jabatan_code
        if code is None:
            raise Rejected(
                {"jabatan_code": "Pegawai belum memiliki jabatan; isi kode jabatan yang dinilai."}
            )
        if self.jabatan(code) is None:
            raise Rejected({"jabatan_code": f"Jabatan {code} tidak dikenal."})
        if not self._standards[code]:
            raise Rejected({"jabatan_code": f"Jabatan {code} belum memiliki standar kompetensi."})
        if submission.assessed_on > self.today:
            raise Rejected({"assessed_on": "Tanggal penilaian tidak boleh di masa depan."})
        try:
            lines = domain.score(self._standards[code], submission.levels)
        except domain.AssessmentRejected as exc:
            raise Rejected(exc.problems) from None
        key = (employee.nip, code, submission.assessed_on, submission.method)
        if key in self.known:
            return self._repeated(key, lines)
        outcome = self._store(employee, code, submission, lines, key)
        self.batch[key] = (origin, {line.competency_code: line.achieved_level for line in lines})
        return outcome

    def _repeated(self, key: tuple, lines: list[domain.ResultLine]) -> Outcome:
        """The same assessment again: unchanged if its levels are the same, else refused."""
        known_id = self.known[key]
        if key in self.batch:
            origin, recorded = self.batch[key]
            where = f"di baris {origin}" if origin is not None else f"({known_id})"
        else:
            recorded = self.repo.recorded_levels(known_id)
            where = f"({known_id})"
        same = f"Penilaian yang sama (NIP, jabatan, tanggal, metode) sudah tercatat {where}"
        for line in lines:
            before = recorded.get(line.competency_code)
            if before != line.achieved_level:
                shown = before if before is not None else "kosong"
                reason = f"{same} dengan level {shown}, bukan {line.achieved_level}."
                raise Rejected({line.competency_code: reason})
        if set(recorded) != {line.competency_code for line in lines}:
            raise Rejected({"assessed_on": f"{same} dengan isi berbeda."})
        return Outcome("unchanged", known_id)

    def _store(self, employee, code, submission, lines, key) -> Outcome:
        jpm = domain.jpm(
            [(line.required_level, line.achieved_level) for line in lines], self.rules.jpm_method
        )
        band = domain.categorize(jpm, self.bands)
        new_id = uuid.uuid4()
        current = self.current.get((employee.nip, code))
        supersedes = superseded_by = None
        if domain.replaces_current(submission.assessed_on, current[1] if current else None):
            if current is not None:
                supersedes = current[0]
                self._mark_superseded(current[0], new_id)
            self.current[(employee.nip, code)] = (new_id, submission.assessed_on)
        else:
            superseded_by = current[0]
        row = {
            "id": new_id,
            "employee_nip": employee.nip,
            "jabatan_code": code,
            "unit_code": employee.unit_code,
            "assessed_on": submission.assessed_on,
            "method": submission.method,
            "jpm": jpm,
            "jpm_method": self.rules.jpm_method,
            "category_scheme": band.scheme,
            "category_code": band.code,
            "category_label": band.label,
            "superseded_by": superseded_by,
            "supersedes": supersedes,
            "import_id": self.import_id,
        }
        self.new_assessments[new_id] = row
        self.new_results.extend(
            {
                "assessment_id": new_id,
                "competency_code": line.competency_code,
                "competency_name": line.competency_name,
                "kind": line.kind,
                "required_level": line.required_level,
                "achieved_level": line.achieved_level,
                "gap": line.gap,
            }
            for line in lines
        )
        self.events.append((employee.nip, self._event(employee, row, lines, band)))
        self.known[key] = new_id
        return Outcome("stored", new_id)

    def _mark_superseded(self, old_id: uuid.UUID, new_id: uuid.UUID) -> None:
        if old_id in self.new_assessments:
            self.new_assessments[old_id]["superseded_by"] = new_id
        else:
            self.superseded.append({"old_id": old_id, "new_id": new_id})

    def _event(self, employee, row, lines, band: domain.CategoryBand) -> dict[str, Any]:
        jabatan = self.jabatan(row["jabatan_code"])
        held = self.jabatan(employee.jabatan_code) if employee.jabatan_code else None
        return {
            "assessment_id": row["id"],
            "supersedes": row["supersedes"],
            "employee": views.employee_state(employee, self.unit(employee.unit_code), held),
            "jabatan": views.jabatan_state(jabatan),
            "assessed_on": row["assessed_on"],
            "method": row["method"],
            "results": [
                {
                    "competency_code": line.competency_code,
                    "competency_name": line.competency_name,
                    "kind": line.kind,
                    "required_level": line.required_level,
                    "achieved_level": float(line.achieved_level),
                    "gap": float(line.gap),
                }
                for line in lines
            ],
            "jpm": float(row["jpm"]),
            "jpm_method": row["jpm_method"],
            "category": {"code": band.code, "label": band.label, "scheme": band.scheme},
            "current": row["superseded_by"] is None,
        }

    def flush(self) -> None:
        """Write what was recorded and put its events in the outbox (the caller commits)."""
        if self.superseded:
            self.repo.supersede([(pair["old_id"], pair["new_id"]) for pair in self.superseded])
        self.repo.add_assessments(list(self.new_assessments.values()))
        self.repo.add_results(self.new_results)
        self.uow.publish_many("assessment.recorded", self.events)


def category_bands(repo: RecordingRepository, scheme: str) -> list[domain.CategoryBand]:
    bands = repo.category_bands(scheme)
    if not bands:
        raise RuntimeError(f"JPM_SCHEME {scheme!r} has no categories in table jpm_categories")
    return bands


# --- one assessment -----------------------------------------------------------------------


def record_assessment(
    uow: UnitOfWork, rules: domain.Rules, caller: Principal, data: dict[str, Any]
) -> dict[str, Any]:
    """Record one posted assessment of an employee the caller reaches: its gaps, JPM and
    category."""
    submission = Submission(
        data["nip"], data.get("jabatan_code"), data["assessed_on"], data["method"], data["levels"]
    )
    with uow:
        access.check_employee(uow.session, caller, data["nip"])
        recorder = Recorder(uow, rules, {submission.nip})
        try:
            outcome = recorder.record(submission)
        except Rejected as exc:
            detail = (
                next(iter(exc.problems.values()))
                if len(exc.problems) == 1
                else f"Penilaian tidak dapat dicatat: {len(exc.problems)} masalah (lihat errors)."
            )
            raise RuleBroken(detail, fields=_as_fields(exc.problems)) from None
        if outcome.status == "unchanged":
            raise Conflict(
                "Penilaian ini (NIP, jabatan, tanggal, metode) sudah tercatat.",
                assessment_id=str(outcome.assessment_id),
            )
        recorder.flush()
        try:
            uow.commit()
        except IntegrityError:
            uow.rollback()
            raise Conflict("Penilaian ini baru saja tercatat oleh permintaan lain.") from None
        return queries.assessment_view(uow.session, outcome.assessment_id)


def _as_fields(problems: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, reason in problems.items():
        if name in FIELDS:
            fields[name] = [reason]
        else:
            fields.setdefault("levels", {})[name] = [reason]
    return fields
