"""The notification service's settings: the shared ones, the mail server, webhooks, retries
and the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from asn_shared.settings import (
    Number,
    OneOf,
    Parsed,
    ServiceSettings,
    Text,
    Whole,
    setting,
)

from .channels import SMTP_TLS_MODES
from .targets import Network, parse_flag, parse_networks

RETRY_SECONDS = Number()


def _flag(value: bool) -> str:
    return "true" if value else "false"


@dataclass(frozen=True, kw_only=True)
class NotificationSettings(ServiceSettings):
    name = "notification"
    port = 8004

    smtp_host: str = setting("SMTP_HOST", "localhost", "the mail server's host")
    smtp_port: int = setting("SMTP_PORT", 25, "the mail server's port", Whole(1, 65535))
    smtp_sender: str = setting(
        "SMTP_SENDER",
        "Kompas ASN <kompas-asn@localhost>",
        "the sender of every e-mail",
        Text("an address, `Name <user@host>` or `user@host`"),
    )
    smtp_user: str | None = setting("SMTP_USER", None, "the login at the mail server")
    smtp_password: str | None = setting("SMTP_PASSWORD", None, "the password of that login")
    smtp_tls: str = setting(
        "SMTP_TLS",
        "none",
        "`starttls` or `ssl` to encrypt the connection to the mail server",
        OneOf(SMTP_TLS_MODES),
    )
    smtp_timeout: float = setting(
        "SMTP_TIMEOUT", 10.0, "seconds the mail server has to answer", Number(positive=True)
    )
    smtp_idle_seconds: float = setting(
        "SMTP_IDLE_SECONDS", 30.0, "when an idle SMTP connection is closed", Number()
    )
    email_max_attempts: int = setting(
        "EMAIL_MAX_ATTEMPTS", 5, "attempts before an e-mail is parked", Whole()
    )
    webhook_max_attempts: int = setting(
        "WEBHOOK_MAX_ATTEMPTS", 8, "attempts before a webhook is parked", Whole()
    )
    webhook_timeout: float = setting(
        "WEBHOOK_TIMEOUT", 10.0, "seconds a webhook target has to answer", Number(positive=True)
    )
    webhook_allowed_networks: tuple[Network, ...] = setting(
        "WEBHOOK_ALLOWED_NETWORKS",
        (),
        "CIDR ranges webhooks may reach besides public addresses; loopback, private, "
        "link-local and metadata addresses are refused otherwise",
        Parsed(parse_networks, "CIDR ranges, comma-separated, e.g. `10.20.0.0/16`"),
        shown="none",
    )
    webhook_allow_http: bool = setting(
        "WEBHOOK_ALLOW_HTTP",
        False,
        "`true` lets a webhook use plain `http`; otherwise `https` only",
        Parsed(partial(parse_flag, "WEBHOOK_ALLOW_HTTP"), "`true`, `false`", _flag),
    )
    retry_base_delay: float = setting(
        "RETRY_BASE_DELAY", 30.0, "delivery back-off: the first delay, doubling", RETRY_SECONDS
    )
    retry_max_delay: float = setting(
        "RETRY_MAX_DELAY", 3600.0, "delivery back-off: the longest delay", RETRY_SECONDS
    )
    dispatch_interval: float = setting(
        "DISPATCH_INTERVAL",
        1.0,
        "the longest wait between dispatch rounds (a committed delivery wakes it at once)",
        Number(positive=True),
    )
    dispatch_concurrency: int = setting(
        "DISPATCH_CONCURRENCY", 4, "dispatch lanes while a backlog lasts", Whole()
    )
    dispatch_batch: int = setting(
        "DISPATCH_BATCH", 50, "deliveries a lane claims per round", Whole()
    )
    dispatch_lease: float = setting(
        "DISPATCH_LEASE",
        30.0,
        "seconds a dispatch round holds the deliveries it claimed unless it renews the claim "
        "(a replica that dies frees them after this)",
        Number(positive=True),
    )
    setup_cache_seconds: float = setting(
        "SETUP_CACHE_SECONDS",
        5.0,
        "how long a replica trusts its cached rules, templates and officials (its own changes "
        "clear it at once)",
        Number(),
    )
