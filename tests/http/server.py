"""A real ``claims serve`` process on loopback, on a store of its own, for the HTTP tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CLAIMS = str(Path(sys.executable).with_name("claims"))
TEST_SETTINGS = {"CLAIMS_MIN_TTL": "1", "CLAIMS_LOCK_DELAY": "0"}
"""A 1 ms minimum TTL lets a test make a claim that has expired by its next request; no
lock-delay, so the next claim may follow at once (tests/unit/test_lock_delay.py tests it)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """One server process: its URL, its store, its log file."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port: int,
        db: str,
        log: Path,
        headers: Mapping[str, str],
    ) -> None:
        self.process = process
        self.port = port
        self.db = db
        self.log = log
        self.headers = dict(headers)
        self.base_url = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def client(self, **options: Any) -> httpx.Client:
        options.setdefault("headers", self.headers)
        return httpx.Client(base_url=self.base_url, timeout=30, **options)

    def head(self) -> int:
        """The store's head position, as the server reads it."""
        answer = httpx.get(self.url("/readyz"), headers=self.headers, timeout=30)
        position: int = answer.json()["position"]
        return position

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_server(
    folder: Path,
    *,
    db: str | None = None,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
    headers: Mapping[str, str] | None = None,
) -> Server:
    """Start ``claims serve`` on a free loopback port and wait until it is ready."""
    db = db or f"sqlite://{folder / 'ledger.db'}"
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_")}
    full_env = {**base, **TEST_SETTINGS, **(env or {})}
    for attempt in range(5):
        port = free_port()
        log = folder / f"server-{port}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [CLAIMS, "serve", "--db", db, "--port", str(port), *args],
                env=full_env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        server = Server(process, port, db, log, headers or {})
        if _wait_ready(server):
            return server
        server.stop()
        if attempt == 4:
            raise RuntimeError(f"server did not start:\n{log.read_text()}")
    raise AssertionError("unreachable")


def _wait_ready(server: Server, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            answer = httpx.get(server.url("/readyz"), headers=server.headers, timeout=2)
            if answer.status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return False


@contextmanager
def running(folder: Path, **options: Any) -> Iterator[Server]:
    server = start_server(folder, **options)
    try:
        yield server
    finally:
        server.stop()
