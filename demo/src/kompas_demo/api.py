"""The four services' HTTP APIs as the demo uses them: JSON in, JSON out, problems as errors."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import requests

DEFAULT_URLS = {
    "competency": "http://127.0.0.1:8001",
    "training": "http://127.0.0.1:8002",
    "budget": "http://127.0.0.1:8003",
    "notification": "http://127.0.0.1:8004",
}
PAGE_SIZE = 500  # the largest page the services serve
RETRIES = 3


class ServiceError(Exception):
    """A service refused a request or could not be reached; the message says which and why."""


class Client:
    """One service. Safe to share between threads: each thread has its own HTTP session."""

    def __init__(
        self, name: str, url: str, timeout: float = 60.0, token: str | None = None
    ) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.token = token
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            if self.token:
                self._local.session.headers["Authorization"] = f"Bearer {self.token}"
        return self._local.session

    def request(
        self, method: str, path: str, *, expect: tuple[int, ...], retries: int = RETRIES, **kwargs
    ) -> Any:
        """The JSON answer (or text) when the status is one of ``expect``. A 5xx answer or a
        broken connection is tried again, after 1, 2, 4 … seconds: every call the demo
        repeats this way is safe to repeat."""
        response = self._send(method, path, retries, **kwargs)
        if response.status_code not in expect:
            raise ServiceError(f"{self.name}: {method} {path} → {describe(response)}")
        if response.headers.get("Content-Type", "").startswith("text/plain"):
            return response.text
        return response.json() if response.content else None

    def _send(self, method: str, path: str, retries: int, **kwargs) -> requests.Response:
        for attempt in range(retries + 1):
            try:
                response = self.session.request(
                    method, f"{self.url}{path}", timeout=self.timeout, **kwargs
                )
            except requests.RequestException as exc:
                if attempt == retries:
                    raise ServiceError(
                        f"{self.name} ({self.url}) tidak dapat dihubungi: {type(exc).__name__}"
                    ) from None
            else:
                if response.status_code < 500 or attempt == retries:
                    return response
            time.sleep(2**attempt)
        raise AssertionError("unreachable")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, expect=(200,), params=params)

    def create(self, path: str, body: dict[str, Any], *, retries: int = RETRIES) -> bool:
        """POST ``body``; True when created, False when it was there already (409)."""
        response = self._send("POST", path, retries, json=body)
        if response.status_code in (200, 201):
            return True
        if response.status_code == 409:
            return False
        raise ServiceError(f"{self.name}: POST {path} → {describe(response)}")

    def total(self, path: str, **params: Any) -> int:
        """How many items a paginated list holds (one item is fetched)."""
        return self.get(path, **params, page=1, per_page=1)["total"]

    def every(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, page by page."""
        page = 1
        while True:
            answer = self.get(path, **params, page=page, per_page=PAGE_SIZE)
            yield from answer["items"]
            if page * PAGE_SIZE >= answer["total"] or not answer["items"]:
                return
            page += 1

    def healthy(self) -> bool:
        try:
            return self.session.get(f"{self.url}/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def outbox_backlog(self) -> int:
        """Events committed but not yet confirmed by the broker (from ``/metrics``)."""
        text = self.request("GET", "/metrics", expect=(200,))
        found = re.search(r"^asn_outbox_backlog\{[^}]*\} ([0-9.e+]+)$", text, re.MULTILINE)
        return int(float(found.group(1))) if found else 0


def describe(response: requests.Response) -> str:
    """A problem+json answer as one line: status, detail and the fields named."""
    try:
        problem = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(problem, dict):
        return f"HTTP {response.status_code}"
    text = f"HTTP {response.status_code} {problem.get('detail') or problem.get('title') or ''}"
    if problem.get("errors"):
        text += f" {problem['errors']}"
    return text.strip()


@dataclass(frozen=True)
class Services:
    competency: Client
    training: Client
    budget: Client
    notification: Client

    @classmethod
    def at(cls, urls: dict[str, str], timeout: float = 60.0, token: str | None = None) -> Services:
        return cls(**{name: Client(name, url, timeout, token) for name, url in urls.items()})

    def all(self) -> tuple[Client, ...]:
        return (self.competency, self.training, self.budget, self.notification)

    def unhealthy(self) -> list[Client]:
        return [client for client in self.all() if not client.healthy()]


def admin_token(environ: dict[str, str] | None = None) -> str | None:
    """``KOMPAS_TOKEN`` (a BKPSDM admin token from the identity provider); failing that, on a
    demo machine whose services share the secret ``AUTH_JWT_KEY``, a one-hour token signed
    with it."""
    environ = os.environ if environ is None else environ
    if environ.get("KOMPAS_TOKEN"):
        return environ["KOMPAS_TOKEN"]
    key = environ.get("AUTH_JWT_KEY", "")
    if not key or key.lstrip().startswith("-----BEGIN"):
        return None
    now = int(time.time())
    claims = {"sub": "kompas-demo", "role": "admin", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, key, algorithm="HS256")


def urls_from_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """COMPETENCY_URL, TRAINING_URL, BUDGET_URL, NOTIFICATION_URL, else the local defaults."""
    environ = os.environ if environ is None else environ
    return {name: environ.get(f"{name.upper()}_URL", url) for name, url in DEFAULT_URLS.items()}
