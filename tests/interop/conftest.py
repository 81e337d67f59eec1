"""The shared fixture of the interop suite: one real `sigil serve --dev` per test session.

Run from the repository root after `cargo build`:

    SIGIL_BIN=target/debug/sigil target/interop-venv/bin/python -m pytest tests/interop
"""

import contextlib
import os
import queue
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SIGIL_BIN = os.environ.get("SIGIL_BIN", str(REPO_ROOT / "target" / "debug" / "sigil"))
STARTUP_SECONDS = 60
SHUTDOWN_SECONDS = 10
HTTP_SECONDS = 60


class Sigil:
    """A running dev server: its address, what it printed, and an authenticated session."""

    def __init__(self, addr, unseal_key, root_token):
        self.addr = addr
        self.unseal_key = unseal_key
        self.root_token = root_token
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {root_token}"

    def url(self, path):
        return f"{self.addr}{path}"

    def get(self, path, **kwargs):
        return self.http.get(self.url(path), timeout=HTTP_SECONDS, **kwargs)

    def post(self, path, **kwargs):
        return self.http.post(self.url(path), timeout=HTTP_SECONDS, **kwargs)


def clean_environment():
    return {name: value for name, value in os.environ.items() if not name.startswith("SIGIL_")}


def read_lines(stream, lines):
    for line in stream:
        lines.put(line.rstrip("\n"))


@contextlib.contextmanager
def dev_server(*extra_args, stderr=None):
    """Runs `sigil serve --dev` on a free loopback port, reads its three lines, yields the `Sigil`
    and the process, and stops it with SIGTERM (expecting exit 0), or kills it on any failure.
    `stderr`, a file, receives the server's log; by default a temporary file does."""
    with contextlib.ExitStack() as stack:
        if stderr is None:
            stderr = stack.enter_context(tempfile.TemporaryFile(mode="w+"))
        process = subprocess.Popen(
            [SIGIL_BIN, "serve", "--dev", "--listen", "127.0.0.1:0", *extra_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=clean_environment(),
        )
        try:
            lines = queue.Queue()
            threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()

            def next_line():
                try:
                    return lines.get(timeout=STARTUP_SECONDS)
                except queue.Empty:
                    stderr.seek(0)
                    pytest.fail(f"sigil printed nothing within {STARTUP_SECONDS}s:\n{stderr.read()}")

            listening, unseal, root = next_line(), next_line(), next_line()
            assert listening.startswith("Listening on http://127.0.0.1:"), listening
            assert unseal.startswith("Unseal Key: "), unseal
            assert root.startswith("Root Token: "), root
            yield (
                Sigil(
                    listening.removeprefix("Listening on "),
                    unseal.removeprefix("Unseal Key: "),
                    root.removeprefix("Root Token: "),
                ),
                process,
            )
            process.terminate()
            assert process.wait(timeout=SHUTDOWN_SECONDS) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=SHUTDOWN_SECONDS)


@pytest.fixture(scope="session")
def sigil():
    """Starts `sigil serve --dev --allow-private-networks`, reads its three lines, and stops it
    with SIGTERM."""
    # Private networks allowed: test_trust.py serves JWKS documents on 127.0.0.1.
    with dev_server("--allow-private-networks") as (server, _process):
        yield server
