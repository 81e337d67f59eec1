"""API fuzzing of a real `sigil serve --dev` with schemathesis, driven by `/v1/openapi.json`.

Every documented operation gets a fixed, derandomised set of generated requests (schema examples,
coverage edge cases, then `MAX_EXAMPLES` fuzzed ones, valid and invalid), sent with the root
token. No answer may be a 5xx (DESIGN §2.3), and the server must still be alive and ready after
the run. The server is this module's own, so what the fuzzer writes and deletes stays here; it is
seeded with one resource of each kind and a token they verify, which the fuzzer may name, so that
requests reach past the 404 of an unknown name.
"""

import collections
import copy
import os
import tempfile

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error

from conftest import dev_server

HTTP_SECONDS = 30
# Deeper or different runs by hand: FUZZ_MAX_EXAMPLES=100 FUZZ_SEED=7 python -m pytest ...
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
SEED = int(os.environ.get("FUZZ_SEED", "20260301"))

# A loopback address with nothing listening. The dev server does not allow private networks, so
# it refuses these before connecting: no key fetch the fuzzer provokes leaves the machine.
LOOPBACK_URLS = ["https://127.0.0.1:9/.well-known/jwks.json", "https://127.0.0.1:9"]

# `POST /v1/sys/seal` seals the server: every later request would answer 503 `sealed`, which is
# the documented answer and not a fault, and would hide every operation fuzzed after it. Sealing
# and unsealing are covered by the Rust API suite. Nothing else is excluded.
EXCLUDED = [("POST", "/v1/sys/seal")]

# Names of the seeded resources, offered to every path parameter besides arbitrary strings. The
# internal key `sigil-internal` is left out on purpose: revoking it would turn the root token and
# so every later request into a 401. The internal trusted issuer `sigil` is read-only and offered.
NAMES = ["fuzz-key", "fuzz-iss", "fuzz-role", "fuzz-pol", "fuzz-trust", "fuzz-map", "sigil", "1"]
# Body fields that carry a JWT, offered the seeded token besides arbitrary strings.
TOKEN_FIELDS = ["token", "subject_token", "actor_token", "assertion"]


@pytest.fixture(scope="module")
def fuzz_server():
    with tempfile.NamedTemporaryFile(mode="w+", prefix="sigil-fuzz-", suffix=".log") as log:
        with dev_server("--log-format", "json", stderr=log) as (server, process):
            server.process = process
            server.log = log
            server.server_errors = []
            server.statuses = collections.Counter()
            yield server


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    token = seed_resources(fuzz_server)
    answer = fuzz_server.get("/v1/openapi.json")
    assert answer.status_code == 200, answer.text
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": fuzz_server.addr,
            "headers": {"Authorization": f"Bearer {fuzz_server.root_token}"},
            "request-timeout": HTTP_SECONDS,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "no-shrink": True,
            },
        }
    )
    return schemathesis.openapi.from_dict(patched(answer.json(), token), config=config)


def seed_resources(server):
    """One resource of each kind, wired together as in the README, and a token minted by the
    issuer that the trusted issuer verifies and the mapping maps; answers the token."""
    writes = [
        ("/v1/config/signing-keys", {"name": "fuzz-key", "type": "ecdsa-p256"}),
        ("/v1/config/jwt-issuers", {"name": "fuzz-iss", "signing_key": "fuzz-key"}),
        ("/v1/config/jwt-issuers/fuzz-iss/roles", {"name": "fuzz-role", "allowed_audiences": ["https://*.example.com"]}),
        ("/v1/config/policies", {"name": "fuzz-pol", "rules": [{"path": "/jwt-issuers/fuzz-iss/roles/fuzz-role/mint", "operations": ["update"]}]}),
    ]
    for path, body in writes:
        answer = server.post(path, json=body)
        assert answer.status_code == 201, f"{path}: {answer.text}"
    jwk = server.get("/v1/state/signing-keys/fuzz-key").json()["versions"][0]["public_jwk"]
    issuer = server.get("/jwt/fuzz-iss/.well-known/openid-configuration").json()["issuer"]
    for path, body in [
        ("/v1/config/trusted-issuers", {"name": "fuzz-trust", "issuer": issuer, "keys": [jwk], "audiences_unchecked": True}),
        ("/v1/config/identity-mappings", {"name": "fuzz-map", "trusted_issuer": "fuzz-trust", "id_match": "(.*)", "policies": ["fuzz-pol"]}),
    ]:
        answer = server.post(path, json=body)
        assert answer.status_code == 201, f"{path}: {answer.text}"
    minted = server.post("/v1/jwt-issuers/fuzz-iss/roles/fuzz-role/mint", json={})
    assert minted.status_code == 200, minted.text
    return minted.json()["token"]


def patched(document, token):
    """The served document made usable; each change of the first kind is a known gap of the
    served document, to be dropped when the document is fixed:

    - path parameters carry no `schema` (OpenAPI requires `schema` or `content`): strings;
    - form bodies (`/jwt/{name}/oauth/...`) are typed as one string: objects of the string fields
      that their description lists;
    - the query parameters DESIGN §2.1 gives every resource path are not documented: added, so
      their parsers (`where`, `fields`, ...) are fuzzed too.

    Then, for reach: path parameters and token fields are also offered the seeded names and token.
    And for containment: the key-source URLs of trusted issuers are limited to loopback, so that
    fuzzed trusted issuers make the server fetch nothing off this machine.
    """
    document = copy.deepcopy(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if "schema" not in parameter and "content" not in parameter:
                    parameter["schema"] = {"type": "string"}
                if parameter["in"] == "path" and parameter["schema"].get("type") == "string":
                    parameter["schema"] = {"anyOf": [{"enum": NAMES}, parameter["schema"]]}
            body = operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded")
            if body is not None and body["schema"].get("type") == "string":
                fields = [name.strip() for name in operation["requestBody"]["description"].split(",")]
                body["schema"] = {"type": "object", "properties": {name: {"type": "string"} for name in fields}}
                token_fields(body["schema"], token)
            if path.startswith(("/v1/config/", "/v1/state/")):
                operation.setdefault("parameters", []).extend(resource_query_parameters(path, method))
    for schema in document.get("components", {}).get("schemas", {}).values():
        properties = schema.get("properties", {})
        for field in ("jwks_url", "discovery_url"):
            if field in properties:
                properties[field] = {"enum": [*LOOPBACK_URLS, None]}
        token_fields(schema, token)
    return document


def token_fields(schema, token):
    properties = schema.get("properties", {})
    for field in TOKEN_FIELDS:
        if field in properties:
            properties[field] = {"anyOf": [{"enum": [token]}, properties[field]]}


def resource_query_parameters(path, method):
    """DESIGN §2.1: `validate` on writes; `fields` on reads; `where`, `keys`, `count`, `limit`
    and `after` on lists; `content` on state."""
    is_list = not path.endswith("}")
    names = {"validate": {"type": "boolean"}} if method != "get" else {"fields": {"type": "string"}}
    if method == "get" and is_list:
        names |= {
            "where": {"type": "string"},
            "keys": {"type": "boolean"},
            "count": {"type": "boolean"},
            "limit": {"type": "integer"},
            "after": {"type": "string"},
        }
    if path.startswith("/v1/state/"):
        names["content"] = {"type": "string", "enum": ["config", "nonconfig"]}
    return [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in names.items()]


@pytest.fixture(autouse=True)
def schemathesis_node_id(request):
    """schemathesis 4.32's lazy loader renames the test node through `_nodeid`, an attribute pytest
    9.2 no longer has; giving it one lets the loader run (it only changes reported names)."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")
for method, path in EXCLUDED:
    schema = schema.exclude(method=method, path=path)


@schema.parametrize()
def test_no_generated_request_gets_a_server_error(case, fuzz_server):
    response = case.call(timeout=HTTP_SECONDS)
    fuzz_server.statuses[response.status_code] += 1
    if response.status_code >= 500:
        fuzz_server.server_errors.append(server_error_report(response, fuzz_server))
    case.validate_response(response, checks=[not_a_server_error])


def test_server_is_alive_and_ready_after_the_fuzzing(fuzz_server):
    print(f"fuzzed requests by status: {dict(sorted(fuzz_server.statuses.items()))}")
    exited = fuzz_server.process.poll()
    assert exited is None, f"sigil exited with {exited}:\n{log_text(fuzz_server)[-5000:]}"
    ready = requests.get(fuzz_server.url("/readyz"), timeout=HTTP_SECONDS)
    assert ready.status_code == 200, ready.text
    assert not fuzz_server.server_errors, "\n\n".join(fuzz_server.server_errors)


def server_error_report(response, server):
    """What a 5xx needs to be reproduced: the request, the answer and the server's log lines that
    carry the answer's request id."""
    request = response.request
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    request_ids = response.headers.get("x-request-id", [])
    lines = [line for line in log_text(server).splitlines() if any(i in line for i in request_ids)]
    return "\n".join(
        [
            f"{request.method} {request.url} -> {response.status_code} {response.text}",
            f"content-type: {request.headers.get('Content-Type')}; body: {body!r}",
            *(f"log: {line}" for line in lines),
        ]
    )


def log_text(server):
    server.log.flush()
    server.log.seek(0)
    return server.log.read()
