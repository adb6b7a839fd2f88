"""Sessions shared by replicas: two portal processes on one database, a restart, an expiry."""

from __future__ import annotations

from urllib.parse import urljoin

import requests
from sqlalchemy import text

from portal.sessions import engine_for, row_key


def _page(portal: str, cookie: str, path: str) -> requests.Response:
    return requests.get(
        portal + path,
        headers={"Cookie": f"kompas_session={cookie}"},
        allow_redirects=False,
        timeout=30,
    )


def _sign_in_across(first: str, second: str, nip: str) -> str:
    """A sign-in started at one replica and finished at the other: the session cookie."""
    start = requests.get(f"{first}/masuk?go=1&next=/kotak-masuk", allow_redirects=False, timeout=30)
    authorize = start.headers["Location"]
    login = requests.post(
        authorize, data={"role": "employee", "nip": nip}, allow_redirects=False, timeout=30
    )
    callback = urljoin(authorize, login.headers["Location"]).split("/auth/callback", 1)[1]
    done = requests.get(
        f"{second}/auth/callback{callback}",
        headers={"Cookie": f"kompas_login={start.cookies['kompas_login']}"},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code == 302 and done.headers["Location"] == "/kotak-masuk", done.text
    return done.cookies["kompas_session"]


def test_two_portals_on_one_database_share_sessions_and_a_restart_keeps_them(
    plaju, portal_database, portal_bench
):
    employee = plaju.every("competency", "/employees")[0]

    def replica(public_url: str | None = None) -> tuple:
        # replicas behind one address: the provider redirects to it, whichever answers
        env = {"PORTAL_DATABASE_URL": portal_database}
        if public_url:
            env["PORTAL_PUBLIC_URL"] = public_url
        return portal_bench.start_portal(plaju.urls, plaju.directory, **env)

    started = [replica()]
    started.append(replica(started[0][0]))
    try:
        (first, first_process, _), (second, _, _) = started
        cookie = _sign_in_across(first, second, employee["nip"])

        # the other replica serves the signed-in page
        for portal in (first, second):
            inbox = _page(portal, cookie, "/kotak-masuk")
            assert inbox.status_code == 200, inbox.text[:500]
            assert 'action="/keluar"' in inbox.text  # signed in: the sign-out button

        # a restarted portal knows the session
        first_process.terminate()
        first_process.wait(15)
        started[0] = restarted = replica(first)
        assert _page(restarted[0], cookie, "/kotak-masuk").status_code == 200

        # the database holds neither the session id nor a token (a JWT begins "eyJ")
        engine = engine_for(portal_database)
        with engine.begin() as connection:
            stored = connection.execute(text("SELECT id, data::text FROM portal_sessions")).all()
            assert row_key(cookie) in {key for key, _ in stored}
            assert not [row for row in stored if cookie in str(row) or "eyJ" in str(row)]

            # an expired session asks to sign in again, at every replica
            connection.execute(
                text("UPDATE portal_sessions SET expires_at = now() WHERE id = :id"),
                {"id": row_key(cookie)},
            )
        engine.dispose()
        for portal in (restarted[0], second):
            again = _page(portal, cookie, "/kotak-masuk")
            assert again.status_code == 302
            assert again.headers["Location"] == "/masuk?next=%2Fkotak-masuk&expired=1"
    finally:
        for _, process, _ in started:
            process.terminate()
            process.wait(15)
