"""Every notification route tried with every role: allowed or forbidden, as the table says."""

import uuid

from asn_testkit.access import COMMON, Callers, check_table, row
from asn_testkit.auth import admin_http, headers

OWN_NIP = "198609262015052001"
OTHER_NIP = "197803152003121002"
AGENCY = "bps-sumsel"


def webhook(**fields) -> dict:
    return {"name": "BPS", "url": "http://127.0.0.1:9/bps-hook", "patterns": ["budget.*"], **fields}


def table(own_subscription: str, other_subscription: str) -> list:
    nobody = uuid.uuid4()
    return [
        *COMMON,
        row("POST /subscriptions", "admin", "agency", body=webhook()),
        row(
            "POST /subscriptions",
            "admin",
            body=webhook(agency="another-agency"),
            note="for another agency",
        ),
        row("GET /subscriptions", "admin", "agency"),
        row(
            "GET /subscriptions/{subscription_id}",
            "admin",
            "agency",
            path=f"/subscriptions/{own_subscription}",
        ),
        row(
            "GET /subscriptions/{subscription_id}",
            "admin",
            path=f"/subscriptions/{other_subscription}",
            note="another agency's",
        ),
        row(
            "DELETE /subscriptions/{subscription_id}",
            "admin",
            path=f"/subscriptions/{other_subscription}",
            note="another agency's",
        ),
        row(
            "DELETE /subscriptions/{subscription_id}",
            "admin",
            "agency",
            path=f"/subscriptions/{own_subscription}",
        ),
        row(
            "GET /recipients/{recipient}/inbox",
            "admin",
            "employee",
            path=f"/recipients/{OWN_NIP}/inbox",
        ),
        row(
            "GET /recipients/{recipient}/inbox",
            "admin",
            path=f"/recipients/{OTHER_NIP}/inbox",
            note="another employee's",
        ),
        row(
            "PATCH /recipients/{recipient}/inbox/{message_id}",
            "admin",
            "employee",
            path=f"/recipients/{OWN_NIP}/inbox/{nobody}",
            body={"read": True},
        ),
        row(
            "PATCH /recipients/{recipient}/inbox/{message_id}",
            "admin",
            path=f"/recipients/{OTHER_NIP}/inbox/{nobody}",
            body={"read": True},
            note="another employee's",
        ),
        row("GET /employees/{nip}", "admin", "employee", path=f"/employees/{OWN_NIP}"),
        row(
            "GET /employees/{nip}",
            "admin",
            path=f"/employees/{OTHER_NIP}",
            note="another employee",
        ),
        row("GET /deliveries", "admin"),
        row("GET /deliveries/{delivery_id}", "admin", path=f"/deliveries/{nobody}"),
        row("POST /deliveries/{delivery_id}/resend", "admin", path=f"/deliveries/{nobody}/resend"),
        row("POST /officials", "admin", body={}),
        row("GET /officials", "admin"),
        row("PATCH /officials/{official_id}", "admin", path=f"/officials/{nobody}", body={}),
        row("DELETE /officials/{official_id}", "admin", path=f"/officials/{nobody}"),
        row("GET /rules", "admin"),
        row("POST /rules", "admin", body={}),
        row("PATCH /rules/{rule_id}", "admin", path="/rules/999999", body={}),
        row("GET /templates", "admin"),
        row("PUT /templates/{key}/{language}", "admin", path="/templates/x/id", body={}),
    ]


def test_every_route_and_role_is_allowed_or_forbidden_as_the_table_says(start_notification):
    url = start_notification().url

    def subscription(agency: str) -> str:
        created = admin_http.post(f"{url}/subscriptions", json=webhook(agency=agency), timeout=5)
        assert created.status_code == 201, created.text
        return created.json()["id"]

    rows = table(subscription(AGENCY), subscription("another-agency"))
    check_table(url, rows, Callers(unit="KEC-PLAJU", nip=OWN_NIP, agency=AGENCY))


def test_an_agency_owns_the_subscriptions_it_makes_and_sees_no_other(start_notification):
    url = start_notification().url
    agency = headers("agency", AGENCY)
    admin_http.post(f"{url}/subscriptions", json=webhook(agency="another-agency"), timeout=5)

    made = admin_http.post(f"{url}/subscriptions", json=webhook(), headers=agency, timeout=5)
    assert made.status_code == 201 and made.json()["agency"] == AGENCY

    listed = admin_http.get(f"{url}/subscriptions", headers=agency, timeout=5).json()
    assert [item["id"] for item in listed["items"]] == [made.json()["id"]]
    everything = admin_http.get(f"{url}/subscriptions", timeout=5).json()
    assert everything["total"] == 2
