"""The competency service's nameko entrypoints."""

from asn_shared.base import ServiceBase


class CompetencyService(ServiceBase):
    name = "competency"
