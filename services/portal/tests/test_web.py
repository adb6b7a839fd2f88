"""The portal's own behaviour without the services: sign-in with PKCE at the run's
development provider, server-side sessions, CSRF, security headers, health and metrics,
and how figures read."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from asn_testkit import idp
from portal import formats, i18n
from portal.api import ServiceProblem
from portal.pages_admin import heatmap, shade, units_in_view
from portal.pages_imports import counts, page_of
from portal.pages_setup import competency_levels
from portal.pages_work import development_body
from portal.settings import SettingsError, from_env
from portal.web import create_app

PORTAL = "http://127.0.0.1:8999"


@pytest.fixture
def client(portal_database):
    settings = from_env(
        {
            "AUTH_OIDC_ISSUER": idp.shared().issuer,
            "PORTAL_PUBLIC_URL": PORTAL,
            "PORTAL_DATABASE_URL": portal_database,
        }
    )
    app = create_app(settings)
    yield app.test_client()
    app.extensions["kompas_store"].close()


def sign_in(client, role: str = "employee", **scope: str) -> str:
    """The whole flow; answers the session cookie's value."""
    start = client.get("/masuk?go=1&next=/kotak-masuk")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["redirect_uri"] == [f"{PORTAL}/auth/callback"]
    login = requests.post(
        authorize, data={"role": role, **scope}, allow_redirects=False, timeout=10
    )
    assert login.status_code == 302, login.text
    callback = urlsplit(login.headers["Location"])
    done = client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302 and done.headers["Location"] == "/kotak-masuk"
    cookie = client.get_cookie("kompas_session")
    assert cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    return cookie.value


def test_sign_in_keeps_tokens_on_the_server_and_forms_need_the_csrf_token(client):
    session_id = sign_in(client, nip="198609262015052001")
    assert "." not in session_id  # an opaque id, never a token
    page = client.get("/bahasa/en?next=/")  # a preference only: no form, no token needed
    assert page.status_code == 302
    refused = client.post("/keluar")
    assert refused.status_code == 400
    assert "This form has expired" in refused.get_data(as_text=True)  # English, as chosen
    home = client.get("/", follow_redirects=False)
    assert home.headers["Location"] == "/pegawai/198609262015052001"


def test_logout_with_the_token_ends_the_session(client):
    sign_in(client, nip="198609262015052001")
    html = client.get("/masuk?expired=1").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post("/keluar", data={"csrf_token": token}).status_code == 303
    again = client.get("/kotak-masuk")
    assert again.status_code == 302 and again.headers["Location"].startswith("/masuk?")


def test_a_callback_without_its_sign_in_is_refused(client):
    answer = client.get("/auth/callback?code=x&state=forged")
    assert answer.status_code == 400


def test_an_expired_session_asks_to_sign_in_again_and_htmx_gets_a_redirect(client):
    assert client.get("/usulan").headers["Location"].startswith("/masuk?next=%2Fusulan")
    htmx = client.get("/usulan", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/masuk?")


def test_security_headers_health_and_metrics(client):
    answer = client.get("/")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["X-Correlation-ID"]
    assert (
        client.get("/", headers={"X-Correlation-ID": "abc-12345678"}).headers["X-Correlation-ID"]
        == "abc-12345678"
    )
    assert client.get("/health").json == {"status": "ok", "provider": "ok", "database": "ok"}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'portal_http_requests_total{endpoint="home"' in metrics


def test_settings_refuse_what_the_portal_cannot_work_with():
    with pytest.raises(SettingsError, match="AUTH_OIDC_ISSUER"):
        from_env({})
    with pytest.raises(SettingsError, match="PORTAL_COOKIE_SECURE"):
        from_env({"AUTH_OIDC_ISSUER": "http://idp", "PORTAL_COOKIE_SECURE": "maybe"})


def test_rupiah_dates_and_nip_read_as_people_write_them():
    assert formats.rupiah(5_260_000) == "Rp 5.260.000"
    assert formats.tanggal("2026-11-26") == "26 November 2026"
    assert formats.tanggal("2026-08-17", "en") == "17 August 2026"
    assert formats.nip("198609262015052001") == "19860926 201505 2 001"
    assert formats.percent(0.25) == "25 %"


def test_heatmap_cells_are_the_gap_report_shares():
    reports = {
        "A": {
            "assessed": 4,
            "competencies": [
                {
                    "competency_code": "M.01",
                    "competency_name": "Integritas",
                    "assessed": 4,
                    "below_standard": 1,
                },
                {
                    "competency_code": "T.X",
                    "competency_name": "X",
                    "assessed": 0,
                    "below_standard": 0,
                },
            ],
        },
        "B": {"assessed": 0, "competencies": []},
    }
    heat = heatmap(reports)
    assert heat["columns"] == [("M.01", "Integritas")]
    assert [row["unit"] for row in heat["rows"]] == ["A"]
    assert heat["rows"][0]["cells"][0]["share"] == 0.25
    assert [shade(s) for s in (None, 0, 0.05, 0.25, 0.3, 0.8, 1)] == [
        "shade-none",
        "shade-0",
        "shade-1",
        "shade-2",
        "shade-3",
        "shade-5",
        "shade-5",
    ]


def test_an_operator_views_their_unit_and_those_below_it():
    units = [
        {"code": "PLG", "parent_code": None},
        {"code": "KEC", "parent_code": "PLG"},
        {"code": "KEL-1", "parent_code": "KEC"},
        {"code": "DINKES", "parent_code": "PLG"},
    ]
    assert [u["code"] for u in units_in_view(units, "KEC")] == ["KEC", "KEL-1"]
    assert [u["code"] for u in units_in_view(units, None)] == ["PLG", "DINKES", "KEC", "KEL-1"]


def test_an_import_is_shown_a_page_at_a_time_and_counted_from_what_is_known():
    rows = list(range(120))
    assert page_of(rows, None) == (rows[:50], 1, 3)
    assert page_of(rows, "3") == (rows[100:], 3, 3)
    assert page_of(rows, "9") == (rows[100:], 3, 3)  # past the end: the last page
    assert page_of([], "x") == ([], 1, 1)
    progress = {
        "assessments": 3,
        "gaps": {"a": "198609262015052001", "b": "198609262015052002"},
        "reviewed": {"a": "p1", "b": None},
        "statuses": {"p1": "pending_budget"},
    }
    assert counts(progress) == {
        "assessments": 3,
        "with_gaps": 2,
        "reviewed": 2,
        "proposals": 1,
        "waiting": 1,
        "settled": False,
    }
    progress["statuses"]["p1"] = "approved"
    assert counts(progress)["settled"] is True


def test_a_form_keeps_what_was_typed_and_sends_numbers_as_numbers():
    body = development_body(
        {"employee_nip": "1", "jp": "12", "provider": "", "competency_codes": "M.01, T.TIK.01"}
    )
    assert body == {"employee_nip": "1", "jp": 12, "competency_codes": ["M.01", "T.TIK.01"]}
    assert development_body({"jp": "dua"})["jp"] == "dua"  # for the service to name
    assert i18n.field_message("Shorter than minimum length 3.", "id") == (
        "Paling sedikit 3 karakter."
    )
    assert i18n.field_message("Not a valid integer.", "en") == "Not a valid integer."


def test_an_expired_session_signs_in_again_and_returns_to_the_page(client):
    session_id = sign_in(client, role="admin")
    store = client.application.extensions["kompas_store"]
    session = store.get(session_id)
    session.expires_at = 0  # the access token's end, and no refresh token from this provider
    store.save(session)
    answer = client.get("/usulan?status=waitlisted")
    assert answer.status_code == 302
    assert answer.headers["Location"] == ("/masuk?next=%2Fusulan%3Fstatus%3Dwaitlisted&expired=1")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Sesi Anda telah berakhir" in page
    assert 'href="/masuk?go=1&amp;next=/usulan%3Fstatus%3Dwaitlisted"' in page


def test_nested_refusals_name_the_item_and_field_they_concern():
    problem = ServiceProblem(
        "training",
        400,
        {"errors": {"competencies": {"0": {"level": ["Not a valid integer."]}}, "code": ["x"]}},
    )
    messages = problem.field_messages()
    assert messages == {"competencies": ["0.level: Not a valid integer."], "code": ["x"]}
    assert i18n.field_message(messages["competencies"][0], "id") == "0.level: Bukan bilangan bulat."
    assert competency_levels("M.01:3, T.TIK.01:x,") == [
        {"competency_code": "M.01", "level": 3},
        {"competency_code": "T.TIK.01", "level": "x"},
    ]


def test_an_upload_too_large_gets_a_page_saying_so(client):
    sign_in(client, role="admin")
    too_large = io.BytesIO(b"x" * (10 * 1024 * 1024))  # over competency's 8 MiB, and ours
    answer = client.post(
        "/impor", data={"file": (too_large, "a.csv")}, content_type="multipart/form-data"
    )
    assert answer.status_code == 413
    assert "Berkas terlalu besar" in answer.get_data(as_text=True)
