"""How stored rows are shown: HTTP payloads and the state carried by events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from asn_shared.shown import attributes

from . import domain
from .models import Assessment, AssessmentResult, Employee, Jabatan, Unit


def number(value: Decimal | float | int) -> float:
    return float(value)


def unit_out(unit: Unit) -> dict[str, Any]:
    return attributes(unit, "code", "name", "kind", "parent_code")


def standard_cell(cell: domain.StandardCell) -> dict[str, Any]:
    return attributes(cell, "competency_code", "competency_name", "kind", "required_level")


def jabatan_out(jabatan: Jabatan, cells: list[domain.StandardCell]) -> dict[str, Any]:
    return {
        **attributes(jabatan, "code", "name", "kind", "grade", "unit_code"),
        "standards": [standard_cell(cell) for cell in cells],
    }


def employee_out(employee: Employee) -> dict[str, Any]:
    return {
        "nip": employee.nip,
        "nip_formatted": domain.format_nip(employee.nip),
        **attributes(
            employee,
            *("name", "sex", "birth_date", "appointed_on", "golongan", "unit_code"),
            *("jabatan_code", "email", "phone", "supervisor_nip", "language", "version"),
        ),
    }


def category_out(assessment: Assessment) -> dict[str, str]:
    return {
        "scheme": assessment.category_scheme,
        "code": assessment.category_code,
        "label": assessment.category_label,
    }


def result_out(result: AssessmentResult) -> dict[str, Any]:
    return {
        **attributes(result, "competency_code", "competency_name", "kind", "required_level"),
        "achieved_level": number(result.achieved_level),
        "gap": number(result.gap),
    }


def assessment_out(assessment: Assessment, results: list[AssessmentResult]) -> dict[str, Any]:
    return {
        "id": assessment.id,
        "nip": assessment.employee_nip,
        **attributes(assessment, "jabatan_code", "unit_code", "assessed_on", "method"),
        "jpm": number(assessment.jpm),
        "jpm_method": assessment.jpm_method,
        "category": category_out(assessment),
        "current": assessment.superseded_by is None,
        **attributes(assessment, "supersedes", "superseded_by", "import_id"),
        "results": [result_out(result) for result in results],
    }


# --- event-carried state ------------------------------------------------------------------


def unit_state(unit: Unit) -> dict[str, Any]:
    return attributes(unit, "code", "name", "parent_code")


def unit_event(unit: Unit) -> dict[str, Any]:
    """A unit as its own ``unit.*`` events carry it."""
    return {**unit_state(unit), "kind": unit.kind, "changed_at": unit.updated_at}


def jabatan_state(jabatan: Jabatan) -> dict[str, Any]:
    return attributes(jabatan, "code", "name", "kind", "grade")


def employee_state(employee: Employee, unit: Unit, jabatan: Jabatan | None) -> dict[str, Any]:
    """An employee as the catalogue's ``Employee`` schema carries it."""
    return {
        **attributes(employee, "nip", "name", "sex", "golongan"),
        "unit": unit_state(unit),
        "jabatan": jabatan_state(jabatan) if jabatan is not None else None,
        **attributes(employee, "email", "phone", "supervisor_nip", "language", "version"),
    }
