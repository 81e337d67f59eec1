"""A CI pipeline exchanges its OIDC token at a real `sigil serve --dev` (issue 5, "Done when").

A Python `http.server` on 127.0.0.1 plays GitHub Actions' OIDC issuer: it serves a discovery
document and a JWKS, and PyJWT mints a GitHub-like token with its key (sub
`repo:acme/payments:ref:refs/heads/main`, aud, repository, ref, jti). Sigil trusts the issuer
through its discovery URL (which needs `--allow-private-networks`), a mapping captures
`acme/payments` (only that repository on main maps, so a token for `acme/other` has no
identity), and a policy lets that identity mint role `deployer` of issuer `py-payments`. The
exchange is a plain `requests` form post with no credentials but the subject token; PyJWT
then verifies the result with `PyJWKClient`, knowing only Sigil's discovery document. Each
wrong token fails with the RFC 6749 error the issue names. The `sigil` fixture lives in
`conftest.py`.
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

HTTP_SECONDS = 60
ISSUER = "py-payments"
TRUSTED = "py-github"
GITHUB_AUD = "https://sigil.interop.example.com"
DEPLOY_AUD = "https://deploy.acme.example.com"
SUBJECT = "repo:acme/payments:ref:refs/heads/main"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
REFUSED = "the presented token is not acceptable"


class OidcIssuer:
    """An OIDC issuer on 127.0.0.1: discovery at `/.well-known/openid-configuration`, keys at
    `/jwks`, and PyJWT minting with its P-256 key."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.kid = "py-gha-1"
        jwk = json.loads(ECAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "alg": "ES256", "use": "sig"})
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    document = {
                        "issuer": issuer.url,
                        "jwks_uri": f"{issuer.url}/jwks",
                        "id_token_signing_alg_values_supported": ["ES256"],
                        "response_types_supported": ["id_token"],
                        "subject_types_supported": ["public"],
                    }
                elif self.path == "/jwks":
                    document = {"keys": [jwk]}
                else:
                    self.send_error(404)
                    return
                body = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=300")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def token(self, **changes):
        """A GitHub-Actions-like token for acme/payments on main, fresh jti; `None` removes."""
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": SUBJECT,
            "aud": GITHUB_AUD,
            "repository": "acme/payments",
            "repository_owner": "acme",
            "ref": "refs/heads/main",
            "sha": "5f3c0e9d1b2a",
            "workflow": "deploy",
            "run_id": "4242",
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        claims.update(changes)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(
            claims, self.private_key, algorithm="ES256", headers={"kid": self.kid, "typ": "JWT"}
        )


def created(answer):
    assert answer.status_code in (201, 204), answer.text


@pytest.fixture(scope="module")
def pipeline(sigil):
    """The loopback issuer and everything Sigil needs to exchange its tokens; removed after."""
    with OidcIssuer() as issuer:
        created(
            sigil.http.put(
                sigil.url(f"/v1/config/trusted-issuers/{TRUSTED}"),
                json={
                    "issuer": issuer.url,
                    "discovery_url": issuer.url,
                    "audiences": [GITHUB_AUD],
                    "require_jti": True,
                },
                timeout=HTTP_SECONDS,
            )
        )
        created(
            sigil.http.put(
                sigil.url("/v1/config/policies/py-deployer"),
                json={
                    "rules": [
                        {
                            "path": f"/jwt-issuers/{ISSUER}/roles/deployer/mint",
                            "operations": ["update"],
                        }
                    ]
                },
                timeout=HTTP_SECONDS,
            )
        )
        created(
            sigil.http.put(
                sigil.url("/v1/config/identity-mappings/py-payments"),
                json={
                    "trusted_issuer": TRUSTED,
                    "id_claim": "sub",
                    "id_match": "repo:(acme/payments):ref:refs/heads/main",
                    "policies": ["py-deployer"],
                },
                timeout=HTTP_SECONDS,
            )
        )
        created(
            sigil.post("/v1/config/signing-keys", json={"name": f"{ISSUER}-key", "type": "rsa-2048"})
        )
        created(
            sigil.post(
                "/v1/config/jwt-issuers",
                json={"name": ISSUER, "signing_key": f"{ISSUER}-key", "default_ttl": "10m"},
            )
        )
        for role in [
            {
                "name": "deployer",
                "fixed_claims": {"repository": "{{identity.claims.repository}}"},
                "allowed_audiences": ["https://*.acme.example.com"],
                "default_audiences": [DEPLOY_AUD],
            },
            {"name": "admin"},
        ]:
            created(sigil.post(f"/v1/config/jwt-issuers/{ISSUER}/roles", json=role))
        yield issuer
        for path in [
            f"/v1/config/jwt-issuers/{ISSUER}",
            f"/v1/config/signing-keys/{ISSUER}-key",
            "/v1/config/identity-mappings/py-payments",
            "/v1/config/policies/py-deployer",
            f"/v1/config/trusted-issuers/{TRUSTED}",
        ]:
            deleted = sigil.http.delete(sigil.url(path), timeout=HTTP_SECONDS)
            assert deleted.status_code == 204, f"{path}: {deleted.text}"


def exchange(sigil, subject_token, scope="deployer", **extra):
    """The token endpoint, called like a CI job would: a form post, no other credentials."""
    form = {
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject_token,
        "subject_token_type": JWT_TYPE,
        "scope": scope,
        **extra,
    }
    return requests.post(
        sigil.url(f"/jwt/{ISSUER}/oauth/token"), data=form, timeout=HTTP_SECONDS
    )


def discover(sigil):
    answer = requests.get(
        sigil.url(f"/jwt/{ISSUER}/.well-known/openid-configuration"), timeout=HTTP_SECONDS
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_ci_token_is_exchanged_and_pyjwt_verifies_the_result_through_discovery(
    sigil, pipeline
):
    answer = exchange(sigil, pipeline.token())

    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["issued_token_type"] == JWT_TYPE
    assert body["scope"] == "deployer"
    assert 0 < body["expires_in"] <= 600
    document = discover(sigil)
    assert document["token_endpoint"] == sigil.url(f"/jwt/{ISSUER}/oauth/token")
    assert TOKEN_EXCHANGE in document["grant_types_supported"]
    signing_key = jwt.PyJWKClient(document["jwks_uri"], cache_keys=False).get_signing_key_from_jwt(
        body["access_token"]
    )
    claims = jwt.decode(
        body["access_token"],
        signing_key,
        algorithms=document["id_token_signing_alg_values_supported"],
        audience=DEPLOY_AUD,
        issuer=document["issuer"],
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
    )
    assert claims["sub"] == f"{TRUSTED}:acme/payments"
    assert claims["repository"] == "acme/payments"
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"


@pytest.mark.parametrize(
    ("case", "changes", "scope", "error"),
    [
        (
            "a token for acme/other (the mapping captures only acme/payments)",
            {"sub": "repo:acme/other:ref:refs/heads/main", "repository": "acme/other"},
            "deployer",
            "invalid_grant",
        ),
        ("a wrong aud", {"aud": "https://someone-else.example.com"}, "deployer", "invalid_grant"),
        (
            "an expired token",
            {"iat": int(time.time()) - 900, "nbf": int(time.time()) - 900,
             "exp": int(time.time()) - 600},
            "deployer",
            "invalid_grant",
        ),
        ("a token without jti", {"jti": None}, "deployer", "invalid_grant"),
        ("a role the policy does not cover", {}, "admin", "invalid_scope"),
    ],
)
def test_a_wrong_exchange_fails_with_the_rfc_6749_error(
    sigil, pipeline, case, changes, scope, error
):
    answer = exchange(sigil, pipeline.token(**changes), scope=scope)

    assert answer.status_code == 400, f"{case}: {answer.text}"
    assert answer.json()["error"] == error, f"{case}: {answer.text}"
    assert "access_token" not in answer.json()
    if error == "invalid_grant":
        assert answer.json()["error_description"] == REFUSED, answer.text


def test_a_replayed_jti_is_an_invalid_grant(sigil, pipeline):
    token = pipeline.token()
    assert exchange(sigil, token).status_code == 200

    replayed = exchange(sigil, token)

    assert replayed.status_code == 400, replayed.text
    assert replayed.json() == {"error": "invalid_grant", "error_description": REFUSED}


def test_an_audience_the_role_does_not_allow_is_an_invalid_target(sigil, pipeline):
    answer = exchange(sigil, pipeline.token(), audience="https://evil.example.com")

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_target", answer.text
