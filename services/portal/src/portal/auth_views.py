"""Signing in (authorization code with PKCE), signing out, and the language choice."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, redirect, request

from .oidc import SignInError, pkce_pair, unverified_claims
from .sessions import PendingLogin
from .settings import Settings
from .web import (
    FORM_EXPIRED,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    error_page,
    provider,
    render_page,
    settings,
    store,
)

blueprint = Blueprint("auth", __name__)
LOGIN_COOKIE = "kompas_login"


def _local(target: str | None) -> str:
    """Only a path of the portal itself: never a redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def expiry(tokens: dict[str, Any], started: float, config: Settings) -> float:
    """When the session ends: the access token's expiry, at most the session's cap."""
    lifetime = tokens.get("expires_in")
    token_end = time.time() + float(lifetime) if lifetime else None
    claims_exp = unverified_claims(tokens["access_token"]).get("exp")
    ends = [started + config.session_minutes * 60]
    ends += [value for value in (token_end, claims_exp) if value]
    return min(ends)


@blueprint.get("/masuk")
def login() -> Response:
    if request.args.get("expired") and not request.args.get("go"):
        # a short page saying why, so a person is not surprised by the provider's form
        return render_page("signin.html", next_url=_local(request.args.get("next")), expired=True)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    store().start_login(PendingLogin(state, verifier, nonce, _local(request.args.get("next"))))
    response = redirect(provider().authorization_url(state, challenge, nonce))
    # binds the callback to the browser that started the sign-in
    response.set_cookie(
        LOGIN_COOKIE,
        state,
        max_age=600,
        httponly=True,
        secure=settings().cookie_secure,
        samesite="Lax",
        path="/auth",
    )
    return response


@blueprint.get("/auth/callback")
def callback() -> Response:
    state = request.args.get("state", "")
    pending = store().finish_login(state)
    if pending is None or not secrets.compare_digest(state, request.cookies.get(LOGIN_COOKIE, "")):
        return error_page(400, FORM_EXPIRED, "auth.state")
    if "error" in request.args or "code" not in request.args:
        return error_page(403, request.args.get("error_description", ""), "auth.denied")
    tokens = provider().exchange(request.args["code"], pending.verifier)
    identity = (
        provider().verify_id_token(tokens["id_token"], pending.nonce)
        if tokens.get("id_token")
        else {}
    )
    claims = unverified_claims(tokens["access_token"])
    started = time.time()
    session = store().create(
        access_token=tokens["access_token"],
        refresh_token=tokens.get("refresh_token"),
        id_token=tokens.get("id_token"),
        expires_at=expiry(tokens, started, settings()),
        claims=claims,
        name=identity.get("name")
        or claims.get("name")
        or claims.get("preferred_username")
        or claims.get("sub", ""),
    )
    response = redirect(pending.next_url)
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        httponly=True,
        secure=settings().cookie_secure,
        samesite="Lax",
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/auth")
    return response


@blueprint.post("/keluar")
def logout() -> Response:
    session = g.person.session
    store().drop(session.id)
    try:
        target = provider().end_session_url(session.id_token) or "/"
    except SignInError:
        target = "/"
    response = redirect(target, code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@blueprint.get("/bahasa/<language>")
def language(language: str) -> Response:
    response = redirect(_local(request.args.get("next")))
    if language in ("id", "en"):
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            secure=settings().cookie_secure,
            samesite="Lax",
            httponly=True,
        )
    return response
