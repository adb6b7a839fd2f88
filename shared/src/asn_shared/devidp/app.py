"""The development provider's HTTP endpoints (Flask and Authlib's authorization server)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from html import escape
from typing import Any, cast

import jwt
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import BaseGrant, ClientMixin, OAuth2Request, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from ..auth import ROLES
from . import TOKEN_SECONDS, AuthorizationCode, ClientModel, Provider
from .people import Person

LOGIN_FORM = """<!doctype html><html lang="id"><meta charset="utf-8">
<title>Masuk - penyedia identitas pengembangan</title>
<h1>Masuk (penyedia identitas pengembangan)</h1>
<form method="post">
<p><label>Pengguna demo <select name="username">{options}</select></label>
<button>Masuk</button></p></form>
<form method="post"><p>Atau sebagai siapa saja:
<label>peran <select name="role">{roles}</select></label>
<label>unit <input name="unit"></label> <label>NIP <input name="nip"></label>
<label>instansi <input name="agency"></label> <button>Masuk</button></p></form>
"""


def create_app(provider: Provider) -> Flask:
    app = Flask("asn_shared.devidp")
    server = AuthorizationServer(app, query_client=lambda cid: _client(provider, cid))
    server.save_token = lambda token, request: None  # JWTs: nothing to store
    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            provider.access_token, expires_generator=lambda client, grant_type: TOKEN_SECONDS
        ),
    )
    server.register_grant(_code_grant(provider), [CodeChallenge(required=True), _openid(provider)])
    server.register_grant(grants.ClientCredentialsGrant)
    _routes(app, server, provider)
    return app


def _client(provider: Provider, client_id: str) -> ClientModel | None:
    client = provider.clients.get(client_id)
    return ClientModel(client) if client else None


def _code_grant(provider: Provider) -> type[grants.AuthorizationCodeGrant]:
    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, req: OAuth2Request) -> None:
            client, payload = req.client, req.payload
            assert client is not None and payload is not None, "Authlib checked both first"
            provider.codes[code] = AuthorizationCode(
                code=code,
                client_id=client.get_client_id(),
                redirect_uri=payload.redirect_uri,
                scope=payload.scope or "",
                user=cast(Person, req.user),  # the person authorize() granted the code to
                code_challenge=payload.data.get("code_challenge"),
                code_challenge_method=payload.data.get("code_challenge_method"),
                nonce=payload.data.get("nonce"),
            )

        def query_authorization_code(
            self, code: str, client: ClientMixin
        ) -> AuthorizationCode | None:
            found = provider.codes.get(code)
            if found and found.client_id == client.get_client_id():
                return found if found.expires_at > time.time() else None
            return None

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthorizationCode) -> Person:
            return authorization_code.user

    return CodeGrant


def _openid(provider: Provider) -> OpenIDCode:
    class OpenID(OpenIDCode):
        def exists_nonce(self, nonce: str, req: OAuth2Request) -> bool:
            return any(code.nonce == nonce for code in provider.codes.values())

        def get_jwt_config(self, grant: BaseGrant) -> dict[str, Any]:
            key = provider.keys.current
            return {
                "key": key.pem(),
                "alg": "RS256",
                "iss": provider.issuer,
                "exp": TOKEN_SECONDS,
                "kid": key.kid,
            }

        def generate_user_info(self, user: Person, scope: str) -> UserInfo:
            return UserInfo(sub=user.username, name=user.name, **user.scope_claims())

    return OpenID(require_nonce=False)


def _routes(app: Flask, server: AuthorizationServer, provider: Provider) -> None:
    @app.get("/.well-known/openid-configuration")
    def discovery() -> ResponseReturnValue:
        provider.count("discovery")
        return jsonify(provider.discovery())

    @app.get("/jwks")
    def jwks() -> ResponseReturnValue:
        provider.count("jwks")
        return jsonify(provider.keys.jwks())

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> ResponseReturnValue:
        try:
            grant = server.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            return jsonify(dict(error.get_body())), error.status_code
        if request.method == "GET":
            return _login_form(provider)
        person = _signed_in(provider, request.form)
        if person is None:
            return jsonify(error="access_denied", error_description="unknown person"), 400
        # Authlib's Flask integration is untyped: its responses are Flask's
        return cast(Response, server.create_authorization_response(grant_user=person, grant=grant))

    @app.post("/token")
    def token() -> ResponseReturnValue:
        return cast(Response, server.create_token_response())

    @app.get("/userinfo")
    def userinfo() -> ResponseReturnValue:
        claims = _bearer_claims(provider)
        if claims is None:
            return Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        return jsonify({k: v for k, v in claims.items() if k not in ("aud", "exp", "iat", "jti")})

    @app.post("/dev/rotate")
    def rotate() -> ResponseReturnValue:
        provider.keys.rotate(retire=bool((request.get_json(silent=True) or {}).get("retire")))
        return jsonify(kid=provider.keys.current.kid, jwks=provider.keys.jwks())

    @app.get("/dev/stats")
    def stats() -> ResponseReturnValue:
        return jsonify(provider.counts)


def _login_form(provider: Provider) -> str:
    options = "".join(
        f'<option value="{escape(p.username)}">{escape(p.name)} ({p.role})</option>'
        for p in provider.people.values()
    )
    roles = "".join(f"<option>{role}</option>" for role in ROLES if role != "agency") + (
        "<option>agency</option>"
    )
    return LOGIN_FORM.format(options=options, roles=roles)


def _signed_in(provider: Provider, form: Mapping[str, str]) -> Person | None:
    """A demo person by ``username``, or anyone: ``role`` with ``unit`` / ``nip`` / ``agency``."""
    if form.get("username"):
        return provider.people.get(form["username"])
    role = form.get("role")
    if role is None or role not in ROLES:
        return None
    scope = {claim: form.get(claim) or None for claim in ("unit", "nip", "agency")}
    username = form.get("sub") or f"{role}-{secrets.token_hex(4)}"
    return Person(username, username, role, **scope)


def _bearer_claims(provider: Provider) -> dict[str, Any] | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    for key in (provider.keys.current, *provider.keys.previous):
        try:
            public = key.private.public_key()
            return jwt.decode(token, public, ["RS256"], audience=provider.audience)
        except jwt.InvalidTokenError:
            continue
    return None
