"""The training service's nameko entrypoints: decode, call a use case, encode."""

from __future__ import annotations

import uuid
from datetime import date

from asn_shared.auth import ADMIN, EMPLOYEE, OPERATOR
from asn_shared.base import ServiceBase
from asn_shared.entrypoints import api, subscribe
from asn_shared.errors import NotFound
from asn_shared.events.catalog import AssessmentReviewed
from asn_shared.units import UnitTreeProjection
from asn_shared.web import load_json, load_query

from .report_schemas import GapCostOut, GapCostQuery
from .schemas import (
    ActivityOut,
    ActivityUpdate,
    ApprovalIn,
    BatchIn,
    BatchOut,
    CancellationIn,
    CompletionIn,
    DevelopmentRecordIn,
    EnrollmentIn,
    EnrollmentOut,
    EnrollmentPage,
    EnrollmentQuery,
    JpLedgerOut,
    LedgerEntryOut,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePage,
    ProgrammeQuery,
    ProposalOut,
    ProposalPage,
    ProposalQuery,
    UnderMinimumOut,
    UnderMinimumQuery,
    YearQuery,
)
from .settings import TrainingSettings
from .use_cases import (
    catalogue,
    decisions,
    employees,
    enrolment,
    ledger,
    planning,
    proposals,
    reports,
)


def _id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} {value} tidak ada.") from None


class TrainingService(ServiceBase, UnitTreeProjection):
    """Programme catalogue, development proposals from competency gaps, enrolment into
    batches, completion and the 20 JP ledger of every ASN (1 JP = 45 minutes).

    Admins reach everything; operators the proposals, enrolments and ledgers of their units
    and sub-units (known from ``unit.*`` events); employees the catalogue and their own."""

    name = "training"
    settings_class = TrainingSettings

    # --- events in ---------------------------------------------------------------------

    @subscribe(
        "employee.registered", consumer="employee_registrations", formerly="on_employee_registered"
    )
    def on_employee_registered(self, event):
        self.db.handle_once(event, employees.record_employee)

    @subscribe("employee.updated", consumer="employee_updates", formerly="on_employee_updated")
    def on_employee_updated(self, event):
        self.db.handle_once(event, employees.record_employee)

    @subscribe(
        "assessment.recorded",
        consumer="planning",
        formerly="on_assessment_recorded",
        own_subject=True,  # one employee's rows; seats and batches change elsewhere
    )
    def on_assessment_recorded(self, event):
        self.db.handle_once(event, planning.record_assessment, planning.prepare)

    @subscribe("budget.reserved", consumer="budget_reservations", formerly="on_budget_reserved")
    def on_budget_reserved(self, event):
        self.db.handle_once(event, decisions.budget_reserved, decisions.prepare)

    @subscribe("budget.rejected", consumer="budget_rejections", formerly="on_budget_rejected")
    def on_budget_rejected(self, event):
        self.db.handle_once(event, decisions.budget_rejected, decisions.prepare)

    # --- catalogue -----------------------------------------------------------------------

    @api(
        "GET",
        "/activities",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="Forms and kinds of development, with their default JP",
        tags=["catalogue"],
        response=ActivityOut,
        many=True,
    )
    def list_activities(self, request):
        return ActivityOut(many=True).dump(catalogue.list_activities(self.db.unit_of_work()))

    @api(
        "PUT",
        "/activities/<code>",
        roles=(ADMIN,),
        summary="Change the default JP of a kind of development",
        tags=["catalogue"],
        request=ActivityUpdate,
        response=ActivityOut,
    )
    def update_activity(self, request, code):
        command = load_json(request, ActivityUpdate())
        view = catalogue.update_activity(self.db.unit_of_work(), code, command["default_jp"])
        return ActivityOut().dump(view)

    @api(
        "POST",
        "/programmes",
        roles=(ADMIN,),
        summary="Add a programme (and its batches) to the catalogue",
        tags=["catalogue"],
        request=ProgrammeIn,
        response=ProgrammeOut,
        status=201,
    )
    def create_programme(self, request):
        command = load_json(request, ProgrammeIn())
        return 201, ProgrammeOut().dump(catalogue.create_programme(self.db.unit_of_work(), command))

    @api(
        "GET",
        "/programmes",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="The catalogue, by competency developed and form",
        tags=["catalogue"],
        query=ProgrammeQuery,
        response=ProgrammePage,
    )
    def list_programmes(self, request):
        query = load_query(request, ProgrammeQuery())
        return ProgrammePage().dump(catalogue.list_programmes(self.db.unit_of_work(), query))

    @api(
        "GET",
        "/programmes/<code>",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="One programme with its batches",
        tags=["catalogue"],
        response=ProgrammeOut,
    )
    def get_programme(self, request, code):
        return ProgrammeOut().dump(catalogue.get_programme(self.db.unit_of_work(), code))

    @api(
        "POST",
        "/programmes/<code>/batches",
        roles=(ADMIN,),
        summary="Add a batch (angkatan) to a programme",
        tags=["catalogue"],
        request=BatchIn,
        response=BatchOut,
        status=201,
    )
    def add_batch(self, request, code):
        command = load_json(request, BatchIn())
        return 201, BatchOut().dump(catalogue.add_batch(self.db.unit_of_work(), code, command))

    # --- proposals -----------------------------------------------------------------------

    @api(
        "GET",
        "/proposals",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="Proposals by employee, unit, status and fiscal year",
        tags=["proposals"],
        query=ProposalQuery,
        response=ProposalPage,
    )
    def list_proposals(self, request):
        query = load_query(request, ProposalQuery())
        view = proposals.list_proposals(self.db.unit_of_work(), query, request.principal)
        return ProposalPage().dump(view)

    @api(
        "GET",
        "/proposals/<proposal_id>",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="One proposal, its items and why each was proposed",
        tags=["proposals"],
        response=ProposalOut,
    )
    def get_proposal(self, request, proposal_id):
        view = proposals.get_proposal(
            self.db.unit_of_work(), _id(proposal_id, "Usulan"), request.principal
        )
        return ProposalOut().dump(view)

    @api(
        "GET",
        "/assessments/<assessment_id>/review",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="What an assessment led to: the proposal, or why none, per competency",
        tags=["proposals"],
        response=AssessmentReviewed,
    )
    def get_assessment_review(self, request, assessment_id):
        view = planning.get_assessment_review(
            self.db.unit_of_work(), _id(assessment_id, "Penilaian"), request.principal
        )
        return AssessmentReviewed().dump(view)

    @api(
        "POST",
        "/proposals/<proposal_id>/approve",
        roles=(ADMIN, OPERATOR),
        summary="An operator approves the items the budget left waiting (funded otherwise)",
        tags=["proposals"],
        request=ApprovalIn,
        response=ProposalOut,
    )
    def approve_proposal(self, request, proposal_id):
        command = load_json(request, ApprovalIn())
        view = decisions.approve_proposal(
            self.db.unit_of_work(), _id(proposal_id, "Usulan"), command["note"], request.principal
        )
        return ProposalOut().dump(view)

    @api(
        "POST",
        "/proposals/<proposal_id>/cancel",
        roles=(ADMIN, OPERATOR),
        summary="Cancel a proposal; its reservation is released through proposal.cancelled",
        tags=["proposals"],
        request=CancellationIn,
        response=ProposalOut,
    )
    def cancel_proposal(self, request, proposal_id):
        command = load_json(request, CancellationIn())
        view = decisions.cancel_proposal(
            self.db.unit_of_work(), _id(proposal_id, "Usulan"), command["reason"], request.principal
        )
        return ProposalOut().dump(view)

    @api(
        "POST",
        "/proposals/<proposal_id>/enrollments",
        roles=(ADMIN, OPERATOR),
        summary="Enrol the approved items in their batches (full: the next batch)",
        tags=["enrolment"],
        response=EnrollmentOut,
        many=True,
        status=201,
    )
    def enrol_proposal(self, request, proposal_id):
        views = enrolment.enrol_proposal(
            self.db.unit_of_work(), _id(proposal_id, "Usulan"), request.principal
        )
        return 201, EnrollmentOut(many=True).dump(views)

    # --- enrolment and completion ------------------------------------------------------------

    @api(
        "POST",
        "/enrollments",
        roles=(ADMIN, OPERATOR),
        summary="Enrol an employee directly in a batch (full: the next batch)",
        tags=["enrolment"],
        request=EnrollmentIn,
        response=EnrollmentOut,
        status=201,
    )
    def enrol_directly(self, request):
        command = load_json(request, EnrollmentIn())
        view = enrolment.enrol_directly(self.db.unit_of_work(), command, request.principal)
        return 201, EnrollmentOut().dump(view)

    @api(
        "GET",
        "/enrollments",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="Enrolments by employee, proposal, batch and status",
        tags=["enrolment"],
        query=EnrollmentQuery,
        response=EnrollmentPage,
    )
    def list_enrollments(self, request):
        query = load_query(request, EnrollmentQuery())
        view = enrolment.list_enrollments(self.db.unit_of_work(), query, request.principal)
        return EnrollmentPage().dump(view)

    @api(
        "POST",
        "/enrollments/<enrollment_id>/complete",
        roles=(ADMIN, OPERATOR),
        summary="Record completion; the JP count toward the year it ended in",
        tags=["enrolment"],
        request=CompletionIn,
        response=EnrollmentOut,
    )
    def complete_enrollment(self, request, enrollment_id):
        command = load_json(request, CompletionIn())
        view = ledger.complete_enrollment(
            self.db.unit_of_work(), _id(enrollment_id, "Pendaftaran"), command, request.principal
        )
        return EnrollmentOut().dump(view)

    @api(
        "POST",
        "/enrollments/<enrollment_id>/cancel",
        roles=(ADMIN, OPERATOR),
        summary="Cancel a direct enrolment and free its seat",
        tags=["enrolment"],
        response=EnrollmentOut,
    )
    def cancel_enrollment(self, request, enrollment_id):
        view = enrolment.cancel_enrollment(
            self.db.unit_of_work(), _id(enrollment_id, "Pendaftaran"), request.principal
        )
        return EnrollmentOut().dump(view)

    # --- the 20 JP ledger --------------------------------------------------------------------

    @api(
        "POST",
        "/development-records",
        roles=(ADMIN, OPERATOR),
        summary="Record development done elsewhere (e.g. a seminar), with its evidence",
        tags=["ledger"],
        request=DevelopmentRecordIn,
        response=LedgerEntryOut,
        status=201,
    )
    def record_development(self, request):
        command = load_json(request, DevelopmentRecordIn())
        view = ledger.record_development(self.db.unit_of_work(), command, request.principal)
        return 201, LedgerEntryOut().dump(view)

    @api(
        "GET",
        "/employees/<nip>/jp",
        roles=(ADMIN, OPERATOR, EMPLOYEE),
        summary="An employee's JP ledger for a year",
        tags=["ledger"],
        query=YearQuery,
        response=JpLedgerOut,
    )
    def jp_ledger(self, request, nip):
        year = load_query(request, YearQuery()).get("year") or date.today().year
        view = ledger.jp_ledger(self.db.unit_of_work(), nip, year, request.principal)
        return JpLedgerOut().dump(view)

    @api(
        "GET",
        "/jp/under-minimum",
        roles=(ADMIN, OPERATOR),
        summary="Employees under 20 JP in a year (default: this year), per unit",
        tags=["ledger"],
        query=UnderMinimumQuery,
        response=UnderMinimumOut,
    )
    def under_minimum(self, request):
        query = load_query(request, UnderMinimumQuery())
        year = query.get("year") or date.today().year
        view = ledger.under_minimum(
            self.db.unit_of_work(), year, query.get("unit_code"), request.principal
        )
        return UnderMinimumOut().dump(view)

    @api(
        "GET",
        "/reports/gap-closing-cost",
        roles=(ADMIN, OPERATOR),
        summary="What closing the open competency gaps would cost, per unit, in a fiscal year",
        tags=["reports"],
        query=GapCostQuery,
        response=GapCostOut,
    )
    def gap_closing_cost(self, request):
        query = load_query(request, GapCostQuery())
        year = query.get("fiscal_year") or date.today().year
        view = reports.gap_closing_cost(
            self.db.unit_of_work(), year, query.get("unit_code"), request.principal
        )
        return GapCostOut().dump(view)
