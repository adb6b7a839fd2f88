"""Bearer tokens: who is calling, in which role, and over what.

Every endpoint but ``/health`` and ``/metrics`` needs ``Authorization: Bearer <JWT>``. Two
sources of trust, either or both:

- the city's OpenID Connect provider, ``AUTH_OIDC_ISSUER``: its signing keys come from the JWKS
  its discovery document names (or ``AUTH_JWKS_URL``), cached, and fetched again when a token
  names an unknown ``kid`` - at most once per ``AUTH_JWKS_REFETCH_SECONDS``, so a flood of
  made-up key ids cannot hammer the provider, and a provider that is down leaves the cached
  keys working (a token no cached key fits is then a 401, ``auth.provider_unavailable``).
  A token must carry the issuer and the audience ``AUTH_OIDC_AUDIENCE``.
- a static key, ``AUTH_JWT_KEY``: a PEM public key (RS256/ES256/EdDSA) or an HS256 shared
  secret, with ``AUTH_JWT_ISSUER`` / ``AUTH_JWT_AUDIENCE`` checked when set.

With both, a token whose header names a ``kid`` is the provider's; one without, the static
key's. Tokens must expire (``exp``).

Where the role and its scope are read is configuration (``AUTH_ROLES_CLAIM``, ``AUTH_UNIT_CLAIM``,
``AUTH_NIP_CLAIM``, ``AUTH_AGENCY_CLAIM``); the defaults fit a Keycloak realm
(``realm_access.roles``) and a flat ``role`` claim alike. The roles, and what binds them:

- ``admin`` — BKPSDM: everything;
- ``operator`` — HR of one unit: ``unit``, the unit code; that unit and its sub-units;
- ``employee`` — ``nip``: their own profile, proposals and inbox;
- ``agency`` — ``agency``: another agency's id; its own webhook subscriptions.

A token holding several of them acts in the first of that list.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jwt
from werkzeug.wrappers import Request

from .errors import Forbidden
from .settings import AuthSettings
from .web import Problem

ROLES = ("admin", "operator", "employee", "agency")
ADMIN, OPERATOR, EMPLOYEE, AGENCY = ROLES
EVERYONE = ROLES
SCOPE_CLAIM = {OPERATOR: "unit", EMPLOYEE: "nip", AGENCY: "agency"}
ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
DEFAULTS = AuthSettings.from_environment({})
DEFAULT_AUDIENCE = DEFAULTS.auth_oidc_audience


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="kompas-asn"'}

    def __init__(self, detail: str, code: str = "auth.token_invalid") -> None:
        super().__init__(detail, code=code)


class ProviderUnavailable(Unauthorized):
    """The identity provider cannot be reached and no cached key fits the token: the token
    cannot be verified, which is the caller's 401 (with a hint to retry), never a 5xx."""

    headers = {**Unauthorized.headers, "Retry-After": "5"}


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
            raise Forbidden(f"Peran {self.role!r} tidak boleh melakukan ini.", code="auth.role")

    def require_nip(self, nip: str) -> None:
        """Employees reach only their own records (others are checked by the caller)."""
        if self.role == EMPLOYEE and self.scope != nip:
            raise Forbidden("Pegawai hanya dapat membuka datanya sendiri.", code="auth.own_records")

    def own_nip(self, requested: str | None) -> str | None:
        """An employee's list filter: their own NIP; a filter on another's is refused."""
        if requested:
            self.require_nip(requested)
        return self.scope

    def require_agency(self, agency: str | None) -> None:
        if self.role == AGENCY and self.scope != agency:
            raise Forbidden(
                "Instansi hanya dapat membuka langganannya sendiri.", code="auth.own_subscriptions"
            )

    def require_unit(self, unit_code: str | None, units: Collection[str] | None) -> None:
        """``units``: the operator's unit and its sub-units (``None`` means all units)."""
        if units is not None and unit_code not in units:
            raise Forbidden(
                f"Unit {unit_code!r} berada di luar unit yang dilayani operator ini.",
                code="auth.unit_scope",
            )


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (``realm_access.roles``), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class ClaimMap:
    """Where a token holds the role (each path a string or a list of roles) and its scope."""

    roles: tuple[str, ...] = DEFAULTS.auth_roles_claim
    scopes: dict[str, str] = field(default_factory=lambda: dict(SCOPE_CLAIM))

    @classmethod
    def from_environment(cls) -> ClaimMap:
        return cls.from_settings(AuthSettings.from_environment())

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> ClaimMap:
        scopes = {
            OPERATOR: settings.auth_unit_claim,
            EMPLOYEE: settings.auth_nip_claim,
            AGENCY: settings.auth_agency_claim,
        }
        return cls(settings.auth_roles_claim, scopes)

    def role_of(self, claims: dict[str, Any]) -> str | None:
        held: set[str] = set()
        for path in self.roles:
            value = claim_at(claims, path)
            if isinstance(value, str):
                held.add(value)
            elif isinstance(value, list):
                held.update(role for role in value if isinstance(role, str))
        return next((role for role in ROLES if role in held), None)

    def principal(self, claims: dict[str, Any]) -> Principal:
        role = self.role_of(claims)
        if role is None:
            raise Forbidden(
                "Token ini tidak memuat peran yang dikenal "
                f"({', '.join(ROLES)}) di {' atau '.join(self.roles)}.",
                code="auth.no_role",
            )
        claim = self.scopes.get(role)
        scope = claim_at(claims, claim) if claim else None
        if claim and not (isinstance(scope, str) and scope):
            raise Unauthorized(
                f"Token berperan {role!r} memerlukan klaim {claim!r}.", "auth.scope_missing"
            )
        return Principal(subject=str(claims["sub"]), role=role, scope=scope)


def _decode(
    token: str, key: Any, algorithms: list[str], issuer: str | None, audience: str | None
) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "sub"], "verify_aud": bool(audience)},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token sudah kedaluwarsa.", "auth.token_expired") from None
    except jwt.InvalidIssuerError:
        raise Unauthorized("Token diterbitkan oleh penerbit lain.", "auth.wrong_issuer") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized("Token ditujukan untuk layanan lain.", "auth.wrong_audience") from None
    except (jwt.InvalidTokenError, jwt.PyJWKError) as exc:
        raise Unauthorized(f"Token tidak sah: {exc}.") from None


@dataclass(frozen=True)
class StaticKey:
    """``AUTH_JWT_KEY``: one key, PEM public key or HS256 secret."""

    key: str
    algorithms: list[str]
    issuer: str | None = None
    audience: str | None = None

    @classmethod
    def from_environment(cls) -> StaticKey | None:
        return cls.from_settings(AuthSettings.from_environment())

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> StaticKey | None:
        key = settings.auth_jwt_key
        if not key:
            return None
        asymmetric = key.lstrip().startswith("-----BEGIN")
        return cls(
            key=key,
            algorithms=ASYMMETRIC if asymmetric else ["HS256"],
            issuer=settings.auth_jwt_issuer,
            audience=settings.auth_jwt_audience,
        )

    def decode(self, token: str) -> dict[str, Any]:
        return _decode(token, self.key, self.algorithms, self.issuer, self.audience)


def _fetch_json(url: str, timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        document: dict[str, Any] = json.loads(answer.read())
        return document


class ProviderKeys:
    """The provider's signing keys by ``kid``: fetched when first needed, refreshed every
    ``cache_seconds``, and at most once per ``refetch_seconds`` for an unknown ``kid``."""

    def __init__(
        self,
        issuer: str,
        *,
        audience: str = DEFAULT_AUDIENCE,
        jwks_url: str | None = None,
        refetch_seconds: float = DEFAULTS.auth_jwks_refetch_seconds,
        cache_seconds: float = DEFAULTS.auth_jwks_cache_seconds,
        timeout: float = 5.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.refetch_seconds = refetch_seconds
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at = float("-inf")  # last successful fetch
        self.tried_at = float("-inf")  # last attempt, successful or not
        self.reachable = True
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls) -> ProviderKeys | None:
        return cls.from_settings(AuthSettings.from_environment())

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> ProviderKeys | None:
        issuer = settings.auth_oidc_issuer
        if not issuer:
            return None
        return cls(
            issuer.rstrip("/"),
            audience=settings.auth_oidc_audience,
            jwks_url=settings.auth_jwks_url,
            refetch_seconds=settings.auth_jwks_refetch_seconds,
            cache_seconds=settings.auth_jwks_cache_seconds,
        )

    def decode(self, token: str, kid: str) -> dict[str, Any]:
        key = self.key(kid)
        return _decode(token, key, [key.algorithm_name], self.issuer, self.audience)

    def key(self, kid: str) -> jwt.PyJWK:
        now = time.monotonic()
        if kid not in self.keys or now - self.fetched_at > self.cache_seconds:
            self._refresh(now)
        if kid in self.keys:
            return self.keys[kid]
        if not self.reachable:
            raise ProviderUnavailable(
                "Penyedia identitas tidak dapat dihubungi untuk memeriksa token ini; "
                "coba lagi sebentar lagi.",
                code="auth.provider_unavailable",
            )
        raise Unauthorized(
            "Token ditandatangani dengan kunci yang tidak diterbitkan penyedia identitas.",
            "auth.unknown_key",
        )

    def _refresh(self, now: float) -> None:
        with self._lock:
            if now - self.tried_at < self.refetch_seconds:
                return  # rate limit: another request fetched (or failed to) just now
            self.tried_at = now
            try:
                keys = signing_keys(_fetch_json(self._jwks_url(), self.timeout))
            except (OSError, ValueError, KeyError, TypeError, jwt.PyJWKError):
                self.reachable = False  # down, or answering what is no JWKS: keep the cache
                return
            self.keys = keys
            self.fetched_at, self.reachable = time.monotonic(), True

    def _jwks_url(self) -> str:
        if not self.jwks_url:
            discovery = f"{self.issuer}/.well-known/openid-configuration"
            self.jwks_url = str(_fetch_json(discovery, self.timeout)["jwks_uri"])
        return self.jwks_url


def signing_keys(document: Any) -> dict[str, jwt.PyJWK]:
    """The signature keys of a JWKS by ``kid``; encryption keys (``"use": "enc"``, which
    Keycloak publishes beside its signing keys) and keys PyJWT cannot use are left out."""
    if not isinstance(document, dict):
        raise ValueError("a JWKS is a JSON object")
    keys = jwt.PyJWKSet.from_dict(document).keys
    return {key.key_id: key for key in keys if key.key_id and key.public_key_use != "enc"}


@dataclass(frozen=True)
class Verifier:
    static: StaticKey | None = None
    provider: ProviderKeys | None = None
    claims: ClaimMap = field(default_factory=ClaimMap)

    @classmethod
    def from_environment(cls) -> Verifier:
        return cls.from_settings(AuthSettings.from_environment())

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> Verifier:
        static, provider = StaticKey.from_settings(settings), ProviderKeys.from_settings(settings)
        if not (static or provider):
            raise RuntimeError(
                "Neither AUTH_OIDC_ISSUER nor AUTH_JWT_KEY is set: "
                "no request could be authenticated."
            )
        return cls(static, provider, ClaimMap.from_settings(settings))

    def verify(self, token: str) -> Principal:
        return self.claims.principal(self.decode(token))

    def decode(self, token: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"Token tidak sah: {exc}.") from None
        if self.provider and (kid or not self.static):
            if not isinstance(kid, str):
                raise Unauthorized("Token tidak menyebut kunci penandatangan (kid).")
            return self.provider.decode(token, kid)
        if self.static is None:  # from_settings never builds a verifier without any key
            raise Unauthorized("Tidak ada kunci untuk memeriksa token.", "auth.no_key")
        return self.static.decode(token)


@cache
def verifier() -> Verifier:
    """The verifier of this process's settings (a service's: read at its start)."""
    return Verifier.from_settings(AuthSettings.load())


def authenticate(request: Request) -> Principal:
    """The caller of ``request``, or a 401 problem saying what is wrong with its token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Endpoint ini memerlukan header 'Authorization: Bearer <token>'.", "auth.missing"
        )
    return verifier().verify(token.strip())
