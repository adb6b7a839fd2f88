"""Hostile input: the whole suite running once (every service a real ``nameko run`` process on
a virtual host and databases of its own) for every test in this directory, and a client that
asserts the status it expects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from asn_testkit import auth
from asn_testkit.suite import Suite

SERVICES = ("competency", "training", "budget", "notification")
PROBLEM_JSON = "application/problem+json"
ENV = {
    "EVENT_RETRY_DELAY": "0.2",
    "OUTBOX_POLL_INTERVAL": "0.1",
    "DISPATCH_INTERVAL": "0.5",
    "EVENT_MAX_BYTES": str(2 * 1024 * 1024),  # configured; the HTTP limits keep their defaults
}


class Api:
    """A thin HTTP client of one running service that asserts the status it expects."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = auth.session()

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any):
        response = self.http.request(method, self.url + path, timeout=120, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.text[:2000])
        return response

    def get(self, path: str, expect: int | None = 200, **kwargs: Any):
        return self.call("GET", path, expect, **kwargs)

    def post(self, path: str, expect: int | None = 201, **kwargs: Any):
        return self.call("POST", path, expect, **kwargs)

    def total(self, path: str, **params: Any) -> int:
        """How many rows a list endpoint holds (``total`` of its first page)."""
        return self.get(path, params={**params, "per_page": 1}).json()["total"]

    def serving(self) -> None:
        """The service answers ``/health`` and an ordinary authenticated request."""
        assert requests.get(self.url + "/health", timeout=30).status_code == 200
        self.get("/openapi.json")


@pytest.fixture(scope="session")
def hostile_suite(broker, database_server, tmp_path_factory, pytestconfig) -> Iterator[Suite]:
    """Every service, started once for the directory's tests (they only add to its data)."""
    vhost = broker.create_vhost()
    databases = {name: database_server.create(path) for name, path in Suite.migrations().items()}
    running = Suite(
        broker.uri(vhost),
        databases,
        services_dir=pytestconfig.rootpath / "services",
        log_dir=tmp_path_factory.mktemp("hostile-logs"),
        env=ENV,
    )
    running.vhost = vhost
    try:
        yield running.start(timeout=120)
    finally:
        running.stop()
        for url in databases.values():
            database_server.drop(url)
        broker.delete_vhost(vhost)


@pytest.fixture(scope="session")
def apis(hostile_suite: Suite) -> dict[str, Api]:
    return {name: Api(hostile_suite.url(name)) for name in SERVICES}


def assert_problem(response, status: int, *words: str) -> dict[str, Any]:
    """``response`` is a problem+json of ``status`` whose detail or errors name ``words``."""
    assert response.status_code == status, (response.status_code, response.text[:2000])
    assert response.headers["Content-Type"].startswith(PROBLEM_JSON), response.headers
    problem = response.json()
    assert problem["status"] == status and problem["title"], problem
    said = f"{problem.get('detail', '')} {problem.get('errors', '')}"
    for word in words:
        assert word in said, (word, problem)
    return problem


@pytest.fixture(scope="session")
def problem():
    """``problem(response, 400, "field")``: helper for the tests (they cannot import this)."""
    return assert_problem
