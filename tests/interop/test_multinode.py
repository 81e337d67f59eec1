"""Several real `sigil serve` nodes on one PostgreSQL (DESIGN §4): what one node changes, the
others serve within a second; concurrent writes through different nodes stay consistent; and a
database that goes away gives clear 503s, never 500s or hangs, while minting and JWKS keep
answering from memory, until it comes back, without restarting a node.

The nodes reach PostgreSQL through a loopback TCP relay this test can cut, which is how a node
sees a lost database. The cluster is the one `SIGIL_TEST_POSTGRES_URL` names (`./scripts/test`
starts a throwaway one); each run creates a database of its own and drops it afterwards.
"""

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from conftest import SIGIL_BIN, clean_environment

STARTUP_SECONDS = 60
HTTP_SECONDS = 30
PROPAGATION_SECONDS = 1.0


def cluster_url():
    url = os.environ.get("SIGIL_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("SIGIL_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts PostgreSQL")
    return url


def with_database(url, database, host=None, port=None):
    parts = urlsplit(url)
    netloc = parts.netloc
    if host is not None:
        credentials = netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""
        netloc = f"{credentials}{host}:{port}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))


def psql(url, statement):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", statement], check=True,
                   stdout=subprocess.DEVNULL, timeout=HTTP_SECONDS)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Relay:
    """A loopback TCP relay to PostgreSQL. `cut()` drops every connection and refuses new ones
    (a lost database, as the nodes see it); `restore()` lets connections through again."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.sockets = set()
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self):
        self.open = False
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            self.sockets.clear()

    def restore(self):
        self.open = True

    def close(self):
        self.cut()
        self.listener.close()


class Node:
    """One `sigil serve` process on the shared database."""

    def __init__(self, name, directory, storage, key_file, env=None):
        self.name = name
        self.env = env or {}
        self.directory = Path(directory) / name
        self.directory.mkdir(exist_ok=True)
        self.port = free_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.storage = storage
        self.key_file = key_file
        self.process = None
        self.token = None

    def start(self, unseal):
        self.launch(unseal)
        self.wait_ready(unseal, STARTUP_SECONDS)

    def launch(self, unseal):
        args = [SIGIL_BIN, "serve", "--data-dir", str(self.directory), "--listen",
                f"127.0.0.1:{self.port}", "--public-url", self.addr, "--storage", self.storage,
                "--lifecycle-interval", "1s", "--log-format", "json"]
        if unseal:
            args += ["--unseal-key-file", str(self.key_file)]
        self.log = open(self.directory / "sigil.log", "w")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=self.log, env={**clean_environment(), **self.env})

    def wait_ready(self, unseal, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"node {self.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                ready = requests.get(f"{self.addr}/readyz", timeout=HTTP_SECONDS)
                if ready.status_code == 200 or (not unseal and ready.json().get("sealed")):
                    return
            time.sleep(0.05)
        pytest.fail(f"node {self.name} not ready within {seconds}s:\n{self.log_tail()}")

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process is not None:
            self.log.close()

    def log_text(self):
        path = self.directory / "sigil.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tail(self, lines=30):
        path = self.directory / "sigil.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def request(self, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.request(method, f"{self.addr}{path}", headers=headers,
                                timeout=HTTP_SECONDS, **kwargs)


@pytest.fixture
def nodes():
    """Three nodes on one fresh database behind a relay, initialised through the first and
    auto-unsealed from one key file; every node is stopped and the database dropped after."""
    with deployment() as running:
        yield running


@pytest.fixture
def clocked_nodes(tmp_path):
    """`nodes` whose wall clock the test moves: every node runs under libfaketime and reads its
    offset from one file (their monotonic clocks, hence timers, are left alone)."""
    clock = tmp_path / "clock-offset"
    clock.write_text("+0\n")
    env = {"LD_PRELOAD": faketime_library(), "FAKETIME_TIMESTAMP_FILE": str(clock),
           "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1"}
    with deployment(env) as running:
        yield running, clock


def faketime_library():
    found = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
    if not found:
        pytest.fail("libfaketime is not installed (Debian: apt-get install libfaketime); "
                    "./scripts/test needs it to move the nodes' clocks")
    return str(found[0])


@contextlib.contextmanager
def deployment(env=None):
    url = cluster_url()
    database = f"sigil_multinode_{uuid.uuid4().hex[:12]}"
    psql(url, f'CREATE DATABASE "{database}"')
    target = urlsplit(url)
    relay = Relay(target.hostname, target.port or 5432)
    storage = with_database(url, database, "127.0.0.1", relay.port)
    started = []
    try:
        with tempfile.TemporaryDirectory(prefix="sigil-multinode-") as directory:
            key_file = Path(directory) / "unseal-keys"
            first = Node("a", directory, storage, key_file, env)
            first.start(unseal=False)
            started.append(first)
            init = first.request("POST", "/v1/sys/init", json={"shares": 1, "threshold": 1})
            assert init.status_code == 200, init.text
            key_file.write_text(init.json()["keys"][0] + "\n")
            root = init.json()["root_token"]
            first.stop()
            nodes = [Node(name, directory, storage, key_file, env) for name in "abc"]
            for node in nodes:
                node.token = root
                node.start(unseal=True)
                started.append(node)
            yield nodes, relay
    finally:
        for node in started:
            node.stop()
        relay.close()
        psql(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def within(seconds, check):
    """Polls `check` until it answers true or `seconds` pass; answers the time it took."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > seconds:
            pytest.fail(f"not within {seconds}s")
        time.sleep(0.02)


def create_issuer(node, issuer="ci", key="k1"):
    assert node.request("POST", "/v1/config/signing-keys",
                        json={"name": key, "type": "ecdsa-p256"}).status_code == 201
    assert node.request("POST", "/v1/config/jwt-issuers",
                        json={"name": issuer, "signing_key": key}).status_code == 201
    assert node.request("POST", f"/v1/config/jwt-issuers/{issuer}/roles",
                        json={"name": "deployer", "subject_template": "{{identity.id}}"}
                        ).status_code == 201


def test_init_on_a_node_of_an_initialised_deployment_is_refused(nodes):
    (a, b, c), _ = nodes

    again = b.request("POST", "/v1/sys/init", json={"shares": 1, "threshold": 1})

    assert again.status_code == 409, again.text
    assert again.json()["error_code"] == "already_initialised"
    names = {node.request("GET", "/readyz").json()["node"] for node in (a, b, c)}
    assert len(names) == 3, names


def test_an_issuer_created_on_one_node_mints_on_another_within_a_second(nodes):
    (a, b, _), _ = nodes

    create_issuer(a)

    took = within(PROPAGATION_SECONDS, lambda: b.request(
        "POST", "/v1/jwt-issuers/ci/roles/deployer/mint", json={}).status_code == 200)
    minted = b.request("POST", "/v1/jwt-issuers/ci/roles/deployer/mint", json={}).json()
    jwks = jwt.PyJWKClient(f"{b.addr}/jwt/ci/.well-known/jwks.json")
    claims = jwt.decode(minted["token"], jwks.get_signing_key_from_jwt(minted["token"]).key,
                        algorithms=["ES256"], options={"verify_aud": False})
    assert claims["iss"] == f"{a.addr}/jwt/ci" or claims["iss"].endswith("/jwt/ci")
    assert took <= PROPAGATION_SECONDS


def test_a_rotation_on_one_node_is_in_another_nodes_jwks_within_a_second(nodes):
    (a, b, c), _ = nodes
    create_issuer(a)
    within(PROPAGATION_SECONDS, lambda: c.request("GET", "/jwt/ci/.well-known/jwks.json").status_code == 200)
    before = {k["kid"] for k in c.request("GET", "/jwt/ci/.well-known/jwks.json").json()["keys"]}

    rotated = a.request("POST", "/v1/signing-keys/k1/rotate", json={})
    assert rotated.status_code == 200, rotated.text
    new_kid = rotated.json()["signing_kid"]

    assert new_kid not in before
    within(PROPAGATION_SECONDS, lambda: new_kid in {
        k["kid"] for k in c.request("GET", "/jwt/ci/.well-known/jwks.json").json()["keys"]})


def test_concurrent_rotations_through_every_node_leave_one_active_version(nodes):
    (a, b, c), _ = nodes
    create_issuer(a)
    within(PROPAGATION_SECONDS, lambda: all(
        n.request("GET", "/v1/state/signing-keys/k1").status_code == 200 for n in (b, c)))

    def rotate(i):
        node = (a, b, c)[i % 3]
        # A stale ETag is a 412 the client retries, as a real client would.
        for _ in range(50):
            answer = node.request("POST", "/v1/signing-keys/k1/rotate", json={})
            if answer.status_code == 200:
                return answer.json()["signing_kid"]
            assert answer.status_code in (409, 412), answer.text
            time.sleep(0.01)
        pytest.fail("a rotation kept conflicting")

    with ThreadPoolExecutor(max_workers=20) as pool:
        kids = list(pool.map(rotate, range(20)))

    assert len(set(kids)) == 20
    # Every node converges on the same 21 versions (the first and one per rotation).
    for node in (a, b, c):
        within(PROPAGATION_SECONDS, lambda: len(
            node.request("GET", "/v1/state/signing-keys/k1").json()["versions"]) == 21)
        state = node.request("GET", "/v1/state/signing-keys/k1").json()
        versions = [v["version"] for v in state["versions"]]
        assert versions == list(range(1, 22))
        assert [v["status"] for v in state["versions"]].count("active") == 1
        assert state["signing_kid"] in kids


def test_a_jti_redeemed_on_one_node_is_refused_on_every_other(nodes):
    (a, b, c), _ = nodes
    create_issuer(a)
    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": "pipeline-1", "alg": "ES256"})
    external = "https://ci.example.com"
    for path, body in [
        ("/v1/config/trusted-issuers", {"name": "pipeline", "issuer": external, "keys": [jwk],
                                        "require_jti": True}),
        ("/v1/config/policies", {"name": "deploy", "rules": [
            {"path": "/jwt-issuers/ci/roles/deployer/mint", "operations": ["update"]}]}),
        ("/v1/config/identity-mappings", {"name": "pipeline", "trusted_issuer": "pipeline",
                                          "id_match": "(.+)", "policies": ["deploy"]}),
    ]:
        answer = a.request("POST", path, json=body)
        assert answer.status_code == 201, answer.text
    now = int(time.time())
    subject = jwt.encode({"iss": external, "sub": "pipeline-42", "jti": str(uuid.uuid4()),
                          "iat": now, "exp": now + 300}, private_key, algorithm="ES256",
                         headers={"kid": "pipeline-1"})

    def exchange(node):
        return requests.post(f"{node.addr}/jwt/ci/oauth/token", timeout=HTTP_SECONDS, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": subject,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "scope": "deployer"})

    # B and C learn the new configuration first; a refusal there must not spend the token.
    within(PROPAGATION_SECONDS, lambda: all(
        n.request("GET", "/v1/config/identity-mappings/pipeline").status_code == 200
        for n in (b, c)))
    first = exchange(a)
    assert first.status_code == 200, first.text

    for node in (b, c, a):
        again = exchange(node)
        assert again.status_code == 400, again.text
        assert again.json()["error"] == "invalid_grant"


def test_scheduled_rotation_runs_on_one_node_and_another_takes_over_when_it_dies(clocked_nodes):
    ((a, b, c), _), clock = clocked_nodes
    created = a.request("POST", "/v1/config/signing-keys",
                        json={"name": "scheduled", "type": "ecdsa-p256", "rotation_period": "1h"})
    assert created.status_code == 201, created.text
    leader = leading_node((a, b, c))

    clock.write_text("+2h\n")
    assert_versions_settle_at(a, [1, 2])
    assert applied_by((a, b, c)) == [leader]

    leader.kill()
    survivors = [node for node in (a, b, c) if node is not leader]
    successor = leading_node(survivors)

    clock.write_text("+4h\n")
    assert_versions_settle_at(survivors[0], [1, 2, 3])
    assert applied_by(survivors) == [successor]


def leading_node(candidates):
    """The one node that says it leads scheduled work (waiting for a lifecycle tick or two)."""
    def leaders():
        return [n for n in candidates if "now leads scheduled work" in n.log_text()
                and "no longer leads scheduled work" not in n.log_text()]
    within(10, lambda: len(leaders()) >= 1)
    time.sleep(2)  # Two more ticks: a second leader would have said so by now.
    found = leaders()
    assert len(found) == 1, [n.name for n in found]
    return found[0]


def assert_versions_settle_at(node, expected):
    """The key reaches exactly `expected` versions with one active, and stays there over
    several lifecycle ticks of every node."""
    def versions():
        state = node.request("GET", "/v1/state/signing-keys/scheduled")
        assert state.status_code == 200, state.text
        return state.json()["versions"]
    within(10, lambda: len(versions()) >= len(expected))
    time.sleep(3)
    settled = versions()
    assert [v["version"] for v in settled] == expected
    assert [v["status"] for v in settled].count("active") == 1


def applied_by(candidates):
    """The nodes whose logs show a scheduled change applied to the key."""
    return [n for n in candidates if any(
        "key lifecycle applied" in line and "scheduled" in line
        for line in n.log_text().splitlines())]


def test_a_lost_database_gives_503s_while_minting_and_jwks_go_on_and_recovery_needs_no_restart(nodes):
    (a, b, _), relay = nodes
    create_issuer(a)
    within(PROPAGATION_SECONDS, lambda: b.request(
        "POST", "/v1/jwt-issuers/ci/roles/deployer/mint", json={}).status_code == 200)

    relay.cut()
    try:
        started = time.monotonic()
        write = b.request("POST", "/v1/config/signing-keys", json={"name": "k2", "type": "ecdsa-p256"})
        assert write.status_code == 503, write.text
        assert write.json()["error_code"] == "storage_unavailable"
        assert time.monotonic() - started < 15
        assert b.request("POST", "/v1/jwt-issuers/ci/roles/deployer/mint", json={}).status_code == 200
        assert b.request("GET", "/jwt/ci/.well-known/jwks.json").status_code == 200
        ready = b.request("GET", "/readyz")
        assert ready.status_code == 503, ready.text
    finally:
        relay.restore()

    within(15, lambda: b.request("POST", "/v1/config/signing-keys",
                                 json={"name": "k2", "type": "ecdsa-p256"}).status_code == 201)
    within(PROPAGATION_SECONDS + 1, lambda: a.request("GET", "/v1/config/signing-keys/k2").status_code == 200)


def test_a_killed_node_loses_no_acknowledged_write(nodes):
    (a, b, _), _ = nodes
    acknowledged = []
    for i in range(20):
        created = a.request("POST", "/v1/config/policies",
                            json={"name": f"p{i}", "rules": [{"path": f"/p/{i}", "operations": ["read"]}]})
        assert created.status_code == 201, created.text
        acknowledged.append(f"p{i}")

    a.kill()

    def all_there():
        names = {p["name"] for p in b.request("GET", "/v1/config/policies").json()}
        return set(acknowledged) <= names
    within(PROPAGATION_SECONDS, all_there)


def test_a_node_started_while_the_database_is_down_waits_says_so_and_serves_once_it_is_back(nodes):
    (a, _, _), relay = nodes
    late = Node("d", a.directory.parent, a.storage, a.key_file)
    late.token = a.token
    relay.cut()
    try:
        late.launch(unseal=True)
        time.sleep(3)
        assert late.process.poll() is None, late.log_tail()
        assert "the database cannot be reached yet; retrying" in late.log_tail()
        with contextlib.suppress(requests.RequestException):
            assert requests.get(f"{late.addr}/readyz", timeout=2).status_code != 200
    finally:
        relay.restore()
    try:
        late.wait_ready(unseal=True, seconds=45)
        assert late.request("GET", "/v1/config/signing-keys").status_code == 200
    finally:
        late.stop()


def test_a_migrated_sqlite_deployment_serves_the_same_keys_and_tokens():
    url = cluster_url()
    database = f"sigil_migrated_{uuid.uuid4().hex[:12]}"
    psql(url, f'CREATE DATABASE "{database}"')
    try:
        with tempfile.TemporaryDirectory(prefix="sigil-migrate-") as directory:
            sqlite_path = Path(directory) / "old" / "sigil.sqlite"
            key_file = Path(directory) / "unseal-keys"
            node = Node("old", directory, f"sqlite:{sqlite_path}", key_file)
            node.start(unseal=False)
            try:
                init = node.request("POST", "/v1/sys/init", json={"shares": 1, "threshold": 1})
                assert init.status_code == 200, init.text
                key_file.write_text(init.json()["keys"][0] + "\n")
                node.token = init.json()["root_token"]
                assert node.request("POST", "/v1/sys/unseal",
                                    json={"key": init.json()["keys"][0]}).status_code == 200
                create_issuer(node)
                old_token = node.request("POST", "/v1/jwt-issuers/ci/roles/deployer/mint", json={}).json()["token"]
                old_kids = {k["kid"] for k in node.request("GET", "/jwt/ci/.well-known/jwks.json").json()["keys"]}
            finally:
                node.stop()

            target = with_database(url, database)
            migrate = subprocess.run(
                [SIGIL_BIN, "storage", "migrate", "--from", f"sqlite:{sqlite_path}", "--to", target],
                capture_output=True, text=True, timeout=STARTUP_SECONDS, env=clean_environment())
            assert migrate.returncode == 0, migrate.stderr
            assert "Copied and verified" in migrate.stdout
            again = subprocess.run(
                [SIGIL_BIN, "storage", "migrate", "--from", f"sqlite:{sqlite_path}", "--to", target],
                capture_output=True, text=True, timeout=STARTUP_SECONDS, env=clean_environment())
            assert again.returncode != 0 and "not empty" in again.stderr, again.stderr

            node.storage = target
            node.start(unseal=True)
            try:
                jwks = node.request("GET", "/jwt/ci/.well-known/jwks.json").json()
                assert {k["kid"] for k in jwks["keys"]} == old_kids
                signing_key = jwt.PyJWKClient(f"{node.addr}/jwt/ci/.well-known/jwks.json").get_signing_key_from_jwt(old_token)
                claims = jwt.decode(old_token, signing_key.key, algorithms=["ES256"], options={"verify_aud": False})
                assert claims["iss"] == f"{node.addr}/jwt/ci"
                assert node.request("POST", "/v1/jwt-issuers/ci/roles/deployer/mint", json={}).status_code == 200
            finally:
                node.stop()
    finally:
        psql(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
