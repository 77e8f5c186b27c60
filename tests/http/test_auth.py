"""CLAIMS_API_TOKEN: every request needs the bearer token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.http.conftest import problem_of
from tests.http.server import Server, start_server

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server started with CLAIMS_API_TOKEN set."""
    started = start_server(
        tmp_path_factory.mktemp("guarded"),
        env={"CLAIMS_API_TOKEN": TOKEN},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    yield started
    started.stop()


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/tasks", "/openapi.json", "/api/events"])
def test_request_without_token_is_401(guarded: Server, path: str) -> None:
    """Without a token, every path answers 401 UNAUTHORIZED with a Bearer challenge."""
    answer = httpx.get(guarded.url(path))
    problem_of(answer, 401, "UNAUTHORIZED")
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_wrong_token_is_401(guarded: Server) -> None:
    """A wrong bearer token is 401 and writes nothing."""
    head = guarded.head()
    answer = httpx.post(
        guarded.url("/api/tasks"),
        json={"taskId": "t-1", "title": "T"},
        headers={"Authorization": "Bearer s3cret-tokeN"},
    )
    problem_of(answer, 401, "UNAUTHORIZED")
    assert guarded.head() == head


def test_right_token_is_served(guarded: Server) -> None:
    """The right bearer token is served."""
    answer = httpx.get(guarded.url("/api/tasks"), headers=guarded.headers)
    assert answer.status_code == 200


def test_query_token_is_served(guarded: Server) -> None:
    """The token as access_token in the query (for EventSource and the page) is served."""
    answer = httpx.get(guarded.url("/api/board"), params={"access_token": TOKEN})
    assert answer.status_code == 200


def test_default_bind_is_loopback(guarded: Server) -> None:
    """The server listens on 127.0.0.1 when no host is given."""
    assert f"on http://127.0.0.1:{guarded.port}/" in guarded.log.read_text()
