"""The portal's settings, all from the environment (see the README's "The portal")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

SERVICES = ("competency", "training", "budget", "notification")
DEFAULT_URLS = {name: f"http://127.0.0.1:{8001 + i}" for i, name in enumerate(SERVICES)}
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/portal"


class SettingsError(ValueError):
    """A setting the portal cannot work with; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    issuer: str
    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = "http://localhost:8000"
    client_id: str = "kompas-portal"
    client_secret: str | None = None
    service_urls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))
    jwks_url: str | None = None
    backchannel_url: str | None = None  # the provider as the portal reaches it, if elsewhere
    session_minutes: int = 480
    cookie_secure: bool = True
    roles_claim: tuple[str, ...] = ("realm_access.roles", "role")
    unit_claim: str = "unit"
    nip_claim: str = "nip"
    service_timeout: float = 30.0
    log_level: str = "INFO"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/auth/callback"


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in TRUE + FALSE:
        raise SettingsError(f"{name} must be true or false, not {value!r}")
    return value in TRUE


def _minutes(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 7 * 24 * 60:
        raise SettingsError(f"{name} must be a whole number of minutes from 1 to 10080")
    return int(value)


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``environ`` (the process's environment by default)."""
    environ = os.environ if environ is None else environ
    issuer = environ.get("AUTH_OIDC_ISSUER", "").strip().rstrip("/")
    if not issuer:
        raise SettingsError("AUTH_OIDC_ISSUER must name the OpenID Connect provider")
    urls = {
        name: environ.get(f"{name.upper()}_URL", "").strip().rstrip("/") or url
        for name, url in DEFAULT_URLS.items()
    }
    roles = environ.get("AUTH_ROLES_CLAIM", "").strip() or "realm_access.roles,role"
    database = environ.get("PORTAL_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not database.startswith(("postgresql://", "postgresql+psycopg2://")):
        raise SettingsError("PORTAL_DATABASE_URL must be a PostgreSQL URL (postgresql://...)")
    return Settings(
        issuer=issuer,
        database_url=database,
        public_url=(environ.get("PORTAL_PUBLIC_URL", "").strip() or "http://localhost:8000").rstrip(
            "/"
        ),
        client_id=environ.get("PORTAL_CLIENT_ID", "").strip() or "kompas-portal",
        client_secret=environ.get("PORTAL_CLIENT_SECRET", "").strip() or None,
        service_urls=urls,
        jwks_url=environ.get("AUTH_JWKS_URL", "").strip() or None,
        backchannel_url=environ.get("PORTAL_OIDC_BACKCHANNEL_URL", "").strip().rstrip("/") or None,
        session_minutes=_minutes(environ, "PORTAL_SESSION_MINUTES", 480),
        cookie_secure=_flag(environ, "PORTAL_COOKIE_SECURE", True),
        roles_claim=tuple(path.strip() for path in roles.split(",") if path.strip()),
        unit_claim=environ.get("AUTH_UNIT_CLAIM", "").strip() or "unit",
        nip_claim=environ.get("AUTH_NIP_CLAIM", "").strip() or "nip",
        log_level=environ.get("LOG_LEVEL", "").strip().upper() or "INFO",
    )
