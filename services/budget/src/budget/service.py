"""The budget service's nameko entrypoints."""

from asn_shared.base import ServiceBase


class BudgetService(ServiceBase):
    name = "budget"
