"""PyJWT verifies tokens minted by a real `sigil serve --dev` (issue 3, "Done when").

For every key type a signing key, a JWT issuer and a role are created over HTTP, a token is
minted, and PyJWT verifies it the way an independent relying party would: it knows only the
issuer's discovery URL, takes `jwks_uri` and the algorithm from the discovery document, lets
`PyJWKClient` pick the key by `kid`, and checks `iss` against the document's `issuer`.
The `sigil` fixture lives in `conftest.py`.
"""

import base64
import json

import jwt
import pytest
import requests

HTTP_SECONDS = 60
AUDIENCE = "https://relying-party.example.com"

# Every key type with the JWS algorithm its tokens must carry (RSA also with PS256).
KEY_TYPES = [
    ("ecdsa-p256", None, "ES256"),
    ("ecdsa-p384", None, "ES384"),
    ("ecdsa-p521", None, "ES512"),
    ("rsa-2048", None, "RS256"),
    ("rsa-2048", "PS256", "PS256"),
    ("rsa-3072", None, "RS256"),
    ("rsa-4096", None, "RS256"),
    ("ed25519", None, "EdDSA"),
]

SEED_YAML = """\
name: payments-api
signing-key: payments-jwt-key
issuer: https://strongbox.example.com/jwt/payments-api
default-ttl: 1h
max-ttl: 1d
verbose-logging: false
distribute:
  to: all
"""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unpadded(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def discover(sigil, issuer):
    """The discovery document, fetched like a relying party: no credentials."""
    answer = requests.get(
        sigil.url(f"/jwt/{issuer}/.well-known/openid-configuration"), timeout=HTTP_SECONDS
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def verify_through_discovery(sigil, issuer, token, audience=AUDIENCE):
    """Verifies with nothing but what the discovery document and its JWKS publish."""
    document = discover(sigil, issuer)
    key = jwt.PyJWKClient(document["jwks_uri"], cache_keys=False).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key,
        algorithms=document["id_token_signing_alg_values_supported"],
        audience=audience,
        issuer=document["issuer"],
        options={"require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]},
    )


def create_minting_issuer(sigil, name, key_type, requested=None, token_type="jwt"):
    key = {"name": f"{name}-key", "type": key_type}
    if requested:
        key["algorithm"] = requested
    created = sigil.post("/v1/config/signing-keys", json=key)
    assert created.status_code == 201, created.text
    created = sigil.post("/v1/config/jwt-issuers", json={"name": name, "signing_key": f"{name}-key"})
    assert created.status_code == 201, created.text
    created = sigil.post(
        f"/v1/config/jwt-issuers/{name}/roles",
        json={
            "name": "deployer",
            "subject_template": "deploy:{{identity.id}}",
            "fixed_claims": {"team": "payments"},
            "allowed_audiences": ["https://*.example.com"],
            "require_audience": True,
            "token_type": token_type,
        },
    )
    assert created.status_code == 201, created.text


def mint(sigil, issuer, body):
    minted = sigil.post(f"/v1/jwt-issuers/{issuer}/roles/deployer/mint", json=body)
    assert minted.status_code == 200, minted.text
    return minted.json()


@pytest.mark.parametrize(("key_type", "requested", "algorithm"), KEY_TYPES)
def test_pyjwt_verifies_a_minted_token_knowing_only_the_discovery_url(
    sigil, key_type, requested, algorithm
):
    issuer = f"mint-{key_type}-{algorithm.lower()}"
    create_minting_issuer(sigil, issuer, key_type, requested)

    minted = mint(sigil, issuer, {"ttl": "5m", "audiences": [AUDIENCE]})
    claims = verify_through_discovery(sigil, issuer, minted["token"])

    document = discover(sigil, issuer)
    assert document["id_token_signing_alg_values_supported"] == [algorithm]
    assert document["issuer"] == f"{sigil.addr}/jwt/{issuer}"
    assert document["jwks_uri"] == f"{sigil.addr}/jwt/{issuer}/.well-known/jwks.json"
    header = jwt.get_unverified_header(minted["token"])
    assert header["alg"] == algorithm
    assert header["kid"] == minted["kid"]
    assert claims["iss"] == document["issuer"]
    assert claims["sub"] == "deploy:sigil:root"
    assert claims["aud"] == AUDIENCE
    assert claims["team"] == "payments"
    assert claims["jti"] == minted["jti"]
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == 300


@pytest.mark.parametrize(("key_type", "requested", "algorithm"), KEY_TYPES)
def test_pyjwt_rejects_a_tampered_minted_token(sigil, key_type, requested, algorithm):
    issuer = f"tamper-{key_type}-{algorithm.lower()}"
    create_minting_issuer(sigil, issuer, key_type, requested)
    token = mint(sigil, issuer, {"audiences": [AUDIENCE]})["token"]
    header, payload, signature = token.split(".")
    claims = json.loads(unpadded(payload))
    claims["sub"] = "deploy:someone-else"
    forged = ".".join([header, b64url(json.dumps(claims).encode()), signature])

    with pytest.raises(jwt.InvalidSignatureError):
        verify_through_discovery(sigil, issuer, forged)


def test_pyjwt_rejects_a_minted_token_for_another_audience(sigil):
    create_minting_issuer(sigil, "audience-check", "ecdsa-p256")
    token = mint(sigil, "audience-check", {"audiences": [AUDIENCE]})["token"]

    with pytest.raises(jwt.InvalidAudienceError):
        verify_through_discovery(sigil, "audience-check", token, audience="https://other.example.com")


def test_pyjwt_verifies_an_rfc_9068_access_token(sigil):
    create_minting_issuer(sigil, "access-tokens", "ed25519", token_type="at+jwt")

    token = mint(sigil, "access-tokens", {"audiences": [AUDIENCE]})["token"]

    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    claims = verify_through_discovery(sigil, "access-tokens", token)
    assert claims["client_id"] == "sigil:root"


def test_the_oauth_metadata_matches_the_openid_configuration(sigil):
    create_minting_issuer(sigil, "metadata", "ecdsa-p384")

    oauth = requests.get(
        sigil.url("/jwt/metadata/.well-known/oauth-authorization-server"), timeout=HTTP_SECONDS
    )

    assert oauth.status_code == 200, oauth.text
    assert oauth.json() == discover(sigil, "metadata")
    document = oauth.json()
    assert document["response_types_supported"] == ["id_token"]
    assert document["subject_types_supported"] == ["public"]
    assert "none" not in document["id_token_signing_alg_values_supported"]


def test_the_seed_yaml_issuer_mints_tokens_with_its_explicit_iss(sigil):
    created = sigil.post("/v1/config/signing-keys", json={"name": "payments-jwt-key"})
    assert created.status_code == 201, created.text
    created = sigil.post(
        "/v1/config/jwt-issuers", data=SEED_YAML, headers={"Content-Type": "application/yaml"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["max_ttl"] == "1d"
    role = sigil.post(
        "/v1/config/jwt-issuers/payments-api/roles",
        data="name: deployer\nallowed-audiences: ['https://*.example.com']\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert role.status_code == 201, role.text

    token = mint(sigil, "payments-api", {"audiences": [AUDIENCE]})["token"]

    claims = verify_through_discovery(sigil, "payments-api", token)
    assert claims["iss"] == "https://strongbox.example.com/jwt/payments-api"
    assert claims["exp"] - claims["iat"] == 3600
