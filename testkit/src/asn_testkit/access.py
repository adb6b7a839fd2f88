"""Table-driven access checks: every route of a service, every role, allowed or forbidden.

A table row names the route as the OpenAPI document writes it, a concrete path and body,
and the roles that may call it; each role's token (its unit, NIP or agency fixed by the test)
is tried, and so is no token at all. *Allowed* means the answer is neither 401 nor 403 (a
404 or 422 still passed the access check); *forbidden* means 403.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from asn_shared.auth import ROLES

from . import auth

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Row:
    route: str  # "GET /units/{code}", as in the OpenAPI document
    allowed: frozenset[str]
    path: str | None = None  # the concrete path; the route's own when it has no parameters
    body: Any = None
    note: str = ""  # e.g. "another unit's employee"

    @property
    def method(self) -> str:
        return self.route.split()[0]

    @property
    def url_path(self) -> str:
        return self.path or self.route.split()[1]

    @property
    def template(self) -> str:
        return self.route.split()[1]


def row(route: str, *roles: str, path: str | None = None, body: Any = None, note: str = "") -> Row:
    return Row(route, frozenset(roles), path, body, note)


COMMON = [row("GET /openapi.json", *ROLES)]
"""The rows every service shares (ServiceBase's routes); add them to each service's table."""


@dataclass
class Callers:
    """A token per role, bound to the unit, NIP and agency the test's data gives them."""

    unit: str
    nip: str
    agency: str
    tokens: str = "key"  # or "provider": issued by the run's development OpenID provider
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        scopes = {"admin": None, "operator": self.unit, "employee": self.nip, "agency": self.agency}
        issue = auth.provider_token if self.tokens == "provider" else auth.token
        self.headers = {
            role: {"Authorization": f"Bearer {issue(role, scopes[role])}"} for role in ROLES
        }


def routes(document: Mapping[str, Any]) -> set[str]:
    """Every protected route of an OpenAPI document, as ``"METHOD /path"``."""
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in HTTP_METHODS and operation.get("security") != []
    }


def uncovered(document: Mapping[str, Any], table: Iterable[Row]) -> set[str]:
    return routes(document) - {r.route for r in table}


def check_table(base_url: str, table: list[Row], callers: Callers) -> None:
    """The service at ``base_url`` answers as ``table`` says, and the table names every
    protected route of the service's OpenAPI document."""
    document = auth.admin_http.get(f"{base_url}/openapi.json", timeout=10).json()
    missing = uncovered(document, table)
    assert not missing, f"routes the table does not name: {sorted(missing)}"
    wrong = mismatches(base_url, table, callers)
    assert not wrong, "\n".join(wrong)


def read_as(http: requests.Session, url: str) -> Any:
    """What the caller of ``http`` reads at ``url``: the JSON of an answer that must be 200."""
    response = http.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def mismatches(base_url: str, table: Iterable[Row], callers: Callers) -> list[str]:
    """What went otherwise than the table says, one line each; empty when all is as it says."""
    found = []
    for entry in table:
        for role, headers in [*callers.headers.items(), ("anonymous", {})]:
            status = _call(base_url, entry, headers)
            expected = _expectation(entry, role)
            if not _meets(status, expected):
                where = f" ({entry.note})" if entry.note else ""
                found.append(
                    f"{entry.method} {entry.url_path}{where} as {role}: {status}, "
                    f"expected {expected}"
                )
    return found


def _call(base_url: str, entry: Row, headers: dict[str, str]) -> int:
    kwargs: dict[str, Any] = {"headers": headers, "timeout": 30}
    if entry.body is not None:
        kwargs["json"] = entry.body
    return requests.request(entry.method, base_url + entry.url_path, **kwargs).status_code


def _expectation(entry: Row, role: str) -> str:
    if role == "anonymous":
        return "401"
    return "allowed" if role in entry.allowed else "403"


def _meets(status: int, expected: str) -> bool:
    if expected == "allowed":
        return status not in (401, 403) and status < 500
    return status == int(expected)
