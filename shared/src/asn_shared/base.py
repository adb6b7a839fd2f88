"""What every service has: its database, telemetry, ``GET /health`` and ``GET /metrics``."""

from __future__ import annotations

from typing import Any, ClassVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from werkzeug.wrappers import Request, Response

from . import auth, metrics
from .dependencies import Database, Telemetry
from .entrypoints import api
from .openapi import build_document
from .settings import ServiceSettings


class ServiceBase:
    """Base class of the suite's nameko services; a subclass sets ``name`` and, when it reads
    settings of its own, ``settings_class`` (read once, at start: asn_shared.settings)."""

    name: str
    settings_class: ClassVar[type[ServiceSettings]] = ServiceSettings
    db = Database()
    telemetry = Telemetry()

    @api("GET", "/health", public=True, summary="Database and broker reachable?", tags=["meta"])
    def health(self, request: Request) -> tuple[int, dict[str, Any]]:
        checks = self.db.health()
        healthy = all(state == "ok" for state in checks.values())
        return (200 if healthy else 503), {"status": "ok" if healthy else "down", "checks": checks}

    @api(
        "GET",
        "/openapi.json",
        roles=auth.EVERYONE,
        summary="This API's OpenAPI 3.1 document",
        tags=["meta"],
    )
    def openapi(self, request: Request) -> dict[str, Any]:
        return build_document(type(self))

    @api("GET", "/metrics", public=True, summary="Prometheus metrics", tags=["meta"])
    def metrics(self, request: Request) -> Response:
        try:
            metrics.OUTBOX_BACKLOG.labels(self.name).set(self.db.outbox_backlog())
        except Exception:  # noqa: BLE001 - a scrape must answer even when the database is down
            pass
        return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
