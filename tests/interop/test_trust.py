"""Sigil verifies tokens minted by independent JOSE libraries (issue 4, "Done when").

PyJWT (with `cryptography`) and npm `jose` (run by node from `tests/interop/node_modules`) each
generate their own ES256, RS256, PS256 and EdDSA keys and mint tokens. Their public JWKs reach
Sigil two ways: served by a Python `http.server` JWKS endpoint on 127.0.0.1 (`jwks_url`, which
needs `--allow-private-networks`) and given inline (`keys`). Every token verifies through
`POST /v1/verify`; altered copies are refused with `signature_invalid`.

`npm ci --prefix tests/interop` installs the pinned `jose` (scripts/test runs it; the fixture
below runs it when `node_modules` is missing). The `sigil` fixture lives in `conftest.py`.
"""

import base64
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

INTEROP_DIR = Path(__file__).resolve().parent
ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA"]
LIBRARIES = ["pyjwt", "jose"]
SUBJECT = "repo:example/app:ref:refs/heads/main"
NODE_SECONDS = 120
# The trusted issuers Sigil is given, by how their keys arrive.
SOURCES = {
    "jwks_url": ("interop-jwks", "https://jwks.interop.example.com"),
    "inline": ("interop-inline", "https://inline.interop.example.com"),
}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unpadded(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pyjwt_private_key(alg):
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg in ("RS256", "PS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ed25519.Ed25519PrivateKey.generate()


def mint_with_pyjwt(now):
    """One key per algorithm, its public JWK and one token per issuer, all by PyJWT."""
    minted = []
    for alg in ALGORITHMS:
        private_key = pyjwt_private_key(alg)
        kid = f"pyjwt-{alg}"
        jwk = json.loads(get_default_algorithms()[alg].to_jwk(private_key.public_key()))
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        tokens = {}
        for _, issuer in SOURCES.values():
            claims = {
                "iss": issuer,
                "sub": SUBJECT,
                "iat": now,
                "nbf": now,
                "exp": now + 600,
                "roles": ["reader"],
                "lib": "pyjwt",
            }
            tokens[issuer] = jwt.encode(
                claims, private_key, algorithm=alg, headers={"kid": kid, "typ": "JWT"}
            )
        minted.append({"alg": alg, "kid": kid, "jwk": jwk, "tokens": tokens})
    return minted


def ensure_jose_installed():
    if not (INTEROP_DIR / "node_modules" / "jose" / "package.json").exists():
        subprocess.run(
            ["npm", "ci", "--prefix", str(INTEROP_DIR), "--no-audit", "--no-fund"],
            check=True,
            timeout=NODE_SECONDS,
        )


def mint_with_jose(now):
    """The same, by npm `jose` through `jose_mint.mjs`."""
    ensure_jose_installed()
    request = {
        "algorithms": ALGORITHMS,
        "issuers": [issuer for _, issuer in SOURCES.values()],
        "now": now,
        "subject": SUBJECT,
    }
    done = subprocess.run(
        ["node", str(INTEROP_DIR / "jose_mint.mjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=INTEROP_DIR,
        timeout=NODE_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class JwksServer:
    """A JWKS endpoint on 127.0.0.1: `GET /jwks` answers the keys and counts the requests."""

    def __init__(self, keys):
        self.document = json.dumps({"keys": keys}).encode()
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/jwks":
                    self.send_error(404)
                    return
                server.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/jwk-set+json")
                self.send_header("Content-Length", str(len(server.document)))
                self.send_header("Cache-Control", "max-age=300")
                self.end_headers()
                self.wfile.write(server.document)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def minted():
    """{library: [{alg, kid, jwk, tokens: {issuer: token}}]}, minted for the wall clock."""
    now = int(time.time())
    return {"pyjwt": mint_with_pyjwt(now), "jose": mint_with_jose(now)}


@pytest.fixture(scope="module")
def trusted(sigil, minted):
    """Trusts the minted keys twice: through a JWKS URL and inline. Yields the JWKS server."""
    jwks = [key["jwk"] for library in LIBRARIES for key in minted[library]]
    with JwksServer(jwks) as server:
        name, issuer = SOURCES["jwks_url"]
        put_trusted(sigil, name, {"issuer": issuer, "jwks_url": server.url})
        assert server.hits == 1, "saving fetched the JWKS once"
        name, issuer = SOURCES["inline"]
        put_trusted(sigil, name, {"issuer": issuer, "keys": jwks})
        yield server
        for name, _ in SOURCES.values():
            deleted = sigil.http.delete(sigil.url(f"/v1/config/trusted-issuers/{name}"), timeout=60)
            assert deleted.status_code == 204, deleted.text


def put_trusted(sigil, name, body):
    answer = sigil.http.put(sigil.url(f"/v1/config/trusted-issuers/{name}"), json=body, timeout=60)
    assert answer.status_code == 201, answer.text
    state = sigil.get(f"/v1/state/trusted-issuers/{name}")
    assert state.status_code == 200, state.text
    kids = sorted(key["kid"] for key in state.json()["known_keys"])
    expected = sorted(f"{library}-{alg}" for library in LIBRARIES for alg in ALGORITHMS)
    assert kids == expected, state.text


def token_of(minted, library, alg, source):
    _, issuer = SOURCES[source]
    key = next(key for key in minted[library] if key["alg"] == alg)
    return key["tokens"][issuer]


def verify(sigil, token):
    return sigil.post("/v1/verify", json={"token": token})


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("library", LIBRARIES)
def test_tokens_of_independent_libraries_verify(sigil, minted, trusted, library, alg, source):
    token = token_of(minted, library, alg, source)

    answer = verify(sigil, token)

    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    name, issuer = SOURCES[source]
    assert verdict["issuer"] == name
    assert verdict["project"] == "default"
    assert verdict["claims"]["iss"] == issuer
    assert verdict["claims"]["sub"] == SUBJECT
    assert verdict["claims"]["lib"] == library
    assert verdict["roles"] == ["reader"]
    header = json.loads(unpadded(token.split(".")[0]))
    assert header["alg"] == alg and header["kid"] == f"{library}-{alg}"


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("library", LIBRARIES)
def test_altered_copies_are_refused(sigil, minted, trusted, library, alg, source):
    token = token_of(minted, library, alg, source)
    header, payload, signature = token.split(".")
    claims = json.loads(unpadded(payload))
    claims["sub"] = "repo:attacker/app:ref:refs/heads/main"
    other_claims = b64url(json.dumps(claims, separators=(",", ":")).encode())
    flipped = bytearray(unpadded(signature))
    flipped[len(flipped) // 2] ^= 0x01
    other_library = next(lib for lib in LIBRARIES if lib != library)
    foreign_signature = token_of(minted, other_library, alg, source).split(".")[2]

    for altered in [
        f"{header}.{other_claims}.{signature}",
        f"{header}.{payload}.{b64url(bytes(flipped))}",
        f"{header}.{payload}.{foreign_signature}",
    ]:
        answer = verify(sigil, altered)

        assert answer.status_code == 401, answer.text
        assert answer.json()["error_code"] == "signature_invalid", answer.text


def test_known_keys_need_no_further_fetch(sigil, minted, trusted):
    for library in LIBRARIES:
        for alg in ALGORITHMS:
            assert verify(sigil, token_of(minted, library, alg, "jwks_url")).status_code == 200

    assert trusted.hits == 1
