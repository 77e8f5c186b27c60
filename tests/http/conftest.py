"""Fixtures: one real server process for the module, clients, fresh ids, problem checks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.http.browser import browser
from tests.http.server import Server, start_server

__all__ = ["browser", "problem_of"]

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``claims serve`` on a fresh SQLite store and a free loopback port."""
    started = start_server(tmp_path_factory.mktemp("server"))
    yield started
    started.stop()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    """An HTTP client of that server."""
    with server.client() as opened:
        yield opened


@pytest.fixture
def fresh() -> Callable[[str], str]:
    """Unique ids, so tests sharing one server never meet."""
    return lambda prefix: f"{prefix}-{next(_ids)}"


@pytest.fixture
def task(client: httpx.Client, fresh: Callable[[str], str]) -> str:
    """A registered, unclaimed task."""
    task_id = fresh("task")
    answer = client.post("/api/tasks", json={"taskId": task_id, "title": f"Title of {task_id}"})
    assert answer.status_code == 201, answer.text
    return task_id


@pytest.fixture
def session(client: httpx.Client, fresh: Callable[[str], str]) -> str:
    """A started session."""
    session_id = fresh("session")
    answer = client.post("/api/sessions", json={"sessionId": session_id})
    assert answer.status_code == 200, answer.text
    return session_id


def problem_of(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer's body, after checking it is a problem with seed 002's shape."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["success"] is False
    assert body["error"] == code
    assert body["status"] == status
    assert body["type"] == f"/api/errors/{code}"
    assert body["title"]
    assert body["detail"]
    return body
