"""An agency's system as a machine client of the identity provider: its token comes through
the client credentials grant, carries the ``agency`` role and its agency, and with it the
agency manages its own webhook subscriptions and no other's."""

import requests

from asn_testkit import idp
from asn_testkit.auth import admin_http

CLIENT, SECRET = "bps-sumsel", "bps-sumsel-dev-secret"  # the development provider's agency
HOOK = {"name": "BPS Sumsel", "url": "http://127.0.0.1:9/bps-hook", "patterns": ["budget.*"]}


def test_a_client_credentials_token_subscribes_for_its_own_agency(start_notification):
    url = start_notification().url
    provider = idp.shared()  # the provider every service of the harness trusts
    bearer = {"Authorization": f"Bearer {provider.agency_token(CLIENT, SECRET)}"}
    admin_http.post(f"{url}/subscriptions", json={**HOOK, "agency": "another-agency"}, timeout=5)

    foreign = {**HOOK, "agency": "another-agency"}
    refused = requests.post(f"{url}/subscriptions", json=foreign, headers=bearer, timeout=5)
    assert refused.status_code == 403, refused.text
    made = requests.post(f"{url}/subscriptions", json=HOOK, headers=bearer, timeout=5)
    assert made.status_code == 201, made.text
    assert made.json()["agency"] == CLIENT and made.json()["secret"]

    listed = requests.get(f"{url}/subscriptions", headers=bearer, timeout=5).json()
    assert [item["id"] for item in listed["items"]] == [made.json()["id"]]
    assert admin_http.get(f"{url}/subscriptions", timeout=5).json()["total"] == 2


def test_a_wrong_client_secret_gets_no_token():
    token_endpoint = f"{idp.shared().issuer}/token"
    answer = requests.post(
        token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=(CLIENT, "not-the-secret"),
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
