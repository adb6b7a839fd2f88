"""Tokens from an OpenID Connect provider: the development provider runs as a process of its
own, and the sample service trusts it through discovery and the JWKS."""

import os
import subprocess
import sys
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from asn_shared import auth as auth_module
from asn_shared.auth import (
    ClaimMap,
    Forbidden,
    ProviderKeys,
    Unauthorized,
    Verifier,
    signing_keys,
)
from asn_testkit import auth, idp
from asn_testkit.waiting import wait_for

PING = {"first": 0, "count": 1}
AGENCY_CLIENT, AGENCY_SECRET = "bps-sumsel", "bps-sumsel-dev-secret"


@pytest.fixture
def provider():
    """A provider of the test's own, to rotate, stop or reshape."""
    started = []

    def start(claims: str = "keycloak", *, running: bool = True) -> idp.DevProvider:
        started.append(idp.DevProvider(claims=claims))
        return started[-1].start() if running else started[-1]

    yield start
    for each in started:
        each.stop()


def ping(service, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(f"{service.url}/pings", json=PING, headers=headers, timeout=10)


def forged(kid: str, key=None, algorithm: str = "RS256", **claims) -> str:
    key = key or rsa.generate_private_key(65537, 2048)
    payload = {"sub": "x", "role": "admin", "exp": int(time.time()) + 60, **claims}
    return jwt.encode(payload, key, algorithm, headers={"kid": kid})


def refusal(answer: requests.Response, status: int = 401) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    return answer.json()["code"]


def test_provider_tokens_are_accepted_and_a_rotated_key_needs_no_restart(start_sample, provider):
    oidc = provider()
    pinger = start_sample("pinger", env=oidc.service_env(AUTH_JWKS_REFETCH_SECONDS="1"))

    before = oidc.token("admin")
    assert ping(pinger, before).status_code == 202
    employee = ping(pinger, oidc.token("employee", "198609262015052001"))
    assert employee.status_code == 403  # a known role, not allowed here

    oidc.rotate()  # the old key stays published beside the new one
    time.sleep(1.1)  # past the refetch rate limit
    assert ping(pinger, oidc.token("admin")).status_code == 202
    assert ping(pinger, before).status_code == 202

    oidc.rotate(retire=True)  # only the newest key is published now
    time.sleep(1.1)
    assert ping(pinger, oidc.token("admin")).status_code == 202
    assert refusal(ping(pinger, before)) == "auth.unknown_key"

    none_algorithm = jwt.encode({"sub": "x", "role": "admin", "exp": 2**31}, None, "none")
    assert refusal(ping(pinger, none_algorithm)) == "auth.token_invalid"  # names no kid
    kid = oidc.rotate(retire=True)
    time.sleep(1.1)
    unsigned = jwt.encode(
        {"sub": "x", "role": "admin", "exp": 2**31}, None, "none", headers={"kid": kid}
    )
    assert refusal(ping(pinger, unsigned)) == "auth.token_invalid"
    assert ping(pinger, oidc.token("admin")).status_code == 202


def test_a_flood_of_unknown_key_ids_reaches_the_provider_at_the_rate_limit(start_sample, provider):
    oidc = provider()
    pinger = start_sample("pinger", env=oidc.service_env(AUTH_JWKS_REFETCH_SECONDS="3"))
    assert ping(pinger, oidc.token("admin")).status_code == 202
    fetched = oidc.stats()["jwks"]

    key = rsa.generate_private_key(65537, 2048)
    started = time.monotonic()
    codes = {refusal(ping(pinger, forged(uuid.uuid4().hex, key))) for _ in range(200)}
    elapsed = time.monotonic() - started

    assert codes == {"auth.unknown_key"}
    allowed = int(elapsed // 3) + 1  # one fetch per 3 s window at most
    assert oidc.stats()["jwks"] - fetched <= allowed, (oidc.stats(), elapsed)
    assert ping(pinger, oidc.token("admin")).status_code == 202  # still serving


def test_a_provider_down_leaves_cached_keys_working_and_other_tokens_a_401(start_sample, provider):
    oidc = provider(running=False)
    settings = {"AUTH_JWKS_REFETCH_SECONDS": "1", "AUTH_JWKS_CACHE_SECONDS": "1"}
    pinger = start_sample("pinger", env=oidc.service_env(**settings))
    assert requests.get(f"{pinger.url}/health", timeout=10).status_code == 200

    unreachable = ping(pinger, forged("some-kid"))
    assert refusal(unreachable) == "auth.provider_unavailable"
    assert unreachable.headers["Retry-After"]
    assert unreachable.headers["WWW-Authenticate"].startswith("Bearer")

    oidc.start()
    token = oidc.token("admin")
    wait_for(lambda: ping(pinger, token).status_code == 202, 10, "the provider's keys")

    oidc.stop()
    time.sleep(1.1)  # the cache has expired: the next request tries the provider, in vain
    assert ping(pinger, token).status_code == 202  # signed with a cached key
    assert ping(pinger, token).status_code == 202
    assert refusal(ping(pinger, forged("another-kid"))) == "auth.provider_unavailable"
    assert refusal(ping(pinger, "x.y.z")) == "auth.token_invalid"


def test_issuer_audience_and_expiry_are_checked_against_the_providers_keys(provider):
    oidc = provider()
    token = oidc.token("admin")
    jwks_url = f"{oidc.issuer}/jwks"

    def code(keys: ProviderKeys, token: str = token) -> str:
        with pytest.raises(Unauthorized) as refused:
            Verifier(provider=keys).verify(token)
        return refused.value.extensions["code"]

    assert Verifier(provider=ProviderKeys(oidc.issuer)).verify(token).is_admin
    assert code(ProviderKeys("https://sso.elsewhere.go.id", jwks_url=jwks_url)) == (
        "auth.wrong_issuer"
    )
    assert code(ProviderKeys(oidc.issuer, audience="another-app")) == "auth.wrong_audience"

    key = rsa.generate_private_key(65537, 2048)
    keys = ProviderKeys("https://sso.test")
    keys.keys = {"k1": jwt.PyJWK.from_dict(_public_jwk(key, "k1"))}
    keys.fetched_at = time.monotonic()
    expired = forged("k1", key, iss="https://sso.test", aud="kompas-asn", exp=int(time.time()) - 5)
    assert code(keys, expired) == "auth.token_expired"


def test_only_signature_keys_count_and_a_provider_answering_nonsense_is_unavailable(monkeypatch):
    public = _public_jwk(rsa.generate_private_key(65537, 2048), "sig")
    encryption = [{**public, "kid": "enc", "use": "enc", "alg": "RSA-OAEP"}]
    encryption.append({**public, "kid": "enc-no-alg", "use": "enc"})
    assert list(signing_keys({"keys": [public, *encryption]})) == ["sig"]
    with pytest.raises(ValueError):
        signing_keys([public])

    for answer in ({"issuer": "https://sso.test"}, ["no", "jwks"], {"keys": "none"}):
        monkeypatch.setattr(auth_module, "_fetch_json", lambda url, timeout, answer=answer: answer)
        with pytest.raises(Unauthorized) as refused:
            Verifier(provider=ProviderKeys("https://sso.test")).verify(forged("sig"))
        assert refused.value.extensions["code"] == "auth.provider_unavailable", answer


def test_a_refetch_interval_that_is_no_number_of_seconds_is_refused_naming_it(monkeypatch):
    monkeypatch.setenv("AUTH_OIDC_ISSUER", "https://sso.test")
    monkeypatch.setenv("AUTH_JWKS_REFETCH_SECONDS", "sepuluh")
    with pytest.raises(RuntimeError, match="AUTH_JWKS_REFETCH_SECONDS must be a number"):
        ProviderKeys.from_environment()
    monkeypatch.setenv("AUTH_JWKS_REFETCH_SECONDS", "2.5")
    assert ProviderKeys.from_environment().refetch_seconds == 2.5


def test_role_claims_of_the_wrong_shape_hold_no_role():
    claims = {"sub": "s", "realm_access": {"roles": {"admin": True}}, "role": 7}
    assert ClaimMap().role_of(claims) is None
    assert ClaimMap().role_of({"realm_access": {"roles": [7, "agency"]}}) == "agency"


def _public_jwk(key, kid: str) -> dict:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**public, "kid": kid, "alg": "RS256"}


def test_roles_are_read_where_the_configuration_says(provider):
    keycloak, flat = provider("keycloak"), provider("flat")
    nested = Verifier(
        provider=ProviderKeys(keycloak.issuer), claims=ClaimMap(("realm_access.roles",))
    )
    plain = Verifier(provider=ProviderKeys(flat.issuer), claims=ClaimMap(("role",)))

    operator = nested.verify(keycloak.token("operator", "PLG-KEC-PLAJU"))
    assert (operator.role, operator.scope) == ("operator", "PLG-KEC-PLAJU")
    assert plain.verify(flat.token("employee", "198609262015052001")).scope == "198609262015052001"

    crossed = Verifier(provider=ProviderKeys(flat.issuer), claims=ClaimMap(("realm_access.roles",)))
    with pytest.raises(Forbidden) as refused:
        crossed.verify(flat.token("admin"))
    assert refused.value.code == "auth.no_role"

    client_roles = ClaimMap(("resource_access.kompas-asn.roles",), {"operator": "kode_unit"})
    claims = {
        "sub": "s",
        "resource_access": {"kompas-asn": {"roles": ["operator", "employee"]}},
        "kode_unit": "PLG-KEC-PLAJU",
    }
    assert client_roles.principal(claims).scope == "PLG-KEC-PLAJU"  # the first role listed


def test_a_flat_token_works_with_the_matching_setting_and_no_role_is_a_403(start_sample, provider):
    flat = provider("flat")
    env = flat.service_env(AUTH_ROLES_CLAIM="role", AUTH_NIP_CLAIM="nip")
    pinger = start_sample("pinger", env=env)
    assert ping(pinger, flat.token("admin")).status_code == 202

    nested_only = start_sample(
        "pinger", env=flat.service_env(AUTH_ROLES_CLAIM="realm_access.roles")
    )
    answer = ping(nested_only, flat.token("admin"))
    assert refusal(answer, 403) == "auth.no_role"
    assert "peran" in answer.json()["detail"]


def test_client_roles_are_read_where_the_service_is_told(start_sample, provider):
    """Keycloak client roles: ``resource_access.<client>.roles``, named by AUTH_ROLES_CLAIM."""
    clients = provider("keycloak-client")
    token = clients.token("operator", "PLG-KEC-PLAJU")
    assert jwt.decode(token, options={"verify_signature": False})["resource_access"] == {
        "kompas-asn": {"roles": ["operator"]}
    }
    told = clients.service_env(AUTH_ROLES_CLAIM="resource_access.kompas-asn.roles")
    pinger = start_sample("pinger", env=told)
    assert ping(pinger, clients.token("admin")).status_code == 202
    operator = ping(pinger, token)  # a role it knows, not allowed to ping
    assert operator.status_code == 403 and operator.json().get("code") != "auth.no_role"

    untold = start_sample("pinger", env=clients.service_env())
    answer = ping(untold, clients.token("admin"))
    assert refusal(answer, 403) == "auth.no_role"
    assert "realm_access.roles" in answer.json()["detail"]


def asn_admin(*args: str, **environ: str) -> str:
    env = {**os.environ, "AUTH_OIDC_ISSUER": "", "AUTH_JWT_KEY": "", **environ}
    command = [sys.executable, "-m", "asn_shared.cli", "token", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_token_command_gets_tokens_the_services_accept(start_sample):
    pinger = start_sample("pinger")  # trusts the harness key and the run's provider
    issuer = idp.shared().issuer
    openapi = f"{pinger.url}/openapi.json"

    admin = asn_admin("admin", AUTH_OIDC_ISSUER=issuer)
    assert jwt.get_unverified_header(admin)["kid"]  # the provider's, not local
    assert ping(pinger, admin).status_code == 202
    operator = asn_admin("operator", "--unit", "PLG-KEC-PLAJU", AUTH_OIDC_ISSUER=issuer)
    assert ping(pinger, operator).status_code == 403
    bearer = {"Authorization": f"Bearer {operator}"}
    assert requests.get(openapi, headers=bearer, timeout=10).status_code == 200
    agency = asn_admin(
        "agency",
        "--agency",
        AGENCY_CLIENT,
        "--client-secret",
        AGENCY_SECRET,
        AUTH_OIDC_ISSUER=issuer,
    )
    assert jwt.decode(agency, options={"verify_signature": False})["agency"] == AGENCY_CLIENT
    bearer = {"Authorization": f"Bearer {agency}"}
    assert requests.get(openapi, headers=bearer, timeout=10).status_code == 200

    local = asn_admin("admin", AUTH_JWT_KEY=auth.KEY)
    assert "kid" not in jwt.get_unverified_header(local)
    assert ping(pinger, local).status_code == 202
