"""What the notification use cases share: the senders and policies, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asn_shared.clock import SYSTEM_CLOCK, Clock

from ..channels import SmtpConnection, SmtpSender, WebhookSender
from ..domain import (
    Recipient,
    RetryPolicy,
    language_of,
)
from ..models import Delivery, DeliveryAttempt, Employee, Official

if TYPE_CHECKING:
    from .setup import SetupCache


DELIVERIES, DELIVERY_ATTEMPTS = Delivery.__table__, DeliveryAttempt.__table__
EMPLOYEES = Employee.__table__


class RecipientUnknown(LookupError):
    """An audience names an employee this service has not heard of yet.

    Raised inside an event handler, so the event is retried with back-off (the
    employee.registered event may simply not have arrived yet) and parked if it never does.
    """


@dataclass(frozen=True)
class Delivering:
    """What planning and dispatching need: the senders, each channel's retry policy, the
    setup (read anew for every event without a cache) and how to wake the dispatcher."""

    email: SmtpSender | SmtpConnection  # a connection: several e-mails over one
    webhook: WebhookSender
    policies: dict[str, RetryPolicy]
    setup: SetupCache | None = None
    wake: Callable[[], None] | None = None  # called once an e-mail or webhook is committed
    lease: float = 30.0  # seconds a dispatch round holds its claim unless it renews it
    clock: Clock = SYSTEM_CLOCK  # when attempts are made and retries due

    def limit(self, channel: str) -> int:
        policy = self.policies.get(channel)
        return policy.max_attempts if policy else 1


def as_recipient(person: Any) -> Recipient:
    """An official, or an employee (a row or an entity)."""
    key = str(person.id) if isinstance(person, Official) else person.nip
    return Recipient(key, person.name, person.email, language_of(person.language))
