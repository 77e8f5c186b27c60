"""The event stream over a tampered log: it ends with a ``ledger:error`` event that
carries LOG_CORRUPT and the position, instead of streaming past the broken record
or waiting forever."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.server import Server, start_server


@pytest.fixture
def tampered(tmp_path: Path) -> Iterator[Server]:
    """A server started on a ledger whose second record was edited after it was written."""
    writer = start_server(tmp_path)
    with writer.client() as client:
        for task in ("a", "b", "c"):
            client.post("/api/tasks", json={"taskId": task, "title": f"Task {task}"})
    writer.stop()
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        (body,) = db.execute("SELECT body FROM events WHERE position = 2").fetchone()
        db.execute(
            "UPDATE events SET body = ? WHERE position = 2", (body.replace(b"Task b", b"Task X"),)
        )
    server = start_server(tmp_path)
    yield server
    server.stop()


def test_a_resumed_stream_ends_with_log_corrupt(tampered: Server) -> None:
    """Resuming from 0 streams position 1, then one ledger:error event naming position 2."""
    timeout = httpx.Timeout(20, connect=10)
    with (
        httpx.Client(base_url=tampered.base_url, timeout=timeout) as client,
        client.stream("GET", "/api/events", params={"after": "0"}) as response,
    ):
        lines = list(response.iter_lines())
    ids = [line for line in lines if line.startswith("id: ")]
    events = [line for line in lines if line.startswith("event: ")]
    assert ids == ["id: 1"]
    assert events[-1] == "event: ledger:error"
    error = json.loads(lines[lines.index("event: ledger:error") + 1].removeprefix("data: "))
    assert (error["error"], error["position"]) == ("LOG_CORRUPT", 2)
