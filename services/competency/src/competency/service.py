"""The competency service's nameko entrypoints: decode, call a use case, encode.

Its length is that of the API: one short method per route, each with its OpenAPI summary,
kept together so the HTTP surface reads as one list.
"""

from __future__ import annotations

import uuid

from nameko.extensions import DependencyProvider
from sqlalchemy import select

from asn_shared.auth import ADMIN, EMPLOYEE, OPERATOR
from asn_shared.base import ServiceBase
from asn_shared.entrypoints import api, subscribe
from asn_shared.errors import NotFound
from asn_shared.persistence import make_engine
from asn_shared.settings import choice, of_container
from asn_shared.web import Problem, load_json, load_query, page_schema

from . import domain, importing, queries, recording, use_cases
from . import schemas as s
from .models import JpmCategory
from .settings import CompetencySettings

READERS = (ADMIN, OPERATOR, EMPLOYEE)  # the dictionary, units and jabatan are open to staff


class AssessmentRules(DependencyProvider):
    """JPM arithmetic and category scheme from configuration; a bad value stops start-up."""

    def setup(self) -> None:
        self.settings = of_container(self.container)
        self.rules = domain.Rules(self.settings.jpm_method, self.settings.jpm_scheme)

    def start(self) -> None:
        """The scheme must be one of the database's (table jpm_categories), or the service
        refuses to start rather than answer 500 to every assessment."""
        engine = make_engine(self.settings.database_url, pool_size=1)
        try:
            with engine.connect() as connection:
                schemes = sorted(connection.scalars(select(JpmCategory.scheme).distinct()))
        finally:
            engine.dispose()
        choice("JPM_SCHEME", self.rules.scheme, schemes)

    def get_dependency(self, worker_ctx) -> domain.Rules:
        return self.rules


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{value} bukan id yang dikenal.") from None


def _upload(request) -> tuple[bytes, str | None]:
    """The file of a multipart upload (field ``file``) or the raw request body (bounded by
    ``HTTP_MAX_BODY_BYTES``, see asn_shared.entrypoints.JsonApi)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Problem("Unggahan multipart memerlukan bagian bernama 'file'.")
        return upload.read(), upload.filename
    content = request.get_data()
    if not content:
        raise Problem("Isi permintaan kosong: kirim berkas CSV atau XLSX.")
    return content, None


class CompetencyService(ServiceBase):
    """Competency dictionary, job standards (jabatan), units, employees and assessments.

    Computes each competency gap, the JPM (Job Person Match) and its category, and announces
    employees (`employee.registered`, `employee.updated`) and results (`assessment.recorded`)
    on the `competency.events` exchange. Keeps each employee's development history from
    training's `enrollment.completed`. Texts for civil servants are in Bahasa Indonesia.
    """

    name = "competency"
    settings_class = CompetencySettings
    rules = AssessmentRules()

    # --- dictionary -----------------------------------------------------------------------

    @api(
        "GET",
        "/levels",
        roles=READERS,
        summary="Level labels 1-5",
        tags=["dictionary"],
        response=s.LevelLabelOut,
        many=True,
    )
    def list_levels(self, request):
        return queries.level_labels(self.db.unit_of_work())

    @api(
        "GET",
        "/competencies",
        roles=READERS,
        summary="List competencies",
        tags=["dictionary"],
        query=s.CompetencyQuery,
        response=page_schema(s.CompetencyOut),
    )
    def list_competencies(self, request):
        query = load_query(request, s.CompetencyQuery())
        return queries.competencies(self.db.unit_of_work(), query)

    @api(
        "POST",
        "/competencies",
        roles=(ADMIN,),
        summary="Add a technical competency",
        tags=["dictionary"],
        request=s.CompetencyIn,
        response=s.CompetencyOut,
        status=201,
    )
    def create_competency(self, request):
        data = load_json(request, s.CompetencyIn())
        return 201, use_cases.create_competency(self.db.unit_of_work(), data)

    @api(
        "GET",
        "/competencies/<code>",
        roles=READERS,
        summary="A competency with its levels",
        tags=["dictionary"],
        response=s.CompetencyOut,
    )
    def get_competency(self, request, code):
        return queries.competency(self.db.unit_of_work(), code)

    @api(
        "PATCH",
        "/competencies/<code>",
        roles=(ADMIN,),
        summary="Change a competency or level descriptions",
        tags=["dictionary"],
        request=s.CompetencyPatch,
        response=s.CompetencyOut,
    )
    def update_competency(self, request, code):
        changes = load_json(request, s.CompetencyPatch())
        return use_cases.update_competency(self.db.unit_of_work(), code, changes)

    @api(
        "GET",
        "/grade-defaults",
        roles=READERS,
        summary="Default required levels per jabatan kind and grade",
        tags=["dictionary"],
        response=s.GradeDefault,
        many=True,
    )
    def list_grade_defaults(self, request):
        return queries.grade_defaults(self.db.unit_of_work())

    @api(
        "PUT",
        "/grade-defaults",
        roles=(ADMIN,),
        summary="Set one default level (for new jabatan)",
        tags=["dictionary"],
        request=s.GradeDefault,
        response=s.GradeDefault,
    )
    def set_grade_default(self, request):
        data = load_json(request, s.GradeDefault())
        return use_cases.set_grade_default(self.db.unit_of_work(), data)

    # --- units ----------------------------------------------------------------------------

    @api(
        "GET",
        "/units",
        roles=READERS,
        summary="List units",
        tags=["units"],
        query=s.UnitQuery,
        response=page_schema(s.UnitOut),
    )
    def list_units(self, request):
        query = load_query(request, s.UnitQuery())
        return queries.units(self.db.unit_of_work(), query)

    @api(
        "POST",
        "/units",
        roles=(ADMIN,),
        summary="Create a unit",
        tags=["units"],
        request=s.UnitIn,
        response=s.UnitOut,
        status=201,
    )
    def create_unit(self, request):
        data = load_json(request, s.UnitIn())
        return 201, use_cases.create_unit(self.db.unit_of_work(), data)

    @api(
        "GET", "/units/<code>", roles=READERS, summary="A unit", tags=["units"], response=s.UnitOut
    )
    def get_unit(self, request, code):
        return queries.unit(self.db.unit_of_work(), code)

    @api(
        "PATCH",
        "/units/<code>",
        roles=(ADMIN,),
        summary="Rename or move a unit",
        tags=["units"],
        request=s.UnitPatch,
        response=s.UnitOut,
    )
    def update_unit(self, request, code):
        changes = load_json(request, s.UnitPatch())
        return use_cases.update_unit(self.db.unit_of_work(), code, changes)

    @api(
        "POST",
        "/units/announcements",
        roles=(ADMIN,),
        summary="Announce every unit again (unit.updated), e.g. for a new subscriber",
        tags=["units"],
        response=s.Announced,
        status=202,
    )
    def announce_units(self, request):
        return 202, {"announced": use_cases.announce_units(self.db.unit_of_work())}

    @api(
        "GET",
        "/units/<code>/gap-report",
        roles=(ADMIN, OPERATOR),
        summary="Employees below standard and mean gap per competency; JPM categories",
        tags=["units"],
        query=s.GapReportQuery,
        response=s.GapReportOut,
    )
    def unit_gap_report(self, request, code):
        query = load_query(request, s.GapReportQuery())
        uow, caller = self.db.unit_of_work(), request.principal
        return queries.gap_report(uow, caller, code, query["include_sub_units"], query.get("year"))

    # --- jabatan --------------------------------------------------------------------------

    @api(
        "GET",
        "/jabatan",
        roles=READERS,
        summary="List jabatan with their standards",
        tags=["jabatan"],
        query=s.JabatanQuery,
        response=page_schema(s.JabatanOut),
    )
    def list_jabatan(self, request):
        query = load_query(request, s.JabatanQuery())
        return queries.jabatan_page(self.db.unit_of_work(), query)

    @api(
        "POST",
        "/jabatan",
        roles=(ADMIN,),
        summary="Create a jabatan; its standard starts at the grade defaults",
        tags=["jabatan"],
        request=s.JabatanIn,
        response=s.JabatanOut,
        status=201,
    )
    def create_jabatan(self, request):
        data = load_json(request, s.JabatanIn())
        return 201, use_cases.create_jabatan(self.db.unit_of_work(), data)

    @api(
        "GET",
        "/jabatan/<code>",
        roles=READERS,
        summary="A jabatan with its standard",
        tags=["jabatan"],
        response=s.JabatanOut,
    )
    def get_jabatan(self, request, code):
        return queries.jabatan(self.db.unit_of_work(), code)

    @api(
        "PATCH",
        "/jabatan/<code>",
        roles=(ADMIN,),
        summary="Rename a jabatan or move it to another unit",
        tags=["jabatan"],
        request=s.JabatanPatch,
        response=s.JabatanOut,
    )
    def update_jabatan(self, request, code):
        changes = load_json(request, s.JabatanPatch())
        return use_cases.update_jabatan(self.db.unit_of_work(), code, changes)

    @api(
        "PUT",
        "/jabatan/<code>/standards/<competency_code>",
        roles=(ADMIN,),
        summary="Set the required level of one competency (adds a technical one)",
        tags=["jabatan"],
        request=s.StandardCellIn,
        response=s.JabatanOut,
    )
    def set_standard(self, request, code, competency_code):
        data = load_json(request, s.StandardCellIn())
        return use_cases.set_standard(
            self.db.unit_of_work(), code, competency_code, data["required_level"]
        )

    @api(
        "DELETE",
        "/jabatan/<code>/standards/<competency_code>",
        roles=(ADMIN,),
        summary="Remove a technical competency from a standard",
        tags=["jabatan"],
        response=s.JabatanOut,
    )
    def remove_standard(self, request, code, competency_code):
        return use_cases.remove_standard(self.db.unit_of_work(), code, competency_code)

    # --- employees ------------------------------------------------------------------------

    @api(
        "GET",
        "/employees",
        roles=(ADMIN, OPERATOR),
        summary="List employees",
        tags=["employees"],
        query=s.EmployeeQuery,
        response=page_schema(s.EmployeeOut),
    )
    def list_employees(self, request):
        query = load_query(request, s.EmployeeQuery())
        return queries.employees(self.db.unit_of_work(), request.principal, query)

    @api(
        "POST",
        "/employees",
        roles=(ADMIN, OPERATOR),
        summary="Register an employee (publishes employee.registered)",
        tags=["employees"],
        request=s.EmployeeIn,
        response=s.EmployeeOut,
        status=201,
    )
    def register_employee(self, request):
        data = load_json(request, s.EmployeeIn())
        return 201, use_cases.register_employee(self.db.unit_of_work(), request.principal, data)

    @api(
        "GET",
        "/employees/<nip>",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="An employee",
        tags=["employees"],
        response=s.EmployeeOut,
    )
    def get_employee(self, request, nip):
        return queries.employee(self.db.unit_of_work(), request.principal, nip)

    @api(
        "PATCH",
        "/employees/<nip>",
        roles=(ADMIN, OPERATOR),
        summary="Change an employee (publishes employee.updated)",
        tags=["employees"],
        request=s.EmployeePatch,
        response=s.EmployeeOut,
    )
    def update_employee(self, request, nip):
        changes = load_json(request, s.EmployeePatch())
        uow, nip = self.db.unit_of_work(), "".join(nip.split())
        return use_cases.update_employee(uow, request.principal, nip, changes)

    @api(
        "GET",
        "/employees/<nip>/profile",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="Standard, latest assessment with gaps, JPM history, development and JP/year",
        tags=["employees"],
        response=s.ProfileOut,
    )
    def employee_profile(self, request, nip):
        return queries.profile(self.db.unit_of_work(), request.principal, nip)

    # --- assessments ----------------------------------------------------------------------

    @api(
        "GET",
        "/assessments",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="List assessments",
        tags=["assessments"],
        query=s.AssessmentQuery,
        response=page_schema(s.AssessmentOut),
    )
    def list_assessments(self, request):
        query = load_query(request, s.AssessmentQuery())
        return queries.assessments(self.db.unit_of_work(), request.principal, query)

    @api(
        "POST",
        "/assessments",
        roles=(ADMIN, OPERATOR),
        summary="Record one assessment (publishes assessment.recorded)",
        tags=["assessments"],
        request=s.AssessmentIn,
        response=s.AssessmentOut,
        status=201,
    )
    def record_assessment(self, request):
        data = load_json(request, s.AssessmentIn())
        uow, caller = self.db.unit_of_work(), request.principal
        return 201, recording.record_assessment(uow, self.rules, caller, data)

    @api(
        "GET",
        "/assessments/<assessment_id>",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="An assessment with its gaps",
        tags=["assessments"],
        response=s.AssessmentOut,
    )
    def get_assessment(self, request, assessment_id):
        uow = self.db.unit_of_work()
        return queries.assessment(uow, request.principal, _uuid(assessment_id))

    @api(
        "POST",
        "/assessment-imports",
        roles=(ADMIN,),
        summary="Import a CSV or XLSX file of results (body: the file, or multipart 'file'); "
        "201 with the row report, 200 with the first report when the file was imported before",
        tags=["assessments"],
        query=s.ImportQuery,
        response=s.ImportReport,
        status=201,
    )
    def import_assessments(self, request):
        query = load_query(request, s.ImportQuery())
        content, uploaded_name = _upload(request)
        created, report = importing.import_assessments(
            self.db.unit_of_work(),
            self.rules,
            content,
            filename=query.get("filename") or uploaded_name,
            fmt=query.get("format"),
            first_row=query["first_row"],
        )
        return (201 if created else 200), report

    # --- events in ------------------------------------------------------------------------

    @subscribe("enrollment.completed", consumer="development", formerly="on_enrollment_completed")
    def on_enrollment_completed(self, event):
        self.db.handle_once(event, use_cases.record_development)
