"""Use cases of the dictionary, units, jabatan, employees and development history.

Each takes a UnitOfWork: it loads, asks the domain, writes, publishes, commits. Assessments
have their own modules (:mod:`competency.recording`, :mod:`competency.importing`); reads are
in :mod:`competency.queries`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from asn_shared.auth import Principal
from asn_shared.errors import Conflict, NotFound, RuleBroken
from asn_shared.events import Event
from asn_shared.persistence import UnitOfWork

from . import domain, repository, views
from .models import (
    Competency,
    Employee,
    Jabatan,
    Unit,
)


def commit(uow: UnitOfWork, conflict: str) -> None:
    """Commit; a unique key taken meanwhile by a concurrent request becomes a 409."""
    try:
        uow.commit()
    except IntegrityError:
        uow.rollback()
        raise Conflict(conflict) from None


def unclaimed(find: Callable[[Any], Any], key: Any, taken: str) -> str:
    """Refuse with the 409 ``taken`` when ``find`` knows ``key`` already; ``taken`` again, for
    the commit to answer should a concurrent request claim the key first."""
    if find(key) is not None:
        raise Conflict(taken)
    return taken


def require(find: Callable[[Any], Any], key: Any, field: str, what: str) -> Any:
    """The row a request refers to in ``field`` (``find`` looks it up by key); a 422 naming
    the field if it is unknown."""
    if key is None:
        return None
    found = find(key)
    if found is None:
        reason = f"{what} {key} tidak dikenal."
        raise RuleBroken(reason, fields={field: [reason]})
    return found


# --- dictionary ---------------------------------------------------------------------------


def create_competency(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.registry_sql)
        taken = unclaimed(repo.competency, data["code"], f"Kompetensi {data['code']} sudah ada.")
        repo.add_competency(
            Competency(
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                description=data.get("description"),
            )
        )
        repo.set_levels(data["code"], data.get("levels", []))
        commit(uow, taken)
        return repo.competency_view(data["code"])


def update_competency(uow: UnitOfWork, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.registry_sql)
        competency = repo.competency(code, lock=True)
        if competency is None:
            raise NotFound(f"Kompetensi {code} tidak ditemukan.")
        for name in ("name", "description"):
            if name in changes:
                setattr(competency, name, changes[name])
        repo.set_levels(code, changes.get("levels", []))
        competency.updated_at = uow.clock.now()
        uow.commit()
        return repo.competency_view(code)


def set_grade_default(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    with uow:
        try:
            domain.check_grade(data["kind"], data["grade"] or None)
        except ValueError as exc:
            raise RuleBroken(str(exc), fields={"grade": [str(exc)]}) from None
        repo = uow.repository(repository.registry_sql)
        require(repo.competency, data["competency_code"], "competency_code", "Kompetensi")
        repo.set_grade_default(data)
        uow.commit()
        return data


# --- units --------------------------------------------------------------------------------


def create_unit(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.registry_sql)
        taken = unclaimed(repo.unit, data["code"], f"Unit {data['code']} sudah ada.")
        require(repo.unit, data.get("parent_code"), "parent_code", "Unit induk")
        unit = Unit(**{k: data.get(k) for k in ("code", "name", "kind", "parent_code")})
        unit.updated_at = uow.clock.now()
        repo.add_unit(unit)
        uow.publish("unit.registered", views.unit_event(unit), subject=unit.code)
        commit(uow, taken)
        return views.unit_out(unit)


def update_unit(uow: UnitOfWork, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.registry_sql)
        unit = repo.unit(code, lock=True)
        if unit is None:
            raise NotFound(f"Unit {code} tidak ditemukan.")
        parent = changes.get("parent_code")
        if parent is not None:
            require(repo.unit, parent, "parent_code", "Unit induk")
            if parent in repo.subtree_codes(code):
                reason = "Unit induk tidak boleh unit itu sendiri atau salah satu sub-unitnya."
                raise RuleBroken(reason, fields={"parent_code": [reason]})
        for name in ("name", "kind", "parent_code"):
            if name in changes:
                setattr(unit, name, changes[name])
        unit.updated_at = uow.clock.now()
        uow.publish("unit.updated", views.unit_event(unit), subject=unit.code)
        uow.commit()
        return views.unit_out(unit)


def announce_units(uow: UnitOfWork) -> int:
    """Announce every unit again (``unit.updated``): for units older than the events, or a
    new subscriber that must learn the whole tree."""
    with uow:
        every = uow.repository(repository.registry_sql).units()
        uow.publish_many("unit.updated", [(unit.code, views.unit_event(unit)) for unit in every])
        uow.commit()
        return len(every)


# --- jabatan ------------------------------------------------------------------------------


def create_jabatan(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    """A new jabatan takes the grade defaults; ``standards`` overrides or adds cells."""
    with uow:
        repo = uow.repository(repository.registry_sql)
        taken = unclaimed(repo.jabatan, data["code"], f"Jabatan {data['code']} sudah ada.")
        require(repo.unit, data["unit_code"], "unit_code", "Unit")
        levels = domain.default_standard(data["kind"], data.get("grade"), repo.grade_defaults())
        levels.update(data.get("standards", {}))
        _check_competencies(repo, levels, "standards")
        jabatan = Jabatan(
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            grade=data.get("grade"),
            unit_code=data["unit_code"],
        )
        repo.add_jabatan(jabatan, levels)
        commit(uow, taken)
        return repo.jabatan_view(data["code"])


def _check_competencies(repo: repository.RegistryRepository, codes: Any, field: str) -> None:
    unknown = sorted(set(codes) - repo.known_competencies(codes))
    if unknown:
        raise RuleBroken(
            f"Kompetensi tidak dikenal: {', '.join(unknown)}.",
            fields={field: {code: ["Kompetensi tidak dikenal."] for code in unknown}},
        )


def update_jabatan(uow: UnitOfWork, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    with uow:
        repo = uow.repository(repository.registry_sql)
        jabatan = repo.jabatan(code, lock=True)
        if jabatan is None:
            raise NotFound(f"Jabatan {code} tidak ditemukan.")
        if "unit_code" in changes:
            require(repo.unit, changes["unit_code"], "unit_code", "Unit")
        for name in ("name", "unit_code"):
            if name in changes:
                setattr(jabatan, name, changes[name])
        jabatan.updated_at = uow.clock.now()
        uow.commit()
        return repo.jabatan_view(code)


def set_standard(uow: UnitOfWork, code: str, competency_code: str, level: int) -> dict[str, Any]:
    """Change one cell of a job standard, or add a (technical) competency to it."""
    with uow:
        repo = uow.repository(repository.registry_sql)
        if repo.jabatan(code, lock=True) is None:
            raise NotFound(f"Jabatan {code} tidak ditemukan.")
        if repo.competency(competency_code) is None:
            raise NotFound(f"Kompetensi {competency_code} tidak ditemukan.")
        repo.set_standard(code, competency_code, level)
        uow.commit()
        return repo.jabatan_view(code)


def remove_standard(uow: UnitOfWork, code: str, competency_code: str) -> dict[str, Any]:
    """Take a technical competency out of a job standard (the others are always required)."""
    with uow:
        repo = uow.repository(repository.registry_sql)
        if repo.jabatan(code, lock=True) is None:
            raise NotFound(f"Jabatan {code} tidak ditemukan.")
        competency = repo.competency(competency_code)
        if competency is None:
            raise NotFound(f"Kompetensi {competency_code} tidak ditemukan.")
        if competency.kind in domain.MANAGERIAL_KINDS:
            raise RuleBroken(
                "Kompetensi manajerial dan sosial kultural selalu menjadi bagian standar; "
                "ubah levelnya saja."
            )
        repo.remove_standard(code, competency_code)
        uow.commit()
        return repo.jabatan_view(code)


# --- employees ----------------------------------------------------------------------------

EMPLOYEE_FIELDS = (
    "name",
    "golongan",
    "unit_code",
    "jabatan_code",
    "email",
    "phone",
    "supervisor_nip",
    "language",
)


def register_employee(uow: UnitOfWork, caller: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """Register an employee (version 1) in a unit the caller reaches, and announce it with
    employee.registered."""
    with uow:
        repo = uow.repository(repository.registry_sql)
        repo.check_unit(caller, data["unit_code"])
        nip = domain.parse_nip(data["nip"])
        taken = unclaimed(
            repo.employee, nip.value, f"Pegawai dengan NIP {nip.formatted()} sudah terdaftar."
        )
        values = {name: data.get(name) for name in EMPLOYEE_FIELDS}
        values["language"] = values["language"] or "id"
        _check_references(repo, nip.value, values)
        employee = Employee(
            nip=nip.value,
            sex=nip.sex,
            birth_date=nip.birth_date,
            appointed_on=nip.appointed,
            version=1,
            **values,
        )
        repo.add_employee(employee)
        _announce(uow, repo, "employee.registered", employee)
        commit(uow, taken)
        return views.employee_out(employee)


def update_employee(
    uow: UnitOfWork, caller: Principal, nip: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply changes to an employee the caller reaches (moving them only to a unit the caller
    reaches); if anything changed, bump the version and publish employee.updated."""
    with uow:
        repo = uow.repository(repository.registry_sql)
        repo.check_employee(caller, nip)
        if "unit_code" in changes:
            repo.check_unit(caller, changes["unit_code"])
        employee = repo.employee(nip, lock=True)
        if employee is None:
            raise NotFound(f"Pegawai dengan NIP {nip} tidak ditemukan.")
        changed = {
            name: value
            for name, value in changes.items()
            if name in EMPLOYEE_FIELDS and getattr(employee, name) != value
        }
        if not changed:
            return views.employee_out(employee)
        _check_references(repo, nip, changed)
        for name, value in changed.items():
            setattr(employee, name, value)
        employee.version += 1
        employee.updated_at = uow.clock.now()
        repo.save_employee(employee)
        _announce(uow, repo, "employee.updated", employee)
        uow.commit()
        return views.employee_out(employee)


def _check_references(
    repo: repository.RegistryRepository, nip: str, values: dict[str, Any]
) -> None:
    if "unit_code" in values:
        require(repo.unit, values["unit_code"], "unit_code", "Unit")
    if "jabatan_code" in values:
        require(repo.jabatan, values["jabatan_code"], "jabatan_code", "Jabatan")
    supervisor = values.get("supervisor_nip")
    if supervisor == nip:
        reason = "Atasan tidak boleh pegawai itu sendiri."
        raise RuleBroken(reason, fields={"supervisor_nip": [reason]})
    if supervisor is not None and repo.employee(supervisor) is None:
        reason = f"Atasan dengan NIP {supervisor} belum terdaftar; daftarkan atasan lebih dulu."
        raise RuleBroken(reason, fields={"supervisor_nip": [reason]})


def _announce(
    uow: UnitOfWork, repo: repository.RegistryRepository, event: str, employee: Employee
) -> None:
    unit = repo.unit(employee.unit_code)
    jabatan = repo.jabatan(employee.jabatan_code) if employee.jabatan_code else None
    uow.publish(event, views.employee_state(employee, unit, jabatan), subject=employee.nip)


# --- development history (from training) --------------------------------------------------


def record_development(uow: UnitOfWork, event: Event) -> None:
    """Keep a completed development activity; the enrollment id makes it count once."""
    data = event.data
    uow.repository(repository.registry_sql).add_development(
        {
            "enrollment_id": data["enrollment_id"],
            "employee_nip": data["employee_nip"],
            "unit_code": data["unit_code"],
            "proposal_id": data.get("proposal_id"),
            "programme_code": data.get("programme_code"),
            "programme_title": data["programme_title"],
            "form": data["form"],
            "activity": data.get("activity"),
            "jp": data["jp"],
            "started_on": data["started_on"],
            "ended_on": data["ended_on"],
            "jp_year": data["jp_year"],
            "competency_codes": list(data["competency_codes"]),
            "cost_rupiah": data["cost_rupiah"],
        }
    )
