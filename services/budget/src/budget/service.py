"""The budget service's nameko entrypoints: thin, they decode, call a use case, encode."""

from __future__ import annotations

from functools import partial

from nameko.extensions import DependencyProvider

from asn_shared.auth import ADMIN, OPERATOR
from asn_shared.base import ServiceBase
from asn_shared.entrypoints import api, subscribe
from asn_shared.settings import of_container
from asn_shared.units import UnitTreeProjection
from asn_shared.web import load_json, load_query, page_response

from . import domain
from .schemas import (
    AllocationIn,
    AllocationPage,
    AllocationQuery,
    AmendmentIn,
    LedgerEntryOut,
    LedgerPage,
    LedgerQuery,
    PositionOut,
    ProposalOut,
    UtilisationQuery,
    UtilisationReport,
)
from .settings import BudgetSettings
from .use_cases import allocations, reports, reservations


class BudgetRules(DependencyProvider):
    """The configured rules (``BUDGET_RESERVATION_POLICY``, ``BUDGET_THRESHOLDS``): a bad
    value stops start-up with a message naming the variable."""

    def setup(self) -> None:
        self.rules = of_container(self.container).rules

    def get_dependency(self, worker_ctx) -> domain.Rules:
        return self.rules


class BudgetService(ServiceBase, UnitTreeProjection):
    """Training budgets of each unit per fiscal year: allocations and amendments, atomic
    reservations for training proposals, releases, spending, an append-only ledger and
    threshold alerts. Amounts are whole rupiah.

    Admins set allocations; operators read the figures of their units and sub-units (known
    from ``unit.*`` events)."""

    name = "budget"
    settings_class = BudgetSettings
    rules = BudgetRules()

    # --- events -------------------------------------------------------------------------

    @subscribe("proposal.created", consumer="reservations", formerly="on_proposal_created")
    def on_proposal_created(self, event):
        self.db.handle_once(event, partial(reservations.reserve_for_proposal, rules=self.rules))

    @subscribe("proposal.cancelled", consumer="releases", formerly="on_proposal_cancelled")
    def on_proposal_cancelled(self, event):
        self.db.handle_once(event, partial(reservations.release_for_proposal, rules=self.rules))

    @subscribe("enrollment.completed", consumer="spending", formerly="on_enrollment_completed")
    def on_enrollment_completed(self, event):
        self.db.handle_once(event, partial(reservations.spend_for_enrollment, rules=self.rules))

    # --- allocations --------------------------------------------------------------------

    @api(
        "POST",
        "/allocations",
        roles=(ADMIN,),
        summary="Record a unit's initial allocation (pagu) for a fiscal year",
        tags=["allocations"],
        request=AllocationIn,
        response=PositionOut,
        status=201,
    )
    def create_allocation(self, request):
        command = load_json(request, AllocationIn())
        view = allocations.create_allocation(self.db.unit_of_work(), command, self.rules)
        return 201, PositionOut().dump(view)

    @api(
        "GET",
        "/allocations",
        roles=(ADMIN, OPERATOR),
        summary="Allocations with their positions, newest year first",
        tags=["allocations"],
        query=AllocationQuery,
        response=AllocationPage,
    )
    def list_allocations(self, request):
        query = load_query(request, AllocationQuery())
        views, total = reports.allocations_page(self.db.unit_of_work(), query, request.principal)
        return page_response(
            PositionOut(many=True).dump(views),
            total=total,
            page=query["page"],
            per_page=query["per_page"],
        )

    @api(
        "GET",
        "/allocations/<unit_code>/<int:fiscal_year>",
        roles=(ADMIN, OPERATOR),
        summary="A unit's position for a year: allocated, reserved, spent, available",
        tags=["allocations"],
        response=PositionOut,
    )
    def get_position(self, request, unit_code: str, fiscal_year: int):
        view = reports.position(self.db.unit_of_work(), unit_code, fiscal_year, request.principal)
        return PositionOut().dump(view)

    @api(
        "POST",
        "/allocations/<unit_code>/<int:fiscal_year>/amendments",
        roles=(ADMIN,),
        summary="Amend an allocation mid-year to a new total (never below what is committed)",
        tags=["allocations"],
        request=AmendmentIn,
        response=PositionOut,
        status=201,
    )
    def amend_allocation(self, request, unit_code: str, fiscal_year: int):
        command = load_json(request, AmendmentIn())
        uow = self.db.unit_of_work()
        view = allocations.amend_allocation(uow, unit_code, fiscal_year, command, self.rules)
        return 201, PositionOut().dump(view)

    # --- ledger and reports -------------------------------------------------------------

    @api(
        "GET",
        "/ledger",
        roles=(ADMIN, OPERATOR),
        summary="The append-only ledger, oldest first, filtered by unit, year, kind, proposal",
        tags=["ledger"],
        query=LedgerQuery,
        response=LedgerPage,
    )
    def ledger(self, request):
        query = load_query(request, LedgerQuery())
        entries, total = reports.ledger_page(self.db.unit_of_work(), query, request.principal)
        items = LedgerEntryOut(many=True).dump(entries)
        return page_response(items, total=total, page=query["page"], per_page=query["per_page"])

    @api(
        "GET",
        "/reports/utilisation",
        roles=(ADMIN, OPERATOR),
        summary="Utilisation of every unit's allocation for a fiscal year, with totals",
        tags=["reports"],
        query=UtilisationQuery,
        response=UtilisationReport,
    )
    def utilisation(self, request):
        query = load_query(request, UtilisationQuery())
        uow = self.db.unit_of_work()
        report = reports.utilisation_report(uow, query["fiscal_year"], request.principal)
        return UtilisationReport().dump(report)

    @api(
        "GET",
        "/proposals/<uuid:proposal_id>",
        roles=(ADMIN, OPERATOR),
        summary="The budget's decision on a proposal and what became of each item",
        tags=["proposals"],
        response=ProposalOut,
    )
    def get_proposal(self, request, proposal_id):
        view = reports.proposal_view(self.db.unit_of_work(), proposal_id, request.principal)
        return ProposalOut().dump(view)
