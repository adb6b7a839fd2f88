"""The notification service's nameko entrypoints."""

from asn_shared.base import ServiceBase


class NotificationService(ServiceBase):
    name = "notification"
