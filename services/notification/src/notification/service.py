"""The notification service's nameko entrypoints: decode, call a use case, encode.

Its length is that of the API and the dispatcher's wiring: one short method per route, kept
together so the HTTP surface reads as one list.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

import eventlet
from nameko.extensions import DependencyProvider
from nameko.timer import Timer
from prometheus_client import Counter

from asn_shared.auth import ADMIN, AGENCY, EMPLOYEE, Principal
from asn_shared.base import ServiceBase
from asn_shared.entrypoints import api, subscribe
from asn_shared.settings import of_container
from asn_shared.web import load_json, load_query, page_response

from . import schemas
from .channels import SmtpConnection, SmtpSender, WebhookSender
from .domain import EMAIL, WEBHOOK, RetryPolicy
from .settings import NotificationSettings
from .targets import TargetPolicy
from .use_cases import common, deliveries, dispatch, planning, recipients, setup

ATTEMPTS = Counter(
    "asn_notification_attempts_total",
    "E-mail and webhook delivery attempts, by the delivery's status afterwards",
    ["channel", "status"],
)


# the handler that turns every announced event into deliveries: one consumer name for all
DELIVERIES = {"consumer": "deliveries", "formerly": "on_event"}

MAX_CLAIMS = 20  # batches a dispatch lane claims in one round, so that rounds end


def delivering_of(settings: NotificationSettings, wake) -> common.Delivering:
    """The senders and retry policies of ``settings``; ``wake`` called on each commit."""
    retry = (settings.retry_base_delay, settings.retry_max_delay)
    return common.Delivering(
        email=SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            user=settings.smtp_user,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout,
        ),
        webhook=WebhookSender(
            timeout=settings.webhook_timeout,
            policy=TargetPolicy(settings.webhook_allowed_networks, settings.webhook_allow_http),
        ),
        policies={
            EMAIL: RetryPolicy(settings.email_max_attempts, *retry),
            WEBHOOK: RetryPolicy(settings.webhook_max_attempts, *retry),
        },
        setup=setup.SetupCache(settings.setup_cache_seconds),
        wake=wake,
        lease=settings.dispatch_lease,
    )


class Channels(DependencyProvider):
    """The senders and retry policies, from configuration (SMTP_*, WEBHOOK_*, RETRY_*), the
    cached setup (SETUP_CACHE_SECONDS) and the dispatcher's wake-up call."""

    def setup(self) -> None:
        settings = of_container(self.container)
        self.wake = threading.Event()
        self.delivering = delivering_of(settings, self.wake.set)
        self.concurrency = settings.dispatch_concurrency
        self.batch = settings.dispatch_batch
        self.smtp_idle = settings.smtp_idle_seconds
        self.connections = [SmtpConnection(self.delivering.email) for _ in range(self.concurrency)]
        self.rested_at = time.monotonic()

    def lanes(self) -> list[SmtpConnection]:
        """One SMTP connection per dispatch lane, kept open from round to round (opening one
        costs more than a message); closed first when they rested longer than SMTP_IDLE."""
        if time.monotonic() - self.rested_at > self.smtp_idle:
            self.close()
        return self.connections

    def rest(self) -> None:
        self.rested_at = time.monotonic()

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    def stop(self) -> None:
        self.close()

    def get_dependency(self, worker_ctx) -> Channels:
        return self


class DispatchTimer(Timer):
    """Fires as soon as an e-mail or webhook is committed (``Channels.wake``), and at the
    latest every DISPATCH_INTERVAL seconds: retries falling due, deliveries planned by
    another replica. Woken during a round, it starts the next one when this one ends."""

    def __init__(self, **kwargs) -> None:
        super().__init__(interval=1.0, eager=True, **kwargs)

    def setup(self) -> None:
        self.interval = of_container(self.container).dispatch_interval

    def start(self) -> None:
        channels = [d for d in self.container.dependencies if isinstance(d, Channels)]
        self.wake = channels[0].wake
        super().start()

    def stop(self) -> None:
        self.should_stop.send(True)
        self.wake.set()
        self.gt.wait()

    def _run(self) -> None:
        while not self.should_stop.ready():
            self.wake.clear()
            self.handle_timer_tick()
            self.worker_complete.wait()
            self.worker_complete.reset()
            self.wake.wait(self.interval)


dispatch_timer = DispatchTimer.decorator


class NotificationService(ServiceBase):
    """Tells employees, supervisors, unit operators and BKPSDM what happened to them, by
    e-mail and in an inbox, and forwards events to other agencies as signed webhooks.

    Every delivery is logged with each attempt; an event reaches each recipient at most once
    per channel. Failed e-mails and webhooks are retried with exponential back-off and parked
    after a configured number of attempts; a parked one can be resent.
    """

    name = "notification"
    settings_class = NotificationSettings
    channels = Channels()

    # --- events in ------------------------------------------------------------------------

    @subscribe("employee.registered", consumer="recipients", formerly="on_employee")
    @subscribe("employee.updated", consumer="recipients", formerly="on_employee")
    def on_employee(self, event):
        self.db.handle_once(event, recipients.record_employee)

    @subscribe("assessment.recorded", **DELIVERIES)
    @subscribe("proposal.created", **DELIVERIES)
    @subscribe("proposal.approved", **DELIVERIES)
    @subscribe("proposal.waitlisted", **DELIVERIES)
    @subscribe("proposal.cancelled", **DELIVERIES)
    @subscribe("enrollment.created", **DELIVERIES)
    @subscribe("enrollment.completed", **DELIVERIES)
    @subscribe("budget.reserved", **DELIVERIES)
    @subscribe("budget.rejected", **DELIVERIES)
    @subscribe("budget.released", **DELIVERIES)
    @subscribe("budget.spent", **DELIVERIES)
    @subscribe("budget.threshold_reached", **DELIVERIES)
    def on_event(self, event):
        delivering = self.channels.delivering
        self.db.handle_once(
            event, lambda uow, event: planning.notify(uow, event, delivering), planning.prepare
        )

    # --- dispatching ----------------------------------------------------------------------

    @dispatch_timer()
    def dispatch(self):
        """Send due e-mails and webhooks in batches: one lane, and DISPATCH_CONCURRENCY lanes
        while a full batch keeps coming (a backlog); replicas share the work."""
        lanes = self.channels.lanes()
        try:
            if self._dispatch_some(lanes[0], claims=1) and len(lanes) > 1:
                pool = eventlet.GreenPool(len(lanes))
                for _ in pool.imap(self._dispatch_some, lanes):
                    pass
        finally:
            self.channels.rest()

    def _dispatch_some(self, connection: SmtpConnection, claims: int = MAX_CLAIMS) -> bool:
        """Claim batches of due deliveries until one comes back short (nothing more is due:
        False) or ``claims`` were full (True)."""
        delivering = replace(self.channels.delivering, email=connection)
        batch = self.channels.batch
        for _ in range(claims):
            attempted = dispatch.dispatch_due(self.db.unit_of_work, delivering, batch)
            for channel, status in attempted:
                ATTEMPTS.labels(channel, status).inc()
            if len(attempted) < batch:
                return False
        return True

    # --- subscriptions --------------------------------------------------------------------

    @api(
        "POST",
        "/subscriptions",
        roles=(ADMIN, AGENCY),
        summary="Subscribe a webhook to event-type patterns; the secret is shown only here",
        tags=["subscriptions"],
        request=schemas.SubscriptionIn,
        response=schemas.SubscriptionCreated,
        status=201,
    )
    def create_subscription(self, request):
        command = load_json(request, schemas.SubscriptionIn())
        command["agency"] = _owner(request.principal, command["agency"])
        subscription, secret = setup.subscribe(
            self.db.unit_of_work(), self.channels.delivering.webhook.policy, **command
        )
        payload = schemas.SubscriptionOut().dump(subscription)
        return 201, {**payload, "secret": secret}

    @api(
        "GET",
        "/subscriptions",
        roles=(ADMIN, AGENCY),
        summary="List webhook subscriptions (without their secrets)",
        tags=["subscriptions"],
        query=schemas.SubscriptionQuery,
        response=schemas.SubscriptionPage,
    )
    def list_subscriptions(self, request):
        query = load_query(request, schemas.SubscriptionQuery())
        query["agency"] = _owner(request.principal, query.get("agency"))
        items, total = setup.subscription_page(
            self.db.unit_of_work(), query, query["page"], query["per_page"]
        )
        return _page(schemas.SubscriptionOut, items, total, query)

    @api(
        "GET",
        "/subscriptions/<uuid:subscription_id>",
        roles=(ADMIN, AGENCY),
        summary="One webhook subscription",
        tags=["subscriptions"],
        response=schemas.SubscriptionOut,
    )
    def get_subscription(self, request, subscription_id: uuid.UUID):
        subscription = setup.get_subscription(self.db.unit_of_work(), subscription_id)
        request.principal.require_agency(subscription.agency)
        return schemas.SubscriptionOut().dump(subscription)

    @api(
        "DELETE",
        "/subscriptions/<uuid:subscription_id>",
        roles=(ADMIN, AGENCY),
        summary="Cancel a webhook subscription",
        tags=["subscriptions"],
        status=204,
    )
    def cancel_subscription(self, request, subscription_id: uuid.UUID):
        subscription = setup.get_subscription(self.db.unit_of_work(), subscription_id)
        request.principal.require_agency(subscription.agency)
        setup.cancel_subscription(self.db.unit_of_work(), subscription_id)

    # --- inbox ----------------------------------------------------------------------------

    @api(
        "GET",
        "/recipients/<recipient>/inbox",
        roles=(ADMIN, EMPLOYEE),
        summary="A recipient's inbox (NIP or official id), newest first",
        tags=["inbox"],
        query=schemas.InboxQuery,
        response=schemas.InboxPage,
    )
    def inbox(self, request, recipient: str):
        request.principal.require_nip(recipient)
        query = load_query(request, schemas.InboxQuery())
        items, total, unread = deliveries.inbox_page(
            self.db.unit_of_work(), recipient, query["unread"], query["page"], query["per_page"]
        )
        return {**_page(schemas.InboxMessage, items, total, query), "unread": unread}

    @api(
        "PATCH",
        "/recipients/<recipient>/inbox/<uuid:message_id>",
        roles=(ADMIN, EMPLOYEE),
        summary="Mark an inbox message read or unread",
        tags=["inbox"],
        request=schemas.ReadMark,
        response=schemas.InboxMessage,
    )
    def mark_read(self, request, recipient: str, message_id: uuid.UUID):
        request.principal.require_nip(recipient)
        command = load_json(request, schemas.ReadMark())
        message = deliveries.mark_read(
            self.db.unit_of_work(), recipient, message_id, command["read"]
        )
        return schemas.InboxMessage().dump(message)

    # --- delivery log ---------------------------------------------------------------------

    @api(
        "GET",
        "/deliveries",
        roles=(ADMIN,),
        summary="The delivery log, newest first, with filters",
        tags=["deliveries"],
        query=schemas.DeliveryQuery,
        response=schemas.DeliveryPage,
    )
    def list_deliveries(self, request):
        query = load_query(request, schemas.DeliveryQuery())
        items, total = deliveries.delivery_page(
            self.db.unit_of_work(), query, query["page"], query["per_page"]
        )
        return _page(schemas.DeliveryOut, items, total, query)

    @api(
        "GET",
        "/deliveries/<uuid:delivery_id>",
        roles=(ADMIN,),
        summary="One delivery with its message and every attempt",
        tags=["deliveries"],
        response=schemas.DeliveryDetail,
    )
    def get_delivery(self, request, delivery_id: uuid.UUID):
        detail = deliveries.delivery_detail(self.db.unit_of_work(), delivery_id)
        return schemas.DeliveryDetail().dump(detail)

    @api(
        "POST",
        "/deliveries/<uuid:delivery_id>/resend",
        roles=(ADMIN,),
        summary="Resend a parked e-mail or webhook: a fresh round of attempts",
        tags=["deliveries"],
        response=schemas.DeliveryOut,
        status=202,
    )
    def resend_delivery(self, request, delivery_id: uuid.UUID):
        delivery = dispatch.resend(self.db.unit_of_work(), delivery_id, self.channels.delivering)
        return 202, schemas.DeliveryOut().dump(delivery)

    @api(
        "GET",
        "/employees/<nip>",
        roles=(ADMIN, EMPLOYEE),
        summary="An employee as this service knows them (from employee events)",
        tags=["recipients"],
        response=schemas.EmployeeOut,
    )
    def get_employee(self, request, nip: str):
        request.principal.require_nip(nip)
        return schemas.EmployeeOut().dump(recipients.get_employee(self.db.unit_of_work(), nip))

    # --- officials ------------------------------------------------------------------------

    @api(
        "POST",
        "/officials",
        roles=(ADMIN,),
        summary="Add a unit operator or a BKPSDM administrator",
        tags=["recipients"],
        request=schemas.OfficialIn,
        response=schemas.OfficialOut,
        status=201,
    )
    def add_official(self, request):
        command = load_json(request, schemas.OfficialIn())
        return 201, schemas.OfficialOut().dump(setup.add_official(self.db.unit_of_work(), command))

    @api(
        "GET",
        "/officials",
        roles=(ADMIN,),
        summary="List active unit operators and BKPSDM administrators",
        tags=["recipients"],
        query=schemas.OfficialQuery,
        response=schemas.OfficialPage,
    )
    def list_officials(self, request):
        query = load_query(request, schemas.OfficialQuery())
        items, total = setup.official_page(
            self.db.unit_of_work(), query, query["page"], query["per_page"]
        )
        return _page(schemas.OfficialOut, items, total, query)

    @api(
        "PATCH",
        "/officials/<uuid:official_id>",
        roles=(ADMIN,),
        summary="Change an official's name, e-mail, role, unit or language",
        tags=["recipients"],
        request=schemas.OfficialChange,
        response=schemas.OfficialOut,
    )
    def change_official(self, request, official_id: uuid.UUID):
        changes = load_json(request, schemas.OfficialChange())
        official = setup.change_official(self.db.unit_of_work(), official_id, changes)
        return schemas.OfficialOut().dump(official)

    @api(
        "DELETE",
        "/officials/<uuid:official_id>",
        roles=(ADMIN,),
        summary="Stop notifying an official",
        tags=["recipients"],
        status=204,
    )
    def remove_official(self, request, official_id: uuid.UUID):
        setup.remove_official(self.db.unit_of_work(), official_id)

    # --- rules and templates --------------------------------------------------------------

    @api(
        "GET",
        "/rules",
        roles=(ADMIN,),
        summary="Who hears of which event, over which channels",
        tags=["rules"],
        response=schemas.RuleOut,
        many=True,
    )
    def list_rules(self, request):
        return schemas.RuleOut(many=True).dump(setup.list_rules(self.db.unit_of_work()))

    @api(
        "POST",
        "/rules",
        roles=(ADMIN,),
        summary="Add a rule: an event type, an audience, channels and a template",
        tags=["rules"],
        request=schemas.RuleIn,
        response=schemas.RuleOut,
        status=201,
    )
    def add_rule(self, request):
        command = load_json(request, schemas.RuleIn())
        return 201, schemas.RuleOut().dump(setup.add_rule(self.db.unit_of_work(), command))

    @api(
        "PATCH",
        "/rules/<int:rule_id>",
        roles=(ADMIN,),
        summary="Switch a rule on or off, or change its channels or template",
        tags=["rules"],
        request=schemas.RuleChange,
        response=schemas.RuleOut,
    )
    def change_rule(self, request, rule_id: int):
        changes = load_json(request, schemas.RuleChange())
        rule = setup.change_rule(self.db.unit_of_work(), rule_id, changes)
        return schemas.RuleOut().dump(rule)

    @api(
        "GET",
        "/templates",
        roles=(ADMIN,),
        summary="Message templates (Jinja2) by key and language",
        tags=["rules"],
        response=schemas.TemplateOut,
        many=True,
    )
    def list_templates(self, request):
        templates = setup.list_templates(self.db.unit_of_work())
        return schemas.TemplateOut(many=True).dump(templates)

    @api(
        "PUT",
        "/templates/<key>/<language>",
        roles=(ADMIN,),
        summary="Create or replace a template in one language (id or en)",
        tags=["rules"],
        request=schemas.TemplateIn,
        response=schemas.TemplateOut,
    )
    def put_template(self, request, key: str, language: str):
        command = load_json(request, schemas.TemplateIn())
        template = setup.put_template(self.db.unit_of_work(), key, language, **command)
        return schemas.TemplateOut().dump(template)


def _owner(principal: Principal, agency: str | None) -> str | None:
    """The agency a subscription request is about: an agency's own, whatever it asked."""
    if principal.role != AGENCY:
        return agency
    principal.require_agency(agency or principal.scope)
    return principal.scope


def _page(schema, items, total: int, query: dict) -> dict:
    return page_response(
        schema(many=True).dump(items), total=total, page=query["page"], per_page=query["per_page"]
    )
