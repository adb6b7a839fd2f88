"""How stored rows are shown: HTTP payloads and the state carried by events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import domain
from .models import Assessment, AssessmentResult, Employee, Jabatan, Unit


def number(value: Decimal | float | int) -> float:
    return float(value)


def unit_out(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent_code": unit.parent_code,
    }


def standard_cell(cell: domain.StandardCell) -> dict[str, Any]:
    return {
        "competency_code": cell.competency_code,
        "competency_name": cell.competency_name,
        "kind": cell.kind,
        "required_level": cell.required_level,
    }


def jabatan_out(jabatan: Jabatan, cells: list[domain.StandardCell]) -> dict[str, Any]:
    return {
        "code": jabatan.code,
        "name": jabatan.name,
        "kind": jabatan.kind,
        "grade": jabatan.grade,
        "unit_code": jabatan.unit_code,
        "standards": [standard_cell(cell) for cell in cells],
    }


def employee_out(employee: Employee) -> dict[str, Any]:
    return {
        "nip": employee.nip,
        "nip_formatted": domain.format_nip(employee.nip),
        "name": employee.name,
        "sex": employee.sex,
        "birth_date": employee.birth_date,
        "appointed_on": employee.appointed_on,
        "golongan": employee.golongan,
        "unit_code": employee.unit_code,
        "jabatan_code": employee.jabatan_code,
        "email": employee.email,
        "phone": employee.phone,
        "supervisor_nip": employee.supervisor_nip,
        "language": employee.language,
        "version": employee.version,
    }


def category_out(assessment: Assessment) -> dict[str, str]:
    return {
        "scheme": assessment.category_scheme,
        "code": assessment.category_code,
        "label": assessment.category_label,
    }


def result_out(result: AssessmentResult) -> dict[str, Any]:
    return {
        "competency_code": result.competency_code,
        "competency_name": result.competency_name,
        "kind": result.kind,
        "required_level": result.required_level,
        "achieved_level": number(result.achieved_level),
        "gap": number(result.gap),
    }


def assessment_out(assessment: Assessment, results: list[AssessmentResult]) -> dict[str, Any]:
    return {
        "id": assessment.id,
        "nip": assessment.employee_nip,
        "jabatan_code": assessment.jabatan_code,
        "unit_code": assessment.unit_code,
        "assessed_on": assessment.assessed_on,
        "method": assessment.method,
        "jpm": number(assessment.jpm),
        "jpm_method": assessment.jpm_method,
        "category": category_out(assessment),
        "current": assessment.superseded_by is None,
        "supersedes": assessment.supersedes,
        "superseded_by": assessment.superseded_by,
        "import_id": assessment.import_id,
        "results": [result_out(result) for result in results],
    }


# --- event-carried state ------------------------------------------------------------------


def unit_state(unit: Unit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "parent_code": unit.parent_code}


def unit_event(unit: Unit) -> dict[str, Any]:
    """A unit as its own ``unit.*`` events carry it."""
    return {**unit_state(unit), "kind": unit.kind, "changed_at": unit.updated_at}


def jabatan_state(jabatan: Jabatan) -> dict[str, Any]:
    return {
        "code": jabatan.code,
        "name": jabatan.name,
        "kind": jabatan.kind,
        "grade": jabatan.grade,
    }


def employee_state(employee: Employee, unit: Unit, jabatan: Jabatan | None) -> dict[str, Any]:
    """An employee as the catalogue's ``Employee`` schema carries it."""
    return {
        "nip": employee.nip,
        "name": employee.name,
        "sex": employee.sex,
        "golongan": employee.golongan,
        "unit": unit_state(unit),
        "jabatan": jabatan_state(jabatan) if jabatan is not None else None,
        "email": employee.email,
        "phone": employee.phone,
        "supervisor_nip": employee.supervisor_nip,
        "language": employee.language,
        "version": employee.version,
    }
