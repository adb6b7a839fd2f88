"""Bearer tokens for tests: the harness starts every service with ``KEY`` and signs with it."""

from __future__ import annotations

import secrets
import time
import uuid

import jwt
import requests

from ..auth import ADMIN, SCOPE_CLAIM

KEY = secrets.token_hex(32)  # one per test run; service processes get it as AUTH_JWT_KEY


def token(role: str = ADMIN, scope: str | None = None, *, ttl: float = 3600, **claims) -> str:
    """A token signed with the harness key; ``scope`` fills the role's claim (unit, nip, ...)."""
    now = int(time.time())
    payload = {"sub": f"{role}-{uuid.uuid4().hex[:8]}", "role": role, "iat": now}
    payload["exp"] = now + int(ttl)
    if role in SCOPE_CLAIM and scope is not None:
        payload[SCOPE_CLAIM[role]] = scope
    payload.update(claims)
    return jwt.encode(payload, KEY, algorithm="HS256")


def headers(role: str = ADMIN, scope: str | None = None, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, scope, **claims)}"}


def session(role: str = ADMIN, scope: str | None = None, **claims) -> requests.Session:
    """A ``requests`` session that sends a token of ``role`` with every request."""
    http = requests.Session()
    http.headers.update(headers(role, scope, **claims))
    return http


admin_http = session()
"""For tests that act as BKPSDM: use it like the ``requests`` module (``admin_http.get``)."""
