"""Bearer tokens: who is calling, in which role, and over what.

Every endpoint but ``/health`` and ``/metrics`` needs ``Authorization: Bearer <JWT>``. The
token is issued by the city's identity provider and verified here with the key from
``AUTH_JWT_KEY``: a PEM public key (RS256/ES256/EdDSA, the services then hold nothing that can
sign) or a shared secret (HS256). ``AUTH_JWT_ISSUER`` and ``AUTH_JWT_AUDIENCE``, when set, must
match the token's ``iss`` and ``aud``. Tokens must expire (``exp``).

Claims: ``sub`` (who), ``role`` and, by role,

- ``admin`` — BKPSDM: everything;
- ``operator`` — HR of one unit: ``unit``, the unit code; that unit and its sub-units;
- ``employee`` — ``nip``: their own profile, proposals and inbox;
- ``agency`` — ``agency``: another agency's id; its own webhook subscriptions.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache

import jwt
from werkzeug.wrappers import Request

from .web import Problem

ROLES = ("admin", "operator", "employee", "agency")
ADMIN, OPERATOR, EMPLOYEE, AGENCY = ROLES
EVERYONE = ROLES
SCOPE_CLAIM = {OPERATOR: "unit", EMPLOYEE: "nip", AGENCY: "agency"}
ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="kompas-asn"'}


class Forbidden(Problem):
    status, title = 403, "Forbidden"


@dataclass(frozen=True)
class Principal:
    """The verified caller. ``scope`` is the unit code, NIP or agency id its role is bound to."""

    subject: str
    role: str
    scope: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"The role {self.role!r} may not do this.")

    def require_nip(self, nip: str) -> None:
        """Employees reach only their own records (others are checked by the caller)."""
        if self.role == EMPLOYEE and self.scope != nip:
            raise Forbidden("An employee may only reach their own records.")

    def own_nip(self, requested: str | None) -> str:
        """An employee's list filter: their own NIP; a filter on another's is refused."""
        if requested:
            self.require_nip(requested)
        return self.scope

    def require_agency(self, agency: str | None) -> None:
        if self.role == AGENCY and self.scope != agency:
            raise Forbidden("An agency may only reach its own subscriptions.")

    def require_unit(self, unit_code: str | None, units: Collection[str] | None) -> None:
        """``units``: the operator's unit and its sub-units (``None`` means all units)."""
        if units is not None and unit_code not in units:
            raise Forbidden(f"The unit {unit_code!r} is outside this operator's units.")


@dataclass(frozen=True)
class Verifier:
    key: str
    algorithms: list[str]
    issuer: str | None = None
    audience: str | None = None

    @classmethod
    def from_environment(cls) -> Verifier:
        key = os.environ.get("AUTH_JWT_KEY", "")
        if not key:
            raise RuntimeError("AUTH_JWT_KEY is not set: no request could be authenticated.")
        asymmetric = key.lstrip().startswith("-----BEGIN")
        return cls(
            key=key,
            algorithms=ASYMMETRIC if asymmetric else ["HS256"],
            issuer=os.environ.get("AUTH_JWT_ISSUER") or None,
            audience=os.environ.get("AUTH_JWT_AUDIENCE") or None,
        )

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=self.algorithms,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "sub", "role"], "verify_aud": bool(self.audience)},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"The bearer token is not valid: {exc}.") from None
        return principal_from(claims)


def principal_from(claims: dict) -> Principal:
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthorized(f"The token's role must be one of {', '.join(ROLES)}.")
    claim = SCOPE_CLAIM.get(role)
    scope = claims.get(claim) if claim else None
    if claim and not (isinstance(scope, str) and scope):
        raise Unauthorized(f"A token of role {role!r} needs the claim {claim!r}.")
    return Principal(subject=str(claims["sub"]), role=role, scope=scope)


@cache
def verifier() -> Verifier:
    return Verifier.from_environment()


def authenticate(request: Request) -> Principal:
    """The caller of ``request``, or a 401 problem saying what is wrong with its token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "This endpoint needs an 'Authorization: Bearer <token>' header.",
        )
    return verifier().verify(token.strip())
