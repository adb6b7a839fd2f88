"""The Flask application: hooks for correlation ids, sessions, CSRF, security headers and
metrics; error pages; and the blueprints of each group of pages."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, redirect, render_template, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from . import formats, i18n, logs
from .api import ServiceProblem, Services
from .oidc import Provider, SignInError
from .sessions import Session, Store
from .settings import Settings

log = logging.getLogger("portal")
REQUESTS = Counter(
    "portal_http_requests_total", "Requests the portal answered", ["endpoint", "method", "status"]
)
PAGE_SECONDS = Histogram(
    "portal_request_seconds",
    "Server time per request, service calls included",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SESSION_COOKIE = "kompas_session"
LANGUAGE_COOKIE = "kompas_lang"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
PUBLIC = ("static", "auth.login", "auth.callback", "auth.language", "health", "metrics", "home")
ROLES = ("admin", "operator", "employee", "agency")


def create_app(settings: Settings, store: Store | None = None) -> Flask:
    app = Flask("portal")
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = 9 * 1024 * 1024  # competency takes 8 MiB imports
    app.extensions["kompas_store"] = store or Store.open(settings.database_url)
    app.extensions["kompas_provider"] = Provider(settings)
    _hooks(app)
    _template_helpers(app)
    _error_pages(app)
    _operational_routes(app)
    from . import (
        auth_views,
        pages_admin,
        pages_employee,
        pages_imports,
        pages_proposals,
        pages_setup,
        pages_work,
    )

    pages = (pages_employee, pages_admin, pages_proposals, pages_imports, pages_work, pages_setup)
    for module in (auth_views, *pages):
        app.register_blueprint(module.blueprint)
    return app


def store() -> Store:
    from flask import current_app

    return current_app.extensions["kompas_store"]


def provider() -> Provider:
    from flask import current_app

    return current_app.extensions["kompas_provider"]


def settings() -> Settings:
    from flask import current_app

    return current_app.config["SETTINGS"]


# --- who is signed in -----------------------------------------------------------------------


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def role_of(claims: dict[str, Any], paths: tuple[str, ...]) -> str | None:
    """The first of admin, operator, employee, agency the token holds, as the services read it."""
    held: set[str] = set()
    for path in paths:
        value = _claim(claims, path)
        held.update([value] if isinstance(value, str) else value or [])
    return next((role for role in ROLES if role in held), None)


class Person:
    """The signed-in person as the pages need them: role, unit or NIP, a client of the suite."""

    def __init__(self, session: Session, config: Settings) -> None:
        self.session = session
        self.name = session.name
        self.role = role_of(session.claims, config.roles_claim)
        self.unit = _claim(session.claims, config.unit_claim)
        self.nip = _claim(session.claims, config.nip_claim)
        self.services = Services(dict(config.service_urls), session.access_token)

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "operator")


def current() -> Person:
    return g.person


def _refresh(session: Session) -> bool:
    """A new access token from the refresh token, where the provider gave one."""
    if not session.refresh_token:
        return False
    try:
        tokens = provider().refresh(session.refresh_token)
    except SignInError:
        return False
    from . import auth_views

    session.access_token = tokens["access_token"]
    session.refresh_token = tokens.get("refresh_token", session.refresh_token)
    session.expires_at = auth_views.expiry(tokens, session.created_at, settings())
    store().save(session)
    return not session.expired


def sign_in_again() -> Response:
    """Back to the provider, then to where the person was (an htmx call: the whole page)."""
    here = request.full_path.removesuffix("?")  # Flask's full_path ends in "?" without a query
    target = here if request.method == "GET" else request.referrer or "/"
    if request.headers.get("HX-Request") and request.headers.get("HX-Current-URL"):
        target = request.headers["HX-Current-URL"]
    url = "/masuk?" + urlencode({"next": target, "expired": "1"})
    if request.headers.get("HX-Request"):
        return Response(status=200, headers={"HX-Redirect": url})
    return redirect(url)


# --- hooks ------------------------------------------------------------------------------------


def _hooks(app: Flask) -> None:
    @app.before_request
    def begin() -> Response | None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Correlation-ID", "")
        g.correlation_id = incoming if 8 <= len(incoming) <= 100 else str(uuid.uuid4())
        logs.correlation_id.set(g.correlation_id)
        g.nonce = secrets.token_urlsafe(16)
        language = request.cookies.get(LANGUAGE_COOKIE)
        g.language = language if language in i18n.LANGUAGES else "id"
        g.person = None
        session = store().get(request.cookies.get(SESSION_COOKIE))
        if session and (not session.expired or _refresh(session)):
            g.person = Person(session, settings())
        if request.endpoint in PUBLIC or request.endpoint is None:
            return None
        if g.person is None:
            return sign_in_again()
        if request.method in UNSAFE and not _csrf_ok(session):
            return error_page(400, FORM_EXPIRED, "csrf")
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        _security_headers(response)
        response.headers["X-Correlation-ID"] = g.get("correlation_id", "")
        endpoint = request.endpoint or "unknown"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        response.headers["Server-Timing"] = f"app;dur={elapsed * 1000:.1f}"
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        PAGE_SECONDS.labels(endpoint).observe(elapsed)
        if endpoint not in ("static", "metrics", "health"):
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                    "role": g.person.role if g.get("person") else None,
                },
            )
        return response


def _csrf_ok(session: Session) -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    return secrets.compare_digest(sent, session.csrf)


def _security_headers(response: Response) -> None:
    form_action = f"'self' {settings().issuer}"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"


# --- templates --------------------------------------------------------------------------------


def _template_helpers(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(
        rupiah=formats.rupiah,
        number=formats.number,
        decimal=formats.decimal,
        percent=formats.percent,
        nip=formats.nip,
        tanggal=lambda value: formats.tanggal(value, g.get("language", "id")),
        status=lambda value: i18n.status(value, g.get("language", "id")),
    )

    @app.context_processor
    def helpers() -> dict[str, Any]:
        language = g.get("language", "id")
        person = g.get("person")
        return {
            "_": lambda text: i18n.translate(text, language),
            "language": language,
            "person": person,
            "csrf_token": person.session.csrf if person else "",
            "field_message": lambda message: i18n.field_message(message, language),
        }


def render_page(template: str, status: int = 200, **context: Any) -> Response:
    """A whole page, or only its ``#main`` when htmx asks for a fragment."""
    return Response(render_template(template, **context), status=status)


# --- errors -----------------------------------------------------------------------------------


FORM_EXPIRED = "Formulir ini sudah kedaluwarsa; muat ulang halaman lalu kirim lagi."
ERROR_TITLES = {
    400: "Formulir kedaluwarsa",
    403: "Akses ditolak",
    404: "Halaman tidak ditemukan",
    413: "Berkas terlalu besar",
    500: "Terjadi kesalahan",
    503: "Layanan tidak dapat dihubungi",
}


def error_page(status: int, detail: str = "", code: str | None = None) -> Response:
    title = ERROR_TITLES.get(status, "Layanan tidak dapat dihubungi")
    return render_page("error.html", status=status, title=title, detail=detail, code=code)


def _error_pages(app: Flask) -> None:
    @app.errorhandler(ServiceProblem)
    def service_problem(problem: ServiceProblem) -> Response:
        if problem.status == 401:
            store().drop(request.cookies.get(SESSION_COOKIE))
            return sign_in_again()
        if problem.status >= 500:
            log.warning("service %s answered %s", problem.service, problem.status)
            return error_page(503, "Coba lagi sebentar lagi.", problem.service)
        if problem.status in ERROR_TITLES:
            return error_page(problem.status, problem.detail, problem.code)
        return render_page(
            "error.html",
            status=problem.status,
            title=str(problem.body.get("title") or problem.status),
            detail=problem.detail,
            code=problem.code,
        )

    @app.errorhandler(404)
    def not_found(_error) -> Response:
        return error_page(404)

    @app.errorhandler(413)
    def too_large(_error) -> Response:
        detail = "Satu unggahan paling besar 8 MiB; bagi berkasnya."
        return error_page(413, detail, "portal.too_large")

    @app.errorhandler(500)
    def failed(_error) -> Response:
        # the trace is in the log under this correlation id, which the page shows
        return error_page(500, "Coba lagi sebentar lagi.", g.get("correlation_id"))

    @app.errorhandler(SignInError)
    def sign_in_failed(error: SignInError) -> Response:
        log.warning("sign-in failed: %s", error)
        return error_page(502, "Coba lagi sebentar lagi.", "auth.provider")


def _operational_routes(app: Flask) -> None:
    @app.get("/health")
    def health() -> tuple[dict[str, Any], int]:
        try:
            provider().discovery()
        except SignInError:
            return {"status": "unhealthy", "provider": "unreachable"}, 503
        if not store().answers():
            return {"status": "unhealthy", "provider": "ok", "database": "unreachable"}, 503
        return {"status": "ok", "provider": "ok", "database": "ok"}, 200

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    @app.get("/")
    def home() -> Response:
        person = g.get("person")
        if person is None:
            return render_page("welcome.html")
        if person.role == "employee" and person.nip:
            return redirect(f"/pegawai/{person.nip}")
        if person.is_staff:
            return redirect("/ikhtisar")
        return error_page(403, "Peran ini tidak memiliki halaman di portal.", "portal.no_role")
