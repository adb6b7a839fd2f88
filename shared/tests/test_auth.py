"""Bearer tokens: what a token must be to be let in, and how a service answers one that is not."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from asn_shared.auth import Forbidden, Principal, StaticKey, Unauthorized, Verifier
from asn_testkit import auth

SECRET = "s" * 64


def signed(key=SECRET, algorithm="HS256", **claims) -> str:
    now = int(time.time())
    payload = {"sub": "siti", "role": "employee", "nip": "198609262015052001", "exp": now + 60}
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm)


def hs256_by_hand(claims: dict, secret: bytes) -> str:
    """HS256 signed without PyJWT, which refuses a PEM key as a secret (as it should)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(mac)}"


def refusal(verifier: Verifier, token: str) -> str:
    with pytest.raises(Unauthorized) as refused:
        verifier.verify(token)
    return f"{refused.value.extensions['code']}: {refused.value.detail}"


def keyed(key: str = SECRET, **checks) -> Verifier:
    return Verifier(StaticKey(key, ["HS256"], **checks))


def test_a_valid_token_names_the_caller_its_role_and_scope():
    verifier = keyed()
    assert verifier.verify(signed()) == Principal("siti", "employee", "198609262015052001")
    operator = verifier.verify(signed(role="operator", unit="KEC-PLAJU", nip=None))
    assert operator.scope == "KEC-PLAJU"
    assert verifier.verify(signed(role="admin", nip=None)).is_admin


def test_expired_forged_or_incomplete_tokens_are_refused_with_the_reason():
    verifier = keyed()
    assert "auth.token_expired" in refusal(verifier, signed(exp=int(time.time()) - 5))
    assert "Signature" in refusal(verifier, signed(key="x" * 64))
    assert "exp" in refusal(verifier, signed(exp=None))
    assert "auth.scope_missing" in refusal(verifier, signed(role="operator", nip=None))
    assert "'agency'" in refusal(verifier, signed(role="agency"))
    assert "auth.token_invalid" in refusal(verifier, "not.a.token")
    none_algorithm = jwt.encode({"sub": "x", "role": "admin", "exp": 2**31}, None, "none")
    assert "auth.token_invalid" in refusal(verifier, none_algorithm)
    with pytest.raises(Forbidden) as no_role:
        verifier.verify(signed(role="superuser"))
    assert no_role.value.code == "auth.no_role"
    assert "peran" in no_role.value.message


def test_issuer_and_audience_are_checked_when_configured():
    verifier = keyed(issuer="https://sso.palembang.go.id", audience="asn")
    good = signed(iss="https://sso.palembang.go.id", aud="asn")
    assert verifier.verify(good).subject == "siti"
    wrong_issuer = signed(iss="https://elsewhere", aud="asn")
    assert refusal(verifier, wrong_issuer).startswith("auth.wrong_issuer")
    assert "aud" in refusal(verifier, signed(iss="https://sso.palembang.go.id"))
    wrong_audience = signed(iss="https://sso.palembang.go.id", aud="x")
    assert refusal(verifier, wrong_audience).startswith("auth.wrong_audience")


def test_a_public_key_verifies_and_cannot_be_used_as_a_shared_secret(monkeypatch):
    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    monkeypatch.setenv("AUTH_JWT_KEY", public_pem)
    verifier = Verifier.from_environment()
    assert "HS256" not in verifier.static.algorithms
    assert verifier.verify(signed(key=private, algorithm="ES256")).role == "employee"
    # the classic confusion: sign HS256 with the public key's text as the secret
    forged = hs256_by_hand({"sub": "x", "role": "admin", "exp": 2**31}, public_pem.encode())
    assert "auth.token_invalid" in refusal(verifier, forged)


def test_scope_checks_refuse_what_lies_outside_the_callers_reach():
    operator = Principal("hr", "operator", "KEC-PLAJU")
    operator.require_unit("KEL-PLAJU-ULU", {"KEC-PLAJU", "KEL-PLAJU-ULU"})
    with pytest.raises(Forbidden):
        operator.require_unit("DINKES", {"KEC-PLAJU", "KEL-PLAJU-ULU"})
    employee = Principal("siti", "employee", "198609262015052001")
    employee.require_nip("198609262015052001")
    with pytest.raises(Forbidden):
        employee.require_nip("197803152003121002")
    with pytest.raises(Forbidden):
        Principal("bps", "agency", "bps").require_agency("inspektorat")


def test_a_service_asks_for_a_token_and_tells_a_forbidden_role_apart(start_sample):
    pinger = start_sample("pinger")
    url = f"{pinger.url}/pings"
    body = {"first": 0, "count": 1}

    missing = requests.post(url, json=body, timeout=10)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert "Authorization" in missing.json()["detail"]
    assert missing.json()["code"] == "auth.missing"

    garbage = requests.post(url, json=body, headers={"Authorization": "Bearer x.y.z"}, timeout=10)
    assert garbage.status_code == 401 and garbage.json()["code"] == "auth.token_invalid"
    assert "x.y.z" not in garbage.text

    employee = auth.headers("employee", "198609262015052001")
    forbidden = requests.post(url, json=body, headers=employee, timeout=10)
    assert forbidden.status_code == 403 and "employee" in forbidden.json()["detail"]
    assert requests.post(url, json=body, headers=auth.headers(), timeout=10).status_code == 202

    assert requests.get(f"{pinger.url}/health", timeout=10).status_code == 200
    assert requests.get(f"{pinger.url}/metrics", timeout=10).status_code == 200
    assert requests.get(f"{pinger.url}/openapi.json", timeout=10).status_code == 401
    document = requests.get(f"{pinger.url}/openapi.json", headers=employee, timeout=10).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    pings = document["paths"]["/pings"]["post"]
    assert pings["security"] == [{"bearer": []}] and pings["x-roles"] == ["admin"]
    assert document["paths"]["/health"]["get"]["security"] == []


def test_a_service_without_a_verification_key_refuses_to_start(start_sample):
    with pytest.raises(RuntimeError) as exited:
        start_sample("pinger", env={"AUTH_JWT_KEY": "", "AUTH_OIDC_ISSUER": ""})
    assert "Neither AUTH_OIDC_ISSUER nor AUTH_JWT_KEY is set" in str(exited.value)
