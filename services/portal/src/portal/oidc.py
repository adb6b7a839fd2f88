"""The portal as an OpenID Connect client: authorization code with PKCE (S256)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import requests

from .settings import Settings


class SignInError(Exception):
    """The provider refused or the answer did not verify; the message says what."""


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Provider:
    """Discovery, the authorization URL, the code exchange and the ID token's checks."""

    DISCOVERY_SECONDS = 300

    def __init__(self, settings: Settings, http: requests.Session | None = None) -> None:
        self.settings = settings
        self.http = http or requests.Session()
        self._discovery: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def discovery(self) -> dict[str, Any]:
        with self._lock:
            if self._discovery is None or time.time() - self._fetched_at > self.DISCOVERY_SECONDS:
                base = self.settings.backchannel_url or self.settings.issuer
                try:
                    answer = self.http.get(f"{base}/.well-known/openid-configuration", timeout=10)
                    answer.raise_for_status()
                except requests.RequestException as exc:
                    raise SignInError(f"the identity provider does not answer: {exc}") from None
                self._discovery, self._fetched_at = self._backchannel(answer.json()), time.time()
                jwks_url = self.settings.jwks_url or self._discovery["jwks_uri"]
                self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300)
            return self._discovery

    def _backchannel(self, found: dict[str, Any]) -> dict[str, Any]:
        """The endpoints the portal itself calls, at the provider's internal address (the
        browser keeps the public one for signing in)."""
        internal = self.settings.backchannel_url
        if not internal:
            return found
        public = self.settings.issuer
        for key in ("token_endpoint", "jwks_uri", "userinfo_endpoint"):
            if str(found.get(key, "")).startswith(public):
                found[key] = internal + found[key][len(public) :]
        return found

    def authorization_url(self, state: str, challenge: str, nonce: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_uri,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.discovery()['authorization_endpoint']}?{urlencode(query)}"

    def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.redirect_uri,
            "client_id": self.settings.client_id,
            "code_verifier": verifier,
        }
        return self._token(form)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.settings.client_id,
        }
        return self._token(form)

    def _token(self, form: dict[str, str]) -> dict[str, Any]:
        if self.settings.client_secret:
            form["client_secret"] = self.settings.client_secret
        try:
            answer = self.http.post(self.discovery()["token_endpoint"], data=form, timeout=10)
        except requests.RequestException as exc:
            raise SignInError(f"the token endpoint does not answer: {exc}") from None
        if answer.status_code != 200:
            raise SignInError(f"the token endpoint refused: {answer.status_code} {answer.text}")
        tokens = answer.json()
        if not tokens.get("access_token"):
            raise SignInError("the token endpoint sent no access token")
        return tokens

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        self.discovery()
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token)
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256", "ES256", "PS256"],
                audience=self.settings.client_id,
                issuer=self.discovery()["issuer"],
            )
        except jwt.PyJWTError as exc:
            raise SignInError(f"the ID token does not verify: {exc}") from None
        if claims.get("nonce") != nonce:
            raise SignInError("the ID token's nonce is not the one this sign-in sent")
        return claims

    def end_session_url(self, id_token: str | None) -> str | None:
        endpoint = self.discovery().get("end_session_endpoint")
        if not endpoint:
            return None
        query = {
            "post_logout_redirect_uri": f"{self.settings.public_url}/",
            **({"id_token_hint": id_token} if id_token else {}),
        }
        return f"{endpoint}?{urlencode(query)}"


def unverified_claims(token: str) -> dict[str, Any]:
    """An access token's claims, read to know the person's role, unit and NIP for navigation.

    The token came straight from the provider's token endpoint; the services verify it on
    every call, and what a person may see is only ever what they answer.
    """
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
