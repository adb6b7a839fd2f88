"""``asn-admin token ROLE``: a bearer token to try the API with, e.g. with curl.

With ``AUTH_OIDC_ISSUER`` naming the development provider (``python -m asn_shared.devidp``),
people's tokens come from it through the authorization code grant with PKCE, signing in on its
development login form. An agency's come through the client credentials grant, from any
provider: ``--agency`` names the client and ``--client-secret`` (or ``AUTH_CLIENT_SECRET``) its
secret; at the development provider both default to its demo agency client. With only
``AUTH_JWT_KEY``, an HS256 secret, the token is signed locally with it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from http.client import HTTPResponse
from typing import Any

import jwt

from .auth import ADMIN, AGENCY, EMPLOYEE, OPERATOR, SCOPE_CLAIM

REDIRECT_URI = "http://127.0.0.1/callback"  # never listened on: the code is read from Location
CLI_CLIENT = "asn-admin"


def local_token(
    key: str, role: str = ADMIN, scope: str | None = None, *, ttl: float = 3600, **claims: Any
) -> str:
    """A token signed with the HS256 secret ``key``; ``scope`` fills the role's claim."""
    now = int(time.time())
    payload = {"sub": f"{role}-{uuid.uuid4().hex[:8]}", "role": role, "iat": now}
    payload["exp"] = now + int(ttl)
    if role in SCOPE_CLAIM and scope is not None:
        payload[SCOPE_CLAIM[role]] = scope
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="HS256")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _call(
    url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> HTTPResponse | urllib.error.HTTPError:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, body, headers or {})
    try:
        response: HTTPResponse = _opener.open(request, timeout=10)
        return response
    except urllib.error.HTTPError as answer:
        if answer.code in (301, 302, 303):
            return answer
        raise SystemExit(f"{url}: {answer.code} {answer.read().decode(errors='replace')}") from None


def discovery(issuer: str) -> dict[str, Any]:
    with _call(f"{issuer.rstrip('/')}/.well-known/openid-configuration") as answer:
        document: dict[str, Any] = json.loads(answer.read())
        return document


def provider_token(
    issuer: str, role: str, scope: str | None = None, client_id: str = CLI_CLIENT
) -> str:
    """A person's token from the development provider: authorization code with PKCE."""
    endpoints = discovery(issuer)
    if not endpoints.get("kompas_development_login"):
        raise SystemExit(
            f"{issuer} is not the development provider: sign in through its own login page."
        )
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    login = {"role": role, **({SCOPE_CLAIM[role]: scope} if role in SCOPE_CLAIM else {})}
    authorize = f"{endpoints['authorization_endpoint']}?{urllib.parse.urlencode(query)}"
    with _call(authorize, {key: value or "" for key, value in login.items()}) as answer:
        location = urllib.parse.urlparse(answer.headers["Location"])
    code = urllib.parse.parse_qs(location.query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    with _call(endpoints["token_endpoint"], exchange) as answer:
        return _access_token(answer.read())


def client_credentials_token(issuer: str, client_id: str, secret: str) -> str:
    """A machine client's token (an agency's system): the client credentials grant."""
    endpoints = discovery(issuer)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    grant = {"grant_type": "client_credentials"}
    with _call(endpoints["token_endpoint"], grant, {"Authorization": f"Basic {basic}"}) as answer:
        return _access_token(answer.read())


def _access_token(body: bytes) -> str:
    token: str = json.loads(body)["access_token"]
    return token


def agency_token(issuer: str, client_id: str | None, secret: str | None) -> str:
    """An agency's token; at the development provider its demo agency client by default."""
    if not (client_id and secret) and discovery(issuer).get("kompas_development_login"):
        from .devidp.people import CLIENTS  # the development provider's own demo clients

        known = {c.client_id: c.secret for c in CLIENTS if c.agency}
        client_id = client_id or next(iter(known))
        secret = secret or known.get(client_id)
    if not (client_id and secret):
        raise SystemExit(
            "an agency's token needs --agency CLIENT_ID and --client-secret (or AUTH_CLIENT_SECRET)"
        )
    return client_credentials_token(issuer, client_id, secret)


def token_for(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    scope = {OPERATOR: args.unit, EMPLOYEE: args.nip, AGENCY: args.agency}.get(args.role)
    issuer = environ.get("AUTH_OIDC_ISSUER")
    if issuer and args.role == AGENCY:
        secret = args.client_secret or environ.get("AUTH_CLIENT_SECRET")
        return agency_token(issuer, scope, secret)
    if args.role in SCOPE_CLAIM and not scope:
        raise SystemExit(f"a token of role {args.role} needs --{SCOPE_CLAIM[args.role]}")
    if issuer:
        return provider_token(issuer, args.role, scope)
    key = environ.get("AUTH_JWT_KEY", "")
    if not key or key.lstrip().startswith("-----BEGIN"):
        raise SystemExit("set AUTH_OIDC_ISSUER, or AUTH_JWT_KEY to an HS256 secret")
    return local_token(key, args.role, scope, ttl=args.ttl)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("token", help="print a bearer token for a role")
    parser.add_argument("role", choices=[ADMIN, OPERATOR, EMPLOYEE, AGENCY])
    parser.add_argument("--unit", help="operator: the unit code")
    parser.add_argument("--nip", help="employee: the NIP")
    parser.add_argument("--agency", help="agency: its client id at the provider")
    parser.add_argument("--client-secret", help="agency: the client secret at the provider")
    parser.add_argument("--ttl", type=float, default=3600, help="seconds (local signing only)")


def main(args: argparse.Namespace) -> None:
    print(token_for(args))
