"""Hostile and malformed requests: each is refused with a clear 400 problem, and the
store's files are byte for byte what they were (tests/http/test_errors.py has the
everyday mistakes: bad JSON, wrong types, unknown members, a space in an id)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.http.conftest import problem_of
from tests.http.server import Server

JSON = {"Content-Type": "application/json"}
CASES: dict[str, tuple[str, bytes, dict[str, str], str]] = {
    "text-plain-content-type": (
        "/api/tasks/{task}/claim",
        b'{"sessionId": "s-1"}',
        {"Content-Type": "text/plain"},
        "VALIDATION_ERROR",
    ),
    "form-content-type": (
        "/api/tasks/{task}/claim",
        b"sessionId=s-1",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "VALIDATION_ERROR",
    ),
    "invalid-utf8-in-id": ("/api/tasks", b'{"taskId": "t\xff", "title": "T"}', JSON, "BAD_REQUEST"),
    "control-character-in-id": (
        "/api/tasks",
        b'{"taskId": "t\\u0001x", "title": "T"}',
        JSON,
        "VALIDATION_ERROR",
    ),
    "nul-in-session-id": (
        "/api/tasks/{task}/claim",
        b'{"sessionId": "s\\u0000"}',
        JSON,
        "VALIDATION_ERROR",
    ),
    "path-traversal-id": (
        "/api/tasks",
        b'{"taskId": "../../etc/passwd", "title": "T"}',
        JSON,
        "VALIDATION_ERROR",
    ),
    "path-traversal-in-url": (
        "/api/tasks/..%2F..%2Fetc/claim",
        b'{"sessionId": "s-1"}',
        JSON,
        "VALIDATION_ERROR",
    ),
    "nul-in-url-id": ("/api/tasks/%00t/claim", b'{"sessionId": "s-1"}', JSON, "VALIDATION_ERROR"),
    "sql-looking-id": (
        "/api/tasks",
        b'{"taskId": "x\'; DROP TABLE events;--", "title": "T"}',
        JSON,
        "VALIDATION_ERROR",
    ),
    "negative-ttl": (
        "/api/tasks/{task}/claim",
        b'{"sessionId": "s-1", "ttlMs": -1}',
        JSON,
        "VALIDATION_ERROR",
    ),
    "huge-ttl": (
        "/api/tasks/{task}/claim",
        b'{"sessionId": "s-1", "ttlMs": 1000000000000000000000000000000}',
        JSON,
        "VALIDATION_ERROR",
    ),
    "ttl-above-maximum-within-json-range": (
        "/api/tasks/{task}/claim",
        b'{"sessionId": "s-1", "ttlMs": 9007199254740992}',
        JSON,
        "INVALID_TTL",
    ),
    "oversize-title": (
        "/api/tasks",
        b'{"taskId": "big", "title": "' + b"x" * 501 + b'"}',
        JSON,
        "VALIDATION_ERROR",
    ),
    "oversize-metadata": (
        "/api/tasks/{task}/claim",
        b'{"sessionId": "s-1", "metadata": {"x": "' + b"a" * 1_000_000 + b'"}}',
        JSON,
        "VALIDATION_ERROR",
    ),
}


def _store_files(server: Server) -> dict[str, bytes]:
    """The store's database and write-ahead log (not its shared-memory index)."""
    path = Path(server.db.removeprefix("sqlite://"))
    return {
        p.name: p.read_bytes()
        for p in sorted(path.parent.glob(path.name + "*"))
        if not p.name.endswith("-shm")
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_request_is_refused_and_writes_nothing(
    client: httpx.Client, server: Server, task: str, case: str
) -> None:
    """A clear 400 problem with the expected code; the store files are unchanged."""
    path, content, headers, code = CASES[case]
    before = _store_files(server)

    answer = client.post(path.format(task=task), content=content, headers=headers)

    body = problem_of(answer, 400, code)
    assert "Traceback" not in answer.text
    assert body["detail"]
    assert _store_files(server) == before
