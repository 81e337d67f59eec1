"""Crash consistency of a real `sigil serve` on a persistent data directory (DESIGN §4).

Rounds of concurrent configuration writes, key rotations and mints are cut short by SIGKILL at a
random moment; the server restarts on the same directory, unseals itself from a key file, and must
still hold every write it acknowledged: each acknowledged create, update and delete, each
acknowledged rotation's version, exactly one active version per signing key, and the key of every
token it acknowledged in its issuer's JWKS, where PyJWT verifies the token. The rounds are drawn
from a seed, printed and taken from `CRASH_SEED` when set, so a failure can be replayed.
"""

import os
import random
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import jwt
import pytest
import requests

from conftest import SIGIL_BIN, clean_environment

ROUNDS = 12
# Randomly between these, after the workers start, the server is killed.
KILL_AFTER_SECONDS = (0.05, 1.0)
STARTUP_SECONDS = 30
HTTP_SECONDS = 10
# The whole test stops being patient after this; every wait below is also bounded on its own.
TEST_SECONDS = 150
KEY_TYPES = ["ecdsa-p256", "ed25519", "ecdsa-p384"]
ALGORITHMS = ["ES256", "ES384", "EdDSA"]
BASE_KEYS = 3
MINTERS = 2
# Caps the retuner moves the base issuers between, each with a default TTL within it. Tokens are
# minted at the default, so a lowered cap leaves tokens that outlive the new one.
TTL_CAPS = [("1d", "1h"), ("2h", "1h"), ("20m", "20m")]


class Server:
    """One data directory and the `sigil serve` processes run on it, one at a time."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.data_dir = self.directory / "data"
        self.key_file = self.directory / "unseal-keys"
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.starts = 0
        self.root_token = None

    def start(self, unseal=True):
        """Starts the server and waits until it is ready (or, without `unseal`, answering sealed).
        The port of a killed server can take a moment to be free again: that start is retried."""
        args = [
            SIGIL_BIN, "serve",
            "--data-dir", str(self.data_dir),
            "--listen", f"127.0.0.1:{self.port}",
            "--public-url", self.addr,
            "--lifecycle-interval", "1s",
            "--log-format", "json",
        ]
        if unseal:
            args += ["--unseal-key-file", str(self.key_file)]
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            self.starts += 1
            with open(self.log_path(), "w") as log:
                self.process = subprocess.Popen(
                    args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=clean_environment()
                )
            while time.monotonic() < deadline and self.process.poll() is None:
                if self.answers(sealed_ok=not unseal):
                    return
                time.sleep(0.05)
            if self.process.poll() is not None and "Address already in use" not in self.log_tail():
                pytest.fail(f"sigil exited with {self.process.returncode}:\n{self.log_tail()}")
            time.sleep(0.2)
        pytest.fail(f"sigil not ready within {STARTUP_SECONDS}s:\n{self.log_tail()}")

    def answers(self, sealed_ok):
        try:
            answer = requests.get(f"{self.addr}/readyz", timeout=HTTP_SECONDS)
        except requests.RequestException:
            return False
        return answer.status_code == 200 or (sealed_ok and answer.json().get("sealed") is True)

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=HTTP_SECONDS)

    def log_path(self):
        return self.directory / f"sigil-{self.starts}.log"

    def log_tail(self, lines=40):
        path = self.log_path()
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def session(self):
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {self.root_token}"
        return http


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server():
    """A fresh data directory, initialised with one share written to the unseal key file; the
    server is killed on every way out."""
    with tempfile.TemporaryDirectory(prefix="sigil-crash-") as directory:
        server = Server(directory)
        try:
            server.start(unseal=False)
            init = requests.post(f"{server.addr}/v1/sys/init", json={"shares": 1, "threshold": 1}, timeout=HTTP_SECONDS)
            assert init.status_code == 200, init.text
            share = init.json()["keys"][0]
            server.root_token = init.json()["root_token"]
            server.key_file.write_text(share + "\n")
            unseal = requests.post(f"{server.addr}/v1/sys/unseal", json={"key": share}, timeout=HTTP_SECONDS)
            assert unseal.status_code == 200 and unseal.json()["sealed"] is False, unseal.text
            yield server
        finally:
            server.kill()


@dataclass
class Ledger:
    """What the server acknowledged, and what was in flight when it died."""

    keys: dict = field(default_factory=dict)  # name -> type, for every acknowledged key
    issuers: dict = field(default_factory=dict)  # issuer -> key
    roles: list = field(default_factory=list)  # (issuer, role), mintable
    policies: set = field(default_factory=set)  # acknowledged creates, not deleted since
    deleted_policies: set = field(default_factory=set)
    # policy -> (last acknowledged revision, revision in flight or None)
    revisions: dict = field(default_factory=dict)
    # base issuer -> (last acknowledged index into TTL_CAPS, index in flight or None)
    caps: dict = field(default_factory=dict)
    rotations: list = field(default_factory=list)  # (key, version, kid)
    tokens: list = field(default_factory=list)  # (issuer, kid, token)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Workers:
    """The concurrent clients of one round; each stops at the first failed request (the server
    died) or when told to."""

    def __init__(self, server, ledger, rng, round_number):
        self.server = server
        self.ledger = ledger
        self.round = round_number
        self.stop = threading.Event()
        self.errors = []
        seeds = [rng.randrange(2**32) for _ in range(5 + MINTERS)]
        self.threads = [
            threading.Thread(target=self.run, args=(step, random.Random(seed)), daemon=True)
            for step, seed in zip(
                [self.create, self.rotate, self.revise, self.delete, self.retune] + [self.mint] * MINTERS,
                seeds,
            )
        ]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=2 * HTTP_SECONDS)

    def run(self, step, rng):
        http = self.server.session()
        count = 0
        try:
            while not self.stop.is_set():
                step(http, rng, count)
                count += 1
        except requests.RequestException:
            pass  # the server died under us: what was in flight is unacknowledged
        except Exception as error:  # a refused request while the server lives: a finding too
            self.errors.append(f"{step.__name__}: {error!r}")

    def post(self, http, path, body):
        answer = http.post(f"{self.server.addr}{path}", json=body, timeout=HTTP_SECONDS)
        if answer.status_code >= 300:
            raise AssertionError(f"POST {path} {body} -> {answer.status_code} {answer.text}")
        return answer

    def create(self, http, rng, count):
        """A signing key, an issuer on it, a role under that, and a policy: in dependency order,
        each recorded once acknowledged."""
        suffix = f"{self.round}-{count}"
        key_type = rng.choice(KEY_TYPES)
        self.post(http, "/v1/config/signing-keys", {"name": f"key-{suffix}", "type": key_type})
        with self.ledger.lock:
            self.ledger.keys[f"key-{suffix}"] = key_type
        self.post(http, "/v1/config/jwt-issuers", {"name": f"iss-{suffix}", "signing_key": f"key-{suffix}"})
        with self.ledger.lock:
            self.ledger.issuers[f"iss-{suffix}"] = f"key-{suffix}"
        self.post(http, f"/v1/config/jwt-issuers/iss-{suffix}/roles", {"name": "worker"})
        with self.ledger.lock:
            self.ledger.roles.append((f"iss-{suffix}", "worker"))
        self.post(http, "/v1/config/policies", policy(f"pol-{suffix}", 0))
        with self.ledger.lock:
            self.ledger.policies.add(f"pol-{suffix}")

    def rotate(self, http, rng, count):
        with self.ledger.lock:
            key = rng.choice(sorted(self.ledger.keys))
        body = {"prepublish": "1s"} if rng.random() < 0.3 else {}
        state = self.post(http, f"/v1/signing-keys/{key}/rotate", body).json()
        newest = max(state["versions"], key=lambda v: v["version"])
        with self.ledger.lock:
            self.ledger.rotations.append((key, newest["version"], newest["kid"]))
        time.sleep(rng.uniform(0, 0.03))

    def revise(self, http, rng, count):
        """PUTs on a few long-lived policies, one revision at a time, so that after the crash
        each holds its last acknowledged revision or the one in flight."""
        with self.ledger.lock:
            name = rng.choice(sorted(self.ledger.revisions))
            acknowledged, _ = self.ledger.revisions[name]
            revision = acknowledged + 1
            self.ledger.revisions[name] = (acknowledged, revision)
        answer = http.put(f"{self.server.addr}/v1/config/policies/{name}", json=policy(name, revision), timeout=HTTP_SECONDS)
        if answer.status_code >= 300:
            raise AssertionError(f"PUT policy {name} -> {answer.status_code} {answer.text}")
        with self.ledger.lock:
            self.ledger.revisions[name] = (revision, None)

    def retune(self, http, rng, count):
        """PATCHes a base issuer's `max_ttl` (and `default_ttl` within it) up or down."""
        with self.ledger.lock:
            name = rng.choice(sorted(self.ledger.caps))
            acknowledged, _ = self.ledger.caps[name]
            index = rng.choice([i for i in range(len(TTL_CAPS)) if i != acknowledged])
            self.ledger.caps[name] = (acknowledged, index)
        max_ttl, default_ttl = TTL_CAPS[index]
        body = {"max_ttl": max_ttl, "default_ttl": default_ttl}
        answer = http.patch(f"{self.server.addr}/v1/config/jwt-issuers/{name}", json=body, timeout=HTTP_SECONDS)
        if answer.status_code >= 300:
            raise AssertionError(f"PATCH jwt issuer {name} {body} -> {answer.status_code} {answer.text}")
        with self.ledger.lock:
            self.ledger.caps[name] = (index, None)
        time.sleep(rng.uniform(0, 0.05))

    def delete(self, http, rng, count):
        with self.ledger.lock:
            candidates = sorted(self.ledger.policies)
        if not candidates:
            time.sleep(0.01)
            return
        name = rng.choice(candidates)
        with self.ledger.lock:
            self.ledger.policies.discard(name)  # from here on, present or absent are both right
        answer = http.delete(f"{self.server.addr}/v1/config/policies/{name}", timeout=HTTP_SECONDS)
        if answer.status_code != 204:
            raise AssertionError(f"DELETE policy {name} -> {answer.status_code} {answer.text}")
        with self.ledger.lock:
            self.ledger.deleted_policies.add(name)
        time.sleep(rng.uniform(0, 0.05))

    def mint(self, http, rng, count):
        with self.ledger.lock:
            issuer, role = rng.choice(self.ledger.roles)
        minted = self.post(http, f"/v1/jwt-issuers/{issuer}/roles/{role}/mint", {}).json()
        assert jwt.get_unverified_header(minted["token"])["kid"] == minted["kid"], minted
        with self.ledger.lock:
            self.ledger.tokens.append((issuer, minted["kid"], minted["token"]))


def policy(name, revision):
    return {"name": name, "rules": [{"path": f"/signing-keys/revision-{revision}", "operations": ["read"]}]}


def test_acknowledged_writes_keys_and_tokens_survive_sigkill(server):
    seed = int(os.environ.get("CRASH_SEED", random.randrange(2**32)))
    print(f"crash consistency seed: CRASH_SEED={seed}")
    rng = random.Random(seed)
    deadline = time.monotonic() + TEST_SECONDS
    ledger = seed_ledger(server)
    for round_number in range(ROUNDS):
        assert time.monotonic() < deadline, f"seed {seed}: out of time after {round_number} rounds"
        delay = rng.uniform(*KILL_AFTER_SECONDS)
        with Workers(server, ledger, rng, round_number) as workers:
            time.sleep(delay)
            server.kill()
        assert not workers.errors, f"seed {seed}, round {round_number}: {workers.errors}"
        server.start()
        problems = check(server, ledger)
        assert not problems, (
            f"seed {seed}, round {round_number}, killed after {delay:.3f}s:\n" + "\n".join(problems)
        )
    print(
        f"{ROUNDS} rounds: {len(ledger.keys)} keys, {len(ledger.rotations)} rotations, "
        f"{len(ledger.tokens)} tokens, {len(ledger.deleted_policies)} deletes checked"
    )


def seed_ledger(server):
    """Keys, issuers and roles that exist before the first kill, so every worker has work."""
    ledger = Ledger()
    http = server.session()
    for i in range(BASE_KEYS):
        key_type = KEY_TYPES[i % len(KEY_TYPES)]
        for path, body in [
            ("/v1/config/signing-keys", {"name": f"base-key-{i}", "type": key_type}),
            ("/v1/config/jwt-issuers", {"name": f"base-iss-{i}", "signing_key": f"base-key-{i}"}),
            (f"/v1/config/jwt-issuers/base-iss-{i}/roles", {"name": "worker"}),
            ("/v1/config/policies", policy(f"base-pol-{i}", 0)),
        ]:
            answer = http.post(f"{server.addr}{path}", json=body, timeout=HTTP_SECONDS)
            assert answer.status_code == 201, answer.text
        ledger.keys[f"base-key-{i}"] = key_type
        ledger.issuers[f"base-iss-{i}"] = f"base-key-{i}"
        ledger.roles.append((f"base-iss-{i}", "worker"))
        ledger.revisions[f"base-pol-{i}"] = (0, None)
        ledger.caps[f"base-iss-{i}"] = (next(j for j, cap in enumerate(TTL_CAPS) if cap[0] == "1d"), None)
    return ledger


def check(server, ledger):
    """Every way the restarted server disagrees with what it acknowledged."""
    http = server.session()
    problems = []

    def read(path):
        answer = http.get(f"{server.addr}{path}", timeout=HTTP_SECONDS)
        if answer.status_code not in (200, 404):
            problems.append(f"GET {path} -> {answer.status_code} {answer.text}")
        return answer

    for name in ledger.keys:
        if read(f"/v1/config/signing-keys/{name}").status_code != 200:
            problems.append(f"acknowledged signing key {name} is missing")
    for name, key in ledger.issuers.items():
        answer = read(f"/v1/config/jwt-issuers/{name}")
        if answer.status_code != 200:
            problems.append(f"acknowledged jwt issuer {name} is missing")
        elif answer.json().get("signing_key") != key:
            problems.append(f"jwt issuer {name} has signing key {answer.json().get('signing_key')}, not {key}")
    for issuer, role in ledger.roles:
        if read(f"/v1/config/jwt-issuers/{issuer}/roles/{role}").status_code != 200:
            problems.append(f"acknowledged role {issuer}/{role} is missing")
    for name in ledger.policies:
        if read(f"/v1/config/policies/{name}").status_code != 200:
            problems.append(f"acknowledged policy {name} is missing")
    for name in ledger.deleted_policies:
        if read(f"/v1/config/policies/{name}").status_code != 404:
            problems.append(f"policy {name} is back after an acknowledged delete")
    for name, (acknowledged, in_flight) in ledger.revisions.items():
        answer = read(f"/v1/config/policies/{name}")
        allowed = {acknowledged} | ({in_flight} if in_flight is not None else set())
        found = [policy_revision(answer.json())] if answer.status_code == 200 else []
        if not found or found[0] not in allowed:
            problems.append(f"policy {name} is at revision {found}, acknowledged {acknowledged}, in flight {in_flight}")
        ledger.revisions[name] = (found[0] if found else acknowledged, None)
    for name, (acknowledged, in_flight) in ledger.caps.items():
        answer = read(f"/v1/config/jwt-issuers/{name}")
        allowed = {TTL_CAPS[i][0] for i in (acknowledged, in_flight) if i is not None}
        found = answer.json().get("max_ttl") if answer.status_code == 200 else None
        if found not in allowed:
            problems.append(f"jwt issuer {name} has max_ttl {found}, acknowledged {TTL_CAPS[acknowledged][0]}, in flight {in_flight and TTL_CAPS[in_flight][0]}")
        indexes = [i for i, cap in enumerate(TTL_CAPS) if cap[0] == found]
        ledger.caps[name] = (indexes[0] if indexes else acknowledged, None)

    versions = {}
    listing = read("/v1/state/signing-keys?keys=true")
    names = set(ledger.keys) | set(key_names(listing.json()) if listing.status_code == 200 else [])
    for name in sorted(names):
        answer = read(f"/v1/state/signing-keys/{name}")
        if answer.status_code != 200:
            continue
        versions[name] = {v["version"]: v for v in answer.json()["versions"]}
        active = [v["version"] for v in answer.json()["versions"] if v["status"] == "active"]
        if len(active) != 1:
            statuses = {v["version"]: v["status"] for v in answer.json()["versions"]}
            problems.append(f"signing key {name} has {len(active)} active versions: {statuses}")
    for key, version, kid in ledger.rotations:
        found = versions.get(key, {}).get(version)
        if found is None:
            problems.append(f"acknowledged rotation of {key} to version {version} ({kid}) is missing")
        elif found["kid"] != kid:
            problems.append(f"version {version} of {key} has kid {found['kid']}, acknowledged {kid}")

    by_kid = {v["kid"]: (name, v) for name, numbered in versions.items() for v in numbered.values()}
    jwks = {}
    signed = {}  # (issuer, kid) -> [tokens]
    for issuer, kid, token in ledger.tokens:
        signed.setdefault((issuer, kid), []).append(token)
    for (issuer, kid), tokens in signed.items():
        key, version = by_kid.get(kid, (None, {}))
        described = f"{len(tokens)} token(s) of {issuer} signed by {key} version {version.get('version')} ({kid})"
        # DESIGN §4: a version stays published until every token it signed has expired.
        expires = max(jwt.decode(token, options={"verify_signature": False})["exp"] for token in tokens)
        retires = version.get("retires_at")
        if retires is not None and timestamp(retires) < expires:
            problems.append(
                f"{described}: the last expires at {datetime.fromtimestamp(expires, timezone.utc):%Y-%m-%dT%H:%M:%SZ}, "
                f"after the key leaves the JWKS at {retires} (version now {version.get('status')}, "
                f"activates_at {version.get('activates_at')}, created_at {version.get('created_at')})"
            )
        if issuer not in jwks:
            answer = requests.get(f"{server.addr}/jwt/{issuer}/.well-known/jwks.json", timeout=HTTP_SECONDS)
            jwks[issuer] = {k["kid"]: k for k in answer.json().get("keys", [])} if answer.status_code == 200 else {}
        jwk = jwks[issuer].get(kid)
        if jwk is None:
            problems.append(f"{described}: the JWKS lacks the key; one of them: {tokens[0]}")
            continue
        for token in tokens:
            try:
                jwt.decode(
                    token,
                    key=jwt.PyJWK(jwk),
                    algorithms=ALGORITHMS,
                    issuer=f"{server.addr}/jwt/{issuer}",
                    options={"require": ["exp", "iat", "iss", "jti"], "verify_aud": False},
                )
            except jwt.PyJWTError as error:
                problems.append(f"{described}: PyJWT refuses one with the published key: {error}: {token}")
    return problems


def timestamp(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


def policy_revision(body):
    path = body["rules"][0]["path"]
    return int(path.rsplit("-", 1)[1])


def key_names(listing):
    if isinstance(listing, dict):
        listing = listing.get("keys", listing.get("items", []))
    return [entry if isinstance(entry, str) else entry["name"] for entry in listing]
