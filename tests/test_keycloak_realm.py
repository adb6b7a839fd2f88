"""The Keycloak realm for integrators (deploy/keycloak/kompas-realm.json) agrees with what the
services read by default, with the development provider, the compose profile and the README.

Keycloak itself does not run here: these tests read the export as Keycloak's import would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from asn_shared import auth
from asn_shared.devidp.people import CLIENTS, PEOPLE

ROOT = Path(__file__).resolve().parents[1]
REALM_FILE = ROOT / "deploy" / "keycloak" / "kompas-realm.json"
REALM = json.loads(REALM_FILE.read_text())
CLIENT = {client["clientId"]: client for client in REALM["clients"]}
USER = {user["username"]: user for user in REALM["users"]}
AGENCIES = [c for c in REALM["clients"] if c.get("serviceAccountsEnabled")]


@pytest.fixture
def defaults(monkeypatch) -> auth.ClaimMap:
    """Where the services look for roles and scopes when nothing is configured."""
    for name in ("AUTH_ROLES_CLAIM", "AUTH_UNIT_CLAIM", "AUTH_NIP_CLAIM", "AUTH_AGENCY_CLAIM"):
        monkeypatch.delenv(name, raising=False)
    return auth.ClaimMap.from_environment()


def mappers(client: dict[str, Any], kind: str) -> list[dict[str, str]]:
    found = [m for m in client.get("protocolMappers", []) if m["protocolMapper"] == kind]
    return [m["config"] for m in found]


def in_access_token(config: dict[str, str]) -> bool:
    return config.get("access.token.claim") == "true"


def test_the_realm_roles_are_the_services_roles_where_they_read_them_first(defaults):
    assert sorted(role["name"] for role in REALM["roles"]["realm"]) == sorted(auth.ROLES)
    # realm roles reach the token through Keycloak's built-in "roles" client scope, and `sub`
    # through its "basic" scope: both exist only when the export declares no client scopes,
    # and a client gets them only when it names none of its own
    assert "clientScopes" not in REALM
    for client in REALM["clients"]:
        assert "defaultClientScopes" not in client and "optionalClientScopes" not in client
        assert client.get("fullScopeAllowed", True), client["clientId"]
    assert defaults.roles[0] == "realm_access.roles"


def test_every_client_puts_the_services_audience_into_its_access_tokens():
    for client in REALM["clients"]:
        [audience] = mappers(client, "oidc-audience-mapper")
        assert audience["included.custom.audience"] == auth.DEFAULT_AUDIENCE, client["clientId"]
        assert in_access_token(audience)


def test_the_portal_is_a_public_pkce_client_whose_tokens_carry_unit_and_nip(defaults):
    portal = CLIENT["kompas-portal"]
    assert portal["publicClient"] and portal["standardFlowEnabled"]
    assert not portal["directAccessGrantsEnabled"] and not portal["implicitFlowEnabled"]
    assert portal["attributes"]["pkce.code.challenge.method"] == "S256"

    claims = {m["claim.name"]: m for m in mappers(portal, "oidc-usermodel-attribute-mapper")}
    for role in (auth.OPERATOR, auth.EMPLOYEE):
        claim = defaults.scopes[role]
        assert in_access_token(claims[claim]) and claims[claim]["jsonType.label"] == "String"
        assert claims[claim]["multivalued"] == "false"
    profile = REALM["components"]["org.keycloak.userprofile.UserProfileProvider"][0]
    [config] = profile["config"]["kc.user.profile.config"]
    declared = {attribute["name"] for attribute in json.loads(config)["attributes"]}
    assert {
        claims[defaults.scopes[r]]["user.attribute"] for r in (auth.OPERATOR, auth.EMPLOYEE)
    } <= (declared)


def test_an_agency_client_gets_the_agency_role_and_its_own_id_by_client_credentials(defaults):
    assert AGENCIES
    for client in AGENCIES:
        assert not client["publicClient"] and client["clientAuthenticatorType"] == "client-secret"
        assert not client["standardFlowEnabled"] and not client["directAccessGrantsEnabled"]
        [agency] = mappers(client, "oidc-hardcoded-claim-mapper")
        assert agency["claim.name"] == defaults.scopes[auth.AGENCY] and in_access_token(agency)
        assert agency["claim.value"] == client["clientId"]
        account = USER[f"service-account-{client['clientId']}"]
        assert account["serviceAccountClientId"] == client["clientId"]
        assert account["realmRoles"] == [auth.AGENCY]


def test_the_demo_people_and_clients_are_the_development_providers():
    for person in PEOPLE:
        user = USER[person.username]
        assert user["realmRoles"] == [person.role]
        attributes = {name: values for name, values in user.get("attributes", {}).items()}
        assert attributes == {claim: [value] for claim, value in person.scope_claims().items()}
        assert user["credentials"][0]["temporary"] is False
    agencies = {c.client_id: c.secret for c in CLIENTS if c.agency}
    assert {c["clientId"]: c["secret"] for c in AGENCIES} == agencies
    assert "kompas-portal" in {c.client_id for c in CLIENTS}


def test_the_compose_profile_imports_this_realm_and_the_services_trust_its_issuer():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    keycloak = compose["services"]["keycloak"]
    assert keycloak["profiles"] == ["identity"]
    assert re.fullmatch(r"quay\.io/keycloak/keycloak:\d+\.\d+\.\d+", keycloak["image"])
    assert "--import-realm" in keycloak["command"]
    mounted = f"./{REALM_FILE.relative_to(ROOT)}:/opt/keycloak/data/import/"
    assert any(volume.startswith(mounted) for volume in keycloak["volumes"])

    realm_path = f"/realms/{REALM['realm']}"
    service = compose["services"]["notification"]["environment"]
    assert default(service["AUTH_OIDC_ISSUER"]) == keycloak["environment"]["KC_HOSTNAME"] + (
        realm_path
    )
    assert default(service["AUTH_JWKS_URL"]) == (
        f"http://keycloak:8080{realm_path}/protocol/openid-connect/certs"
    )


def test_the_readme_names_the_realm_its_clients_and_its_file():
    readme = (ROOT / "README.md").read_text()
    identity = readme.split("\n## Identity\n", 1)[1].split("\n## ", 1)[0]
    for name in (*CLIENT, REALM["realm"], str(REALM_FILE.relative_to(ROOT))):
        assert f"`{name}`" in identity, name
    named = set(re.findall(r"client `([\w-]+)`", identity))
    assert named and named <= set(CLIENT), named


def default(value: str) -> str:
    """The default of a compose ``${NAME:-default}`` / ``${NAME-default}``."""
    match = re.fullmatch(r"\$\{\w+:?-(.*)\}", value)
    assert match, value
    return match.group(1)
