"""Reads: single resources, filtered pages, the employee profile and the unit gap report.

Longer than most modules on purpose: every read of the service is here, built from the same
few query pieces (unit subtrees, the current assessment), so that they stay consistent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import CTE, Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from asn_shared.auth import Principal
from asn_shared.errors import NotFound
from asn_shared.persistence import fetch_page, page_of, read
from asn_shared.units import subtree
from asn_shared.web import page_response

from . import access, domain, views
from .models import (
    Assessment,
    AssessmentResult,
    Competency,
    CompetencyLevel,
    DevelopmentActivity,
    Employee,
    GradeDefault,
    Jabatan,
    JabatanStandard,
    LevelLabel,
    Unit,
)

T = TypeVar("T")


def _page_joined(
    session: Session,
    statement: Select[Any],
    query: dict[str, Any],
    key: str,
    load: Callable[[Session, list[Any]], Mapping[Any, Any]],
    show: Callable[[Any, Any], dict[str, Any]],
) -> dict[str, Any]:
    """``page_of`` for rows shown with rows of their own: ``load`` reads those of the whole
    page in one query (by each row's ``key``), and ``show`` gets each row with its own."""
    rows, total = fetch_page(session, statement, page=query["page"], per_page=query["per_page"])
    joined = load(session, [getattr(row, key) for row in rows])
    items = [show(row, joined[getattr(row, key)]) for row in rows]
    return page_response(items, total=total, page=query["page"], per_page=query["per_page"])


def existing(session: Session, model: type[T], key: Any, missing: str) -> T:
    """The row of ``model`` at ``key``; NotFound with the ``missing`` sentence without it."""
    found = session.get(model, key)
    if found is None:
        raise NotFound(missing)
    return found


def where_given(statement: Select[Any], query: dict[str, Any], **columns: Any) -> Select[Any]:
    """``statement`` narrowed, for each of ``columns`` the query gives a value for, to the
    rows whose column holds that value."""
    for name, column in columns.items():
        if query.get(name):
            statement = statement.where(column == query[name])
    return statement


# --- units --------------------------------------------------------------------------------


def unit_tree(code: str) -> CTE:
    """A unit and all its sub-units, however deep."""
    return subtree(code, Unit.__table__)


def subtree_codes(session: Session, code: str) -> list[str]:
    return list(session.scalars(select(unit_tree(code).c.code)))


def unit_filter(column, code: str, include_sub_units: bool):
    if include_sub_units:
        return column.in_(select(unit_tree(code).c.code))
    return column == code


@read
def unit(session: Session, code: str) -> dict[str, Any]:
    found = existing(session, Unit, code, f"Unit {code} tidak ditemukan.")
    return views.unit_out(found)


@read
def units(session: Session, query: dict[str, Any]) -> dict[str, Any]:
    statement = select(Unit).order_by(Unit.code)
    if query.get("parent_code"):
        statement = statement.where(Unit.parent_code == query["parent_code"])
    if query.get("roots"):
        statement = statement.where(Unit.parent_code.is_(None))
    return page_of(session, statement, query, views.unit_out)


# --- dictionary ---------------------------------------------------------------------------


@read
def level_labels(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(LevelLabel).order_by(LevelLabel.level))
    return [{"level": row.level, "label": row.label} for row in rows]


def _competency_out(competency: Competency, levels, labels: dict[int, str]) -> dict[str, Any]:
    return {
        "code": competency.code,
        "name": competency.name,
        "kind": competency.kind,
        "description": competency.description,
        "levels": [
            {"level": lvl.level, "label": labels.get(lvl.level, ""), "description": lvl.description}
            for lvl in sorted(levels, key=lambda lvl: lvl.level)
        ],
    }


def _levels_of(session: Session, codes: list[str]) -> dict[str, list[CompetencyLevel]]:
    found = defaultdict(list)
    rows = session.scalars(
        select(CompetencyLevel).where(CompetencyLevel.competency_code.in_(codes))
    )
    for row in rows:
        found[row.competency_code].append(row)
    return found


@read
def competency(session: Session, code: str) -> dict[str, Any]:
    found = existing(session, Competency, code, f"Kompetensi {code} tidak ditemukan.")
    labels = {row["level"]: row["label"] for row in level_labels.within(session)}
    return _competency_out(found, _levels_of(session, [code])[code], labels)


@read
def competencies(session: Session, query: dict[str, Any]) -> dict[str, Any]:
    statement = select(Competency).order_by(Competency.code)
    statement = where_given(statement, query, kind=Competency.kind)
    labels = {row["level"]: row["label"] for row in level_labels.within(session)}
    return _page_joined(
        session,
        statement,
        query,
        "code",
        _levels_of,
        lambda row, levels: _competency_out(row, levels, labels),
    )


@read
def grade_defaults(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(GradeDefault).order_by(
            GradeDefault.kind, GradeDefault.grade, GradeDefault.competency_code
        )
    )
    return [
        {
            "kind": row.kind,
            "grade": row.grade,
            "competency_code": row.competency_code,
            "level": row.level,
        }
        for row in rows
    ]


# --- jabatan ------------------------------------------------------------------------------


def standard_cells(session: Session, jabatan_codes: list[str]) -> dict[str, list]:
    """Each jabatan's standard: (competency, required level) cells, by competency code."""
    rows = session.execute(
        select(JabatanStandard, Competency)
        .join(Competency, Competency.code == JabatanStandard.competency_code)
        .where(JabatanStandard.jabatan_code.in_(jabatan_codes))
        .order_by(JabatanStandard.jabatan_code, JabatanStandard.competency_code)
    )
    cells: dict[str, list[domain.StandardCell]] = defaultdict(list)
    for cell, competency_row in rows:
        cells[cell.jabatan_code].append(
            domain.StandardCell(
                competency_row.code, competency_row.name, competency_row.kind, cell.required_level
            )
        )
    return cells


@read
def jabatan(session: Session, code: str) -> dict[str, Any]:
    found = existing(session, Jabatan, code, f"Jabatan {code} tidak ditemukan.")
    return views.jabatan_out(found, standard_cells(session, [code])[code])


@read
def jabatan_page(session: Session, query: dict[str, Any]) -> dict[str, Any]:
    statement = select(Jabatan).order_by(Jabatan.code)
    statement = where_given(statement, query, unit=Jabatan.unit_code, kind=Jabatan.kind)
    return _page_joined(session, statement, query, "code", standard_cells, views.jabatan_out)


# --- employees ----------------------------------------------------------------------------


@read
def employee(session: Session, caller: Principal, nip: str) -> dict[str, Any]:
    access.check_employee(session, caller, nip)
    return views.employee_out(_employee(session, nip))


def _employee(session: Session, nip: str) -> Employee:
    return existing(
        session, Employee, "".join(nip.split()), f"Pegawai dengan NIP {nip} tidak ditemukan."
    )


def current_assessment_join():
    """The current assessment of each employee against the jabatan they hold."""
    current = aliased(Assessment)
    condition = and_(
        current.employee_nip == Employee.nip,
        current.jabatan_code == Employee.jabatan_code,
        current.superseded_by.is_(None),
    )
    return current, condition


@read
def employees(session: Session, caller: Principal, query: dict[str, Any]) -> dict[str, Any]:
    query = access.narrow(session, caller, query)
    statement = select(Employee).order_by(Employee.nip)
    if query.get("unit"):
        statement = statement.where(
            unit_filter(Employee.unit_code, query["unit"], query["include_sub_units"])
        )
    if query.get("jabatan"):
        statement = statement.where(Employee.jabatan_code == query["jabatan"])
    if query.get("category"):
        current, condition = current_assessment_join()
        statement = statement.join(current, condition).where(
            current.category_code == query["category"]
        )
    return page_of(session, statement, query, views.employee_out)


# --- assessments --------------------------------------------------------------------------


def _results_of(session: Session, ids: list) -> dict[Any, list[AssessmentResult]]:
    found = defaultdict(list)
    rows = session.scalars(
        select(AssessmentResult)
        .where(AssessmentResult.assessment_id.in_(ids))
        .order_by(AssessmentResult.competency_code)
    )
    for row in rows:
        found[row.assessment_id].append(row)
    return found


@read
def assessment(session: Session, caller: Principal, assessment_id) -> dict[str, Any]:
    found = assessment_view(session, assessment_id)
    access.check_employee(session, caller, found["nip"])
    return found


def assessment_view(session: Session, assessment_id) -> dict[str, Any]:
    missing = f"Penilaian {assessment_id} tidak ditemukan."
    found = existing(session, Assessment, assessment_id, missing)
    return views.assessment_out(found, _results_of(session, [found.id])[found.id])


@read
def assessments(session: Session, caller: Principal, query: dict[str, Any]) -> dict[str, Any]:
    query = access.narrow(session, caller, query)
    statement = select(Assessment).order_by(
        Assessment.assessed_on.desc(), Assessment.recorded_at.desc(), Assessment.id
    )
    if query.get("nip"):
        statement = statement.where(Assessment.employee_nip == "".join(query["nip"].split()))
    if query.get("unit"):
        statement = statement.where(
            unit_filter(Assessment.unit_code, query["unit"], query["include_sub_units"])
        )
    statement = where_given(
        statement,
        query,
        jabatan=Assessment.jabatan_code,
        category=Assessment.category_code,
        import_id=Assessment.import_id,
    )
    if query.get("current_only"):
        statement = statement.where(Assessment.superseded_by.is_(None))
    return _page_joined(session, statement, query, "id", _results_of, views.assessment_out)


# --- profile ------------------------------------------------------------------------------


@read
def profile(session: Session, caller: Principal, nip: str) -> dict[str, Any]:
    """Current standard, latest assessment with gaps, JPM history, development and JP/year."""
    access.check_employee(session, caller, nip)
    person = _employee(session, nip)
    history = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.employee_nip == person.nip)
            .order_by(Assessment.assessed_on, Assessment.recorded_at)
        )
    )
    latest = _latest(history, person.jabatan_code)
    return {
        "employee": views.employee_out(person),
        "jabatan": jabatan.within(session, person.jabatan_code) if person.jabatan_code else None,
        "latest_assessment": (
            views.assessment_out(latest, _results_of(session, [latest.id])[latest.id])
            if latest is not None
            else None
        ),
        "jpm_history": [
            {
                "id": row.id,
                "assessed_on": row.assessed_on,
                "jabatan_code": row.jabatan_code,
                "method": row.method,
                "jpm": views.number(row.jpm),
                "category": views.category_out(row),
                "current": row.superseded_by is None,
            }
            for row in history
        ],
        "development": development(session, person.nip),
    }


def _latest(history: list[Assessment], jabatan_code: str | None) -> Assessment | None:
    """The current assessment against the jabatan held, else the newest current one."""
    current = [row for row in history if row.superseded_by is None]
    held = [row for row in current if row.jabatan_code == jabatan_code]
    chosen = held or current
    return chosen[-1] if chosen else None


def development(session: Session, nip: str) -> dict[str, Any]:
    rows = list(
        session.scalars(
            select(DevelopmentActivity)
            .where(DevelopmentActivity.employee_nip == nip)
            .order_by(DevelopmentActivity.ended_on, DevelopmentActivity.enrollment_id)
        )
    )
    per_year: dict[int, int] = defaultdict(int)
    for row in rows:
        per_year[row.jp_year] += row.jp
    return {
        "activities": [
            {
                "enrollment_id": row.enrollment_id,
                "programme_code": row.programme_code,
                "programme_title": row.programme_title,
                "form": row.form,
                "activity": row.activity,
                "jp": row.jp,
                "started_on": row.started_on,
                "ended_on": row.ended_on,
                "jp_year": row.jp_year,
                "competency_codes": list(row.competency_codes),
            }
            for row in rows
        ],
        "jp_per_year": [{"year": year, "jp": jp} for year, jp in sorted(per_year.items())],
    }


# --- unit gap report ----------------------------------------------------------------------


@read
def gap_report(
    session: Session,
    caller: Principal,
    code: str,
    include_sub_units: bool = True,
    year: int | None = None,
) -> dict[str, Any]:
    """Per competency: employees below standard and the mean gap; employees per category;
    with ``year``, the employees whose current assessment is dated in it.

    Counts each employee of the unit (and its sub-units) once, by their current assessment
    against the jabatan they hold.
    """
    access.check_unit(session, caller, code)
    existing(session, Unit, code, f"Unit {code} tidak ditemukan.")
    codes = subtree_codes(session, code) if include_sub_units else [code]
    in_units = Employee.unit_code.in_(codes)
    current, condition = current_assessment_join()
    staff = session.scalar(select(func.count()).select_from(Employee).where(in_units))
    assessed = session.scalar(
        select(func.count()).select_from(Employee).join(current, condition).where(in_units)
    )
    in_year = (
        session.scalar(
            select(func.count())
            .select_from(Employee)
            .join(current, condition)
            .where(in_units, func.extract("year", current.assessed_on) == year)
        )
        if year is not None
        else None
    )
    result = aliased(AssessmentResult)
    per_competency = session.execute(
        select(
            result.competency_code,
            func.min(result.competency_name),
            func.min(result.kind),
            func.count(),
            func.count().filter(result.gap < 0),
            func.avg(result.gap),
        )
        .select_from(Employee)
        .join(current, condition)
        .join(result, result.assessment_id == current.id)
        .where(in_units)
        .group_by(result.competency_code)
        .order_by(result.competency_code)
    )
    per_category = session.execute(
        select(current.category_scheme, current.category_code, current.category_label, func.count())
        .select_from(Employee)
        .join(current, condition)
        .where(in_units)
        .group_by(current.category_scheme, current.category_code, current.category_label)
        .order_by(current.category_scheme, current.category_code)
    )
    return {
        "unit_code": code,
        "units": sorted(codes),
        "employees": staff,
        "assessed": assessed,
        "year": year,
        "assessed_in_year": in_year,
        "competencies": [
            {
                "competency_code": row[0],
                "competency_name": row[1],
                "kind": row[2],
                "assessed": row[3],
                "below_standard": row[4],
                "mean_gap": round(float(row[5]), 2),
            }
            for row in per_competency
        ],
        "categories": [
            {"scheme": row[0], "code": row[1], "label": row[2], "employees": row[3]}
            for row in per_category
        ],
    }
