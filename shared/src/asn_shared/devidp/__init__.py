"""A development OpenID Connect provider: a real protocol server for a laptop and the tests.

It is built on Authlib and serves discovery (``/.well-known/openid-configuration``), the
JWKS, the authorization code grant with PKCE (S256) and OpenID ID tokens, the client
credentials grant for agency clients, and signed JWT access tokens shaped like Keycloak's
with realm roles (``realm_access.roles``) or client roles (``resource_access.<audience>.roles``),
or flat (``role``). Signing in is a form without passwords: pick one
of the demo's people or name any role and scope. Development-only endpoints:
``POST /dev/rotate`` (a new signing key; ``{"retire": true}`` also stops publishing the old
ones) and ``GET /dev/stats`` (how often the JWKS and discovery were fetched).
Never expose it beyond a developer's machine.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, cast

import jwt
from authlib.oauth2.rfc6749 import ClientMixin
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .people import CLIENTS, PEOPLE, Client, Person

SHAPES = ("keycloak", "keycloak-client", "flat")
TOKEN_SECONDS = 3600


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def new(cls) -> SigningKey:
        return cls(uuid.uuid4().hex[:12], rsa.generate_private_key(65537, 2048))

    def pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def jwk(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "alg": "RS256", "use": "sig"}


@dataclass
class Keys:
    """The signing key and the keys still published beside it."""

    current: SigningKey = field(default_factory=SigningKey.new)
    previous: list[SigningKey] = field(default_factory=list)

    def rotate(self, retire: bool) -> None:
        self.previous = [] if retire else [self.current, *self.previous][:2]
        self.current = SigningKey.new()

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in (self.current, *self.previous)]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.current.pem(), "RS256", headers={"kid": self.current.kid})


class ClientModel(ClientMixin):
    def __init__(self, client: Client) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> str:
        return ""  # none: every client sends its redirect_uri

    def get_allowed_scope(self, scope: Collection[str] | str) -> str:
        requested = scope.split() if isinstance(scope, str) else scope
        return " ".join(s for s in requested if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri.startswith(("http://localhost", "http://127.0.0.1"))

    def check_client_secret(self, client_secret: str) -> bool:
        secret = self.client.secret
        return bool(secret and secrets.compare_digest(client_secret, secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client.secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.client.grants

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.client.grants


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Person
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))
    expires_at: float = field(default_factory=lambda: time.time() + 120)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class Provider:
    """The provider's state: keys, clients, people, codes and request counts."""

    def __init__(self, issuer: str, audience: str, shape: str) -> None:
        if shape not in SHAPES:
            raise ValueError(f"claims shape must be one of {SHAPES}")
        self.issuer, self.audience, self.shape = issuer.rstrip("/"), audience, shape
        self.keys = Keys()
        self.clients = {client.client_id: client for client in CLIENTS}
        self.people = {person.username: person for person in PEOPLE}
        self.codes: dict[str, AuthorizationCode] = {}
        self.counts = {"jwks": 0, "discovery": 0, "tokens": 0}
        self.lock = threading.Lock()

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def access_token(
        self, *, client: ClientMixin, grant_type: str, user: Person | None, scope: str
    ) -> str:
        """Authlib's token generator: ``client`` is what ``query_client`` found, a ClientModel."""
        client_id = client.get_client_id()
        if user is None:  # client credentials: an agency's machine client
            agency = cast(ClientModel, client).client.agency
            user = Person(
                f"service-account-{client_id}", agency or client_id, "agency", agency=agency
            )
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user.username,
            "azp": client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "jti": uuid.uuid4().hex,
            "preferred_username": user.username,
            **user.scope_claims(),
        }
        claims.update(self.role_claims(user.role))
        self.count("tokens")
        print(f"token for {user.username} ({user.role}) via {grant_type}", flush=True)
        return self.keys.sign(claims)

    def role_claims(self, role: str) -> dict[str, Any]:
        """Where the role goes: as Keycloak puts realm roles or client roles, or flat."""
        if self.shape == "keycloak":
            return {"realm_access": {"roles": [role, "offline_access"]}}
        if self.shape == "keycloak-client":
            return {
                "realm_access": {"roles": ["offline_access"]},
                "resource_access": {self.audience: {"roles": [role]}},
            }
        return {"role": role}

    def discovery(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "userinfo_endpoint": f"{base}/userinfo",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "scopes_supported": ["openid", "profile", "email"],
            "kompas_development_login": True,
        }
