"""The four services' HTTP APIs, called with the signed-in person's own token."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from prometheus_client import Histogram

from . import logs

SERVICE_SECONDS = Histogram(
    "portal_service_call_seconds",
    "Time the portal waited for a service's answer",
    ["service", "method"],
)
PAGE_SIZE = 500  # the largest page the services serve


class ServiceProblem(Exception):
    """A service's problem+json answer (or no answer at all: status 503)."""

    def __init__(self, service: str, status: int, body: dict[str, Any] | None = None) -> None:
        self.service = service
        self.status = status
        self.body = body or {}
        super().__init__(f"{service}: {status} {self.detail}")

    @property
    def detail(self) -> str:
        return str(self.body.get("detail") or self.body.get("title") or "")

    @property
    def code(self) -> str | None:
        return self.body.get("code")

    @property
    def field_errors(self) -> dict[str, Any]:
        errors = self.body.get("errors")
        return errors if isinstance(errors, dict) else {}

    def field_messages(self) -> dict[str, list[str]]:
        """Each field's messages as a list; a refusal naming no field under ``_``."""
        found = {name: _flat(messages) for name, messages in self.field_errors.items()}
        return found or {"_": [self.detail]}

    @property
    def field_codes(self) -> dict[str, Any]:
        codes = self.body.get("error_codes")
        return codes if isinstance(codes, dict) else {}


def _flat(messages: Any, where: str = "") -> list[str]:
    """A field's messages; those of nested items prefixed with where they are (``1.level``)."""
    if isinstance(messages, dict):
        return [
            text
            for key, inner in messages.items()
            for text in _flat(inner, f"{where}{key}." if where else f"{key}.")
        ]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{where[:-1]}: {m}" if where else m for m in messages]
    if isinstance(messages, list):
        return [text for m in messages for text in _flat(m, where)]
    return [f"{where[:-1]}: {messages}" if where else str(messages)]


_local = threading.local()


def _http() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


class Services:
    """One person's view of the suite: every call carries their token and the correlation id."""

    def __init__(self, urls: dict[str, str], token: str, timeout: float = 30.0) -> None:
        self.urls = urls
        self.token = token
        self.timeout = timeout

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if logs.correlation_id.get():
            headers["X-Correlation-ID"] = logs.correlation_id.get()
        started = time.perf_counter()
        try:
            answer = _http().request(
                method,
                f"{self.urls[service]}{path}",
                headers=headers,
                timeout=self.timeout,
                **kwargs,
            )
        except requests.RequestException:
            raise ServiceProblem(service, 503, {"title": "unreachable"}) from None
        finally:
            SERVICE_SECONDS.labels(service, method).observe(time.perf_counter() - started)
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = {"title": answer.reason}
            raise ServiceProblem(service, answer.status_code, body)
        if not answer.content:
            return None
        if "json" in answer.headers.get("Content-Type", ""):
            return answer.json()
        return answer.text

    def get(self, service: str, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None and v != ""}
        return self.call(service, "GET", path, params=clean)

    def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        if "files" in kwargs or "data" in kwargs:
            return self.call(service, "POST", path, **kwargs)
        return self.call(service, "POST", path, json={} if body is None else body)

    def put(self, service: str, path: str, body: Any) -> Any:
        return self.call(service, "PUT", path, json=body)

    def patch(self, service: str, path: str, body: Any) -> Any:
        return self.call(service, "PATCH", path, json=body)

    def delete(self, service: str, path: str) -> Any:
        return self.call(service, "DELETE", path)

    def every(self, service: str, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged list."""
        return list(self._pages(service, path, params))

    def _pages(self, service: str, path: str, params: dict[str, Any]) -> Iterator[dict]:
        page = 1
        while True:
            answer = self.get(service, path, **params, page=page, per_page=PAGE_SIZE)
            yield from answer["items"]
            if page * PAGE_SIZE >= answer["total"]:
                return
            page += 1

    def gather(self, calls: dict[str, tuple]) -> dict[str, Any]:
        """Several GETs at once: name → (service, path, params); a failed one is its problem."""
        correlation = logs.correlation_id.get()

        def run(spec: tuple) -> Any:
            logs.correlation_id.set(correlation)
            service, path, params = spec
            try:
                return self.get(service, path, **params)
            except ServiceProblem as problem:
                return problem

        with ThreadPoolExecutor(max_workers=min(8, max(1, len(calls)))) as pool:
            results = pool.map(run, calls.values())
            return dict(zip(calls, results, strict=True))
