"""The background sweeper: every cleanup_interval it records expiries, unasked."""

from __future__ import annotations

from pathlib import Path

from tests.http.server import running
from tests.http.sse import open_stream


def test_sweeper_records_expiry_by_itself(tmp_path: Path) -> None:
    """With a 200 ms cleanup interval, a lapsed lease's expiry is streamed with no request."""
    with running(tmp_path, env={"CLAIMS_CLEANUP_INTERVAL": "200"}) as server:
        with server.client() as client:
            client.post("/api/tasks", json={"taskId": "lapses", "title": "Lapses"})
            client.post("/api/tasks/lapses/claim", json={"sessionId": "agent-a", "ttlMs": 1})
        with open_stream(server.base_url, after=0) as stream:
            names = [stream.next().event for _ in range(4)]
    assert names == ["task:registered", "session:started", "task:claimed", "task:claim-expired"]
