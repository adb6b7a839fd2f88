"""The training service's nameko entrypoints."""

from asn_shared.base import ServiceBase


class TrainingService(ServiceBase):
    name = "training"
