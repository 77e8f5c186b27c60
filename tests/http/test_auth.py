"""CLAIMS_API_TOKEN: every request needs the bearer token."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route

from api.app import create_app
from api.auth import token_matches
from api.runtime import ServerOptions
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


def _routes(tmp_path: Path) -> list[tuple[str, str]]:
    """Every (method, path) of the app's route table, included routers flattened, with
    path parameters filled in."""
    app = create_app(ServerOptions(db=f"sqlite://{tmp_path / 'routes.db'}", sweep=False))

    def flat(routes: list[BaseRoute]) -> list[BaseRoute]:
        found: list[BaseRoute] = []
        for route in routes:
            inner = getattr(route, "original_router", None)
            found.extend(flat(inner.routes) if inner is not None else [route])
        return found

    table = [
        (method, re.sub(r"\{[^}]+\}", "x-1", route.path))
        for route in flat(app.routes)
        if isinstance(route, Route | APIRoute)
        for method in sorted(route.methods or ())
        if method != "HEAD"
    ]
    app.state.runtime.close()
    return table


def test_every_route_of_the_app_refuses_a_request_without_the_token(
    guarded: Server, tmp_path: Path
) -> None:
    """Walking the whole route table: no route answers without the token, or with a wrong
    one, and nothing is written."""
    routes = _routes(tmp_path)
    assert len(routes) >= 25
    head = guarded.head()
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            answer = httpx.request(method, guarded.url(path), headers=headers, json={})
            assert answer.status_code == 401, (method, path, headers, answer.text)
    assert guarded.head() == head


def test_the_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison goes through hmac.compare_digest, whatever the lengths."""
    calls: list[tuple[bytes, bytes]] = []

    def compare(given: bytes, expected: bytes) -> bool:
        calls.append((given, expected))
        return given == expected

    monkeypatch.setattr(hmac, "compare_digest", compare)
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches("short", TOKEN)
    assert calls == [(TOKEN.encode(), TOKEN.encode()), (b"short", TOKEN.encode())]
