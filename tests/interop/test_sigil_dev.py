"""Interop of a real `sigil serve --dev` with independent Python code (DESIGN §2, §4, §6).

PyJWT verifies the root token against the published JWK of `sigil-internal`, loads the JWK of
every key type Sigil creates, and the `kid` of each is checked against an RFC 7638 thumbprint
computed here with hashlib. The `sigil` fixture lives in `conftest.py`.
"""

import base64
import hashlib
import json

import jwt
import pytest
import requests

HTTP_SECONDS = 60
INTERNAL_KEY = "sigil-internal"

# Every key type with the JWS algorithm its JWK must carry (RSA also with PS256).
KEY_TYPES = [
    ("ecdsa-p256", None, "ES256"),
    ("ecdsa-p384", None, "ES384"),
    ("ecdsa-p521", None, "ES512"),
    ("rsa-2048", None, "RS256"),
    ("rsa-3072", None, "RS256"),
    ("rsa-4096", None, "RS256"),
    ("rsa-2048", "PS256", "PS256"),
    ("ed25519", None, "EdDSA"),
]

# RFC 7638 §3.2: the required members of each key type, in lexicographic order.
THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk):
    """RFC 7638: SHA-256 of the required members, sorted, without whitespace."""
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def published_jwk(sigil, name, kid):
    state = sigil.get(f"/v1/state/signing-keys/{name}")
    assert state.status_code == 200, state.text
    versions = [v for v in state.json()["versions"] if v["kid"] == kid]
    assert len(versions) == 1, f"no version with kid {kid}: {state.text}"
    return versions[0]["public_jwk"]


def test_dev_server_prints_a_share_and_a_root_token(sigil):
    assert len(base64.b64decode(sigil.unseal_key, validate=True)) == 33
    assert jwt.get_unverified_header(sigil.root_token)["alg"] == "ES256"
    status = requests.get(sigil.url("/v1/sys/seal-status"), timeout=HTTP_SECONDS)
    assert status.status_code == 200
    assert status.json()["sealed"] is False


def test_pyjwt_verifies_the_root_token_with_the_published_internal_key(sigil):
    kid = jwt.get_unverified_header(sigil.root_token)["kid"]
    jwk = published_jwk(sigil, INTERNAL_KEY, kid)
    key = jwt.PyJWK(jwk)

    claims = jwt.decode(
        sigil.root_token,
        key=key,
        algorithms=["ES256"],
        issuer="urn:sigil:internal",
        options={"require": ["exp", "iat", "nbf", "iss", "sub", "jti"]},
    )

    assert key.algorithm_name == "ES256"
    assert claims["sub"] == "root"
    assert claims["policies"] == ["root"]
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert thumbprint(jwk) == kid


def test_pyjwt_rejects_a_tampered_root_token(sigil):
    header, payload, signature = sigil.root_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["policies"] = ["root", "more"]
    forged = ".".join([header, b64url(json.dumps(claims).encode()), signature])
    key = jwt.PyJWK(published_jwk(sigil, INTERNAL_KEY, jwt.get_unverified_header(forged)["kid"]))

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key=key, algorithms=["ES256"], issuer="urn:sigil:internal")


@pytest.mark.parametrize(("key_type", "requested", "algorithm"), KEY_TYPES)
def test_each_published_jwk_loads_in_pyjwt_with_its_algorithm_and_thumbprint_kid(
    sigil, key_type, requested, algorithm
):
    name = f"interop-{key_type}-{algorithm.lower()}"
    body = {"name": name, "type": key_type}
    if requested:
        body["algorithm"] = requested
    created = sigil.post("/v1/config/signing-keys", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/v1/config/signing-keys/{name}"

    state = sigil.get(f"/v1/state/signing-keys/{name}")
    assert state.status_code == 200, state.text
    version = state.json()["versions"][0]
    jwk = version["public_jwk"]
    key = jwt.PyJWK(jwk)

    assert key.algorithm_name == algorithm
    assert jwk["alg"] == algorithm
    assert jwk.get("use") == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & jwk.keys(), "a private member is published"
    assert version["kid"] == jwk["kid"] == thumbprint(jwk)
    assert state.json()["signing_kid"] == version["kid"]


def test_a_yaml_body_with_dashed_names_is_accepted(sigil):
    created = sigil.post(
        "/v1/config/signing-keys",
        data="name: interop-yaml\ntype: ecdsa-p384\nrotation-period: 30d\n",
        headers={"Content-Type": "application/yaml"},
    )

    assert created.status_code == 201, created.text
    assert created.json() == {
        "name": "interop-yaml",
        "type": "ecdsa-p384",
        "algorithm": "ES384",
        "rotation_period": "30d",
    }


def test_a_400_lists_every_invalid_field_in_the_documented_shape(sigil):
    refused = sigil.post(
        "/v1/config/signing-keys",
        json={"name": "bad name", "type": "rsa-1024", "colour": "blue"},
    )

    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert set(body) == {"message", "error_code", "invalid_fields"}
    assert body["error_code"] == "invalid_request"
    assert body["message"]
    assert {field["name"] for field in body["invalid_fields"]} == {"name", "type", "colour"}
    for field in body["invalid_fields"]:
        assert set(field) == {"name", "reason", "error_code"}
        assert field["reason"]
    codes = {field["name"]: field["error_code"] for field in body["invalid_fields"]}
    assert codes["colour"] == "unknown_field"


def test_a_request_without_a_token_gets_a_bearer_challenge(sigil):
    refused = requests.get(sigil.url("/v1/config/signing-keys"), timeout=HTTP_SECONDS)

    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["error_code"] == "token_missing"
