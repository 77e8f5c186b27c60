"""Regression tests of issue 13's hostile-input findings on a real server: reserved
task ids, wrong methods, oversized bodies, SSE past the head, nesting, the ROI range
and the token in the access log."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.conftest import problem_of
from tests.http.server import Server, start_server
from tests.http.sse import open_stream

TOKEN = "query-token-never-logged"


@pytest.mark.parametrize("task_id", ["in-flight", "claims/stats", "claim-next", "a/claim"])
def test_a_task_id_that_is_a_route_is_refused(client: httpx.Client, task_id: str) -> None:
    """Registering a task under a fixed route's name is VALIDATION_ERROR."""
    answer = client.post("/api/tasks", json={"taskId": task_id, "title": "T"})
    assert "reserved" in problem_of(answer, 400, "VALIDATION_ERROR")["detail"]


def test_in_flight_still_answers_the_list(client: httpx.Client) -> None:
    """`GET /api/tasks/in-flight` is the in-flight list, as no task can take that name."""
    answer = client.get("/api/tasks/in-flight")
    assert answer.status_code == 200
    assert "inFlight" in answer.json()


@pytest.mark.parametrize("path", ["/api/tasks/{task}/claim", "/api/tasks/claim-next"])
def test_a_wrong_method_on_a_route_is_405(client: httpx.Client, task: str, path: str) -> None:
    """GET on a POST-only route is 405 METHOD_NOT_ALLOWED with Allow: POST."""
    answer = client.get(path.format(task=task))
    problem_of(answer, 405, "METHOD_NOT_ALLOWED")
    assert answer.headers["allow"] == "POST"


def test_a_declared_oversize_body_is_refused_before_it_is_sent(server: Server) -> None:
    """A Content-Length of 200 MB is answered 413 after the headers, with no body read."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(
            b"POST /api/tasks/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 209715200\r\n\r\n["
        )
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"413"


def test_a_streamed_oversize_body_is_refused(client: httpx.Client) -> None:
    """A chunked body with no length is refused with 413 once it passes the limit."""

    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(40):
            yield b" " * (1 << 20)

    answer = client.post(
        "/api/tasks/import", content=chunks(), headers={"Content-Type": "application/json"}
    )
    problem_of(answer, 413, "PAYLOAD_TOO_LARGE")


def test_deeply_nested_tasks_json_is_a_validation_error(client: httpx.Client) -> None:
    """A tasks.json nested 100,000 deep is VALIDATION_ERROR, not a crash."""
    body = b"[" * 100_000 + b"]" * 100_000
    answer = client.post(
        "/api/tasks/import", content=body, headers={"Content-Type": "application/json"}
    )
    problem_of(answer, 400, "VALIDATION_ERROR")


def test_an_roi_out_of_range_in_tasks_json_is_refused(client: httpx.Client) -> None:
    """tasks.json takes the ROI range the register endpoint takes."""
    body = json.dumps([{"id": "roi-big", "title": "T", "roi": 1e13}]).encode()
    answer = client.post(
        "/api/tasks/import", content=body, headers={"Content-Type": "application/json"}
    )
    assert "roi" in problem_of(answer, 400, "VALIDATION_ERROR")["detail"]


def test_sse_after_beyond_the_head_waits_for_the_next_event(
    client: httpx.Client, server: Server
) -> None:
    """`?after=` far past the head streams the next event written, whatever its position."""
    beyond = server.head() + 1_000
    with open_stream(server.base_url, after=beyond) as stream:
        created = client.post("/api/tasks", json={"taskId": "after-head", "title": "T"})
        assert created.status_code == 201
        message = stream.next()
    assert message.data["data"]["taskId"] == "after-head"
    assert message.id < beyond


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A server with a token and the access log on; its log file."""
    started = start_server(
        tmp_path_factory.mktemp("logged"),
        env={"CLAIMS_API_TOKEN": TOKEN},
        args=("--access-log",),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    yield started, started.log
    started.stop()


def test_a_token_in_the_query_never_reaches_the_access_log(logged: tuple[Server, Path]) -> None:
    """`?access_token=` is logged as ***, never as the token."""
    server, log = logged
    assert httpx.get(server.url("/api/board"), params={"access_token": TOKEN}).status_code == 200
    server.stop()
    text = log.read_text()
    assert "access_token=***" in text
    assert TOKEN not in text
