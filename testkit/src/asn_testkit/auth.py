"""Bearer tokens for tests: the harness starts every service trusting ``KEY`` and the run's
development OpenID Connect provider (``idp.shared()``), and signs with ``KEY`` by default."""

from __future__ import annotations

import secrets

import requests

from asn_shared import tokens
from asn_shared.auth import ADMIN

KEY = secrets.token_hex(32)  # one per test run; service processes get it as AUTH_JWT_KEY


def service_env() -> dict[str, str]:
    """What a service process of the harness trusts."""
    from . import idp

    return {"AUTH_JWT_KEY": KEY, "AUTH_OIDC_ISSUER": idp.shared().issuer}


def token(role: str = ADMIN, scope: str | None = None, *, ttl: float = 3600, **claims) -> str:
    """A token signed with the harness key; ``scope`` fills the role's claim (unit, nip, ...)."""
    return tokens.local_token(KEY, role, scope, ttl=ttl, **claims)


def provider_token(role: str = ADMIN, scope: str | None = None) -> str:
    """A token issued by the run's development provider."""
    from . import idp

    return idp.shared().token(role, scope)


def headers(role: str = ADMIN, scope: str | None = None, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, scope, **claims)}"}


def session(role: str = ADMIN, scope: str | None = None, **claims) -> requests.Session:
    """A ``requests`` session that sends a token of ``role`` with every request."""
    http = requests.Session()
    http.headers.update(headers(role, scope, **claims))
    return http


admin_http = session()
"""For tests that act as BKPSDM: use it like the ``requests`` module (``admin_http.get``)."""
