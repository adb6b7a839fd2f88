"""Server-side sessions: the browser holds a random id, the tokens stay here.

The store lives in the portal process (one process, many threads: see the Dockerfile and
``__main__``), so a restart signs everyone out, who then simply signs in again.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Session:
    id: str
    access_token: str
    expires_at: float  # the access token's expiry, or the session's cap when sooner
    claims: dict[str, Any]
    name: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    refresh_token: str | None = None
    id_token: str | None = None
    created_at: float = field(default_factory=time.time)
    # import reports this person uploaded: import id → (report, the NIPs of the file)
    imports: dict[str, tuple[dict[str, Any], list[str]]] = field(default_factory=dict)
    reviewed: dict[str, set[str]] = field(default_factory=dict)  # per import, by training

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


@dataclass
class PendingLogin:
    """What the callback needs to finish a sign-in it started: PKCE verifier, state, nonce."""

    state: str
    verifier: str
    nonce: str
    next_url: str
    created_at: float = field(default_factory=time.time)


class Store:
    LOGIN_SECONDS = 600  # a sign-in not finished in ten minutes starts again

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._logins: dict[str, PendingLogin] = {}
        self._lock = threading.Lock()

    def create(self, **values: Any) -> Session:
        session = Session(id=secrets.token_urlsafe(32), **values)
        with self._lock:
            self._sweep()
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            return self._sessions.get(session_id)

    def drop(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def start_login(self, login: PendingLogin) -> None:
        with self._lock:
            self._sweep()
            self._logins[login.state] = login

    def finish_login(self, state: str) -> PendingLogin | None:
        with self._lock:
            login = self._logins.pop(state, None)
        if login and time.time() - login.created_at < self.LOGIN_SECONDS:
            return login
        return None

    def _sweep(self) -> None:
        now = time.time()
        for key in [k for k, s in self._sessions.items() if s.expires_at + 3600 < now]:
            del self._sessions[key]
        for key in [k for k, p in self._logins.items() if p.created_at + self.LOGIN_SECONDS < now]:
            del self._logins[key]
