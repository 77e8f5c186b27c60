"""The hot path answers claim, heartbeat, release and takeover with the route's bytes.

Two apps over two fresh memory stores with the same frozen clock get the same
requests: one as ``claims serve`` builds it, one without ``api.hot_path`` in front
(FastAPI's middleware stack and router alone). Every
answer (status, headers, body) must be the same bytes, errors included; and the
ASGI edge cases (a body in several messages, a client gone mid-body, a body over
the limit sent without a length) end as they do on the route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any, cast

import msgspec
import pytest
from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from api.app import LedgerApp, create_app
from api.hot_path import lanes
from api.limits import BodyLimit
from api.routes import claims
from api.runtime import Runtime, ServerOptions
from application.bootstrap import wire
from ledger.clock import FrozenClock
from ledger.config import ClaimConfig
from ledger.store.memory import MemoryStore

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
ROUTED: list[bool] = []
"""Per call of ``_call``: whether the router took the request (it names the endpoint)."""


class SmallLimit(BodyLimit):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, limit=64)


def _app(*, hot: bool, token: str | None = None) -> LedgerApp:
    clock = FrozenClock()
    ledger = wire(MemoryStore(clock=clock), clock=clock, config=ClaimConfig(), host="test-host")
    options = ServerOptions(db="memory://", sweep=False, token=token)
    app = create_app(options, Runtime(ledger, options))
    if not hot:
        app.front = None
    return app


def _swap(app: LedgerApp, kind: type, by: Middleware) -> None:
    """Replace one middleware of an app that has not answered yet."""
    app.user_middleware = [
        by if cast(object, middleware.cls) is kind else middleware
        for middleware in app.user_middleware
    ]


def _small_limit(apps: tuple[LedgerApp, LedgerApp]) -> None:
    """Both apps, and the hot path in front of one, hold bodies to 64 bytes (before
    either has answered)."""
    for app in apps:
        _swap(app, BodyLimit, Middleware(SmallLimit))
        if app.front is not None:
            app.front.limit = 64


@pytest.fixture
def apps() -> Iterator[tuple[LedgerApp, LedgerApp]]:
    pair = (_app(hot=True), _app(hot=False))
    yield pair
    for app in pair:
        app.state.runtime.close()


async def _call(
    app: FastAPI,
    path: str,
    chunks: list[bytes],
    *,
    content_type: bytes | None = b"application/json",
    then: Message | None = None,
    extra: Sequence[tuple[bytes, bytes]] = (),
    sent: list[Answer] | None = None,
) -> Answer:
    """One POST through the whole ASGI stack, the body sent as ``chunks``; the answer
    is also added to ``sent`` (when given) even if the app raises after sending it."""
    headers = [(b"host", b"test"), *extra]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    inbox: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    if then is not None:
        inbox[-1]["more_body"] = True
        inbox.append(then)
    messages: list[Message] = []

    async def receive() -> Message:
        if inbox:
            return inbox.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        messages.append(message)

    try:
        await app(scope, receive, send)
    finally:
        ROUTED.append("endpoint" in scope)
        if sent is not None:
            sent.append(_answer(messages))
    return _answer(messages)


def _answer(messages: list[Message]) -> Answer:
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return int(start["status"]), list(start["headers"]), body


def _both(apps: tuple[LedgerApp, LedgerApp], path: str, chunks: list[bytes], **kw: Any) -> Answer:
    """The answer of the hot app, after checking the plain app answers the same bytes."""
    hot, plain = apps

    async def run() -> tuple[Answer, Answer]:
        return await _call(hot, path, chunks, **kw), await _call(plain, path, chunks, **kw)

    fast, slow = asyncio.run(run())
    assert fast == slow
    return fast


def _json(value: Any) -> list[bytes]:
    return [msgspec.json.encode(value)]


def _register(apps: tuple[LedgerApp, LedgerApp], task: str) -> None:
    status, _, body = _both(apps, "/api/tasks", _json({"taskId": task, "title": task}))
    assert status == 201, body


def test_a_claims_life_is_answered_with_the_routes_bytes(apps: tuple[LedgerApp, LedgerApp]) -> None:
    """Claim, re-claim, heartbeat, release, claim by another, forced takeover, and
    their refusals: the same status, headers and body bytes on both paths."""
    _register(apps, "t1")
    steps: list[tuple[str, Any, int]] = [
        ("/api/tasks/t1/claim", {"sessionId": "a", "ttlMs": 60000.0, "metadata": {"n": 1}}, 200),
        ("/api/tasks/t1/claim", {"sessionId": "b"}, 409),
        ("/api/tasks/t1/claim", {"sessionId": "a", "requestId": "r1", "scope": ["x"]}, 200),
        ("/api/tasks/t1/claim/heartbeat", {"sessionId": "a", "extendMs": 90000}, 200),
        ("/api/tasks/t1/claim/heartbeat", {"sessionId": "b"}, 404),
        ("/api/tasks/t1/release", {"sessionId": "a", "fencingToken": 999}, 409),
        ("/api/tasks/t1/release", {"sessionId": "a", "reason": "paused"}, 200),
        ("/api/tasks/t1/release", {"sessionId": "a"}, 404),
        ("/api/tasks/t1/claim", {"sessionId": "b", "ttlMs": 120000}, 200),
        ("/api/tasks/t1/takeover", {"sessionId": "c"}, 409),
        ("/api/tasks/t1/takeover", {"sessionId": "c", "force": True}, 400),
        ("/api/tasks/t1/takeover", {"sessionId": "c", "force": True, "reason": "stuck"}, 200),
        ("/api/tasks/nope/claim", {"sessionId": "a"}, 404),
        ("/api/tasks/t1/claim", {"sessionId": "a", "ttlMs": 5}, 400),
        ("/api/tasks/bad%20id/claim", {"sessionId": "a"}, 400),
    ]
    for path, body, status in steps:
        answer = _both(apps, path, _json(body))
        assert answer[0] == status, (path, body, answer)


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        ([b"{not json"], 400),
        ([b""], 400),
        ([b"[]"], 400),
        ([b'{"sessionId": "a", "ttl": 60000}'], 400),
        ([b'{"sessionId": "a", "ttlMs": "30m"}'], 400),
        ([b'{"sessionId": "a", "ttlMs": 1.5}'], 400),
        ([b'{"sessionId": "a", "ttlMs": true}'], 400),
        ([b'{"sessionId": "a", "metadata": []}'], 400),
        ([b'{"sessionId": "a\\n"}'], 400),
        ([b'{"sessionId": "a", "metadata": {"x": NaN}}'], 200),
        ([b"\xef\xbb\xbf" + b'{"sessionId": "b"}'], 200),
    ],
)
def test_bodies_the_struct_refuses_get_the_routes_answer(
    apps: tuple[LedgerApp, LedgerApp], chunks: list[bytes], status: int
) -> None:
    """What the Struct refuses goes to the route: its 400, or its claim where
    ``json.loads`` reads more than msgspec does (NaN, a byte order mark)."""
    _register(apps, "t2")
    assert _both(apps, "/api/tasks/t2/claim", chunks)[0] == status


def test_the_hot_app_answers_leases_without_the_router(apps: tuple[LedgerApp, LedgerApp]) -> None:
    _register(apps, "t9")
    hot, plain = apps
    body = _json({"sessionId": "a"})
    ROUTED.clear()
    for route in ("claim", "claim/heartbeat", "release", "takeover"):
        asyncio.run(_call(hot, f"/api/tasks/t9/{route}", body))
    asyncio.run(_call(hot, "/api/tasks/t9/claim", [b"{}"]))
    asyncio.run(_call(plain, "/api/tasks/t9/claim", body))
    assert ROUTED == [False, False, False, False, True, True]


def test_a_body_in_several_messages_is_read_whole(apps: tuple[LedgerApp, LedgerApp]) -> None:
    _register(apps, "t3")
    chunks = [b'{"sessionId"', b': "a", "ttl', b'Ms": 60000}']
    assert _both(apps, "/api/tasks/t3/claim", chunks)[0] == 200


@pytest.mark.parametrize(
    "content_type", [None, b"text/plain", b"application/x-www-form-urlencoded"]
)
def test_a_body_not_declared_json_goes_to_the_route(
    apps: tuple[LedgerApp, LedgerApp], content_type: bytes | None
) -> None:
    _register(apps, "t4")
    answer = _both(
        apps, "/api/tasks/t4/claim", _json({"sessionId": "a"}), content_type=content_type
    )
    assert answer[0] == 400


def test_a_json_content_type_with_parameters_is_json(apps: tuple[LedgerApp, LedgerApp]) -> None:
    _register(apps, "t5")
    ctype = b"Application/JSON; charset=utf-8"
    answer = _both(apps, "/api/tasks/t5/claim", _json({"sessionId": "a"}), content_type=ctype)
    assert answer[0] == 200


def test_other_routes_and_methods_are_left_to_the_router(apps: tuple[LedgerApp, LedgerApp]) -> None:
    """claim-next and a path that only ends like a lease route are the router's."""
    _register(apps, "t6")
    assert _both(apps, "/api/tasks/claim-next", _json({"sessionId": "n"}))[0] == 200
    assert _both(apps, "/api/sessions/s/claim", _json({"sessionId": "a"}))[0] == 404


def test_a_client_gone_mid_body_ends_as_on_the_route(apps: tuple[LedgerApp, LedgerApp]) -> None:
    """The route sees the same disconnect after the same bytes."""
    _register(apps, "t7")
    hot, plain = apps
    gone: Message = {"type": "http.disconnect"}

    async def run() -> list[BaseException | Answer]:
        return list(
            await asyncio.gather(
                _call(hot, "/api/tasks/t7/claim", [b'{"sessionId"'], then=gone),
                _call(plain, "/api/tasks/t7/claim", [b'{"sessionId"'], then=gone),
                return_exceptions=True,
            )
        )

    fast, slow = asyncio.run(run())
    assert repr(fast) == repr(slow)


def test_a_body_over_the_limit_without_a_length_is_413(apps: tuple[LedgerApp, LedgerApp]) -> None:
    """The body limit raises from ``receive`` inside the hot path; the route's 413 answers."""
    _small_limit(apps)
    _register(apps, "t8")
    chunks = [b'{"sessionId": "a", "metadata": {"note": "', b"x" * 100, b'"}}']
    status, _, body = _both(apps, "/api/tasks/t8/claim", chunks)
    assert status == 413
    assert msgspec.json.decode(body)["error"] == "PAYLOAD_TOO_LARGE"


def test_routes_declared_earlier_that_could_take_the_path_are_kept() -> None:
    """A POST route before a lane's that could match one of its paths is checked on
    every request (the router would choose it); routes that cannot are not."""

    async def other() -> None:
        return None

    def route(path: str, methods: list[str]) -> Route:
        return Route(path, other, methods=methods)

    earlier = [
        route("/api/tasks/fixed/claim", ["POST"]),
        route("/api/tasks/claim-next", ["POST"]),
        route("/api/{rest:path}", ["GET"]),
        route("/api/{rest:path}", ["POST"]),
    ]
    claim_route = next(
        r for r in claims.router.routes if getattr(r, "endpoint", None) is claims.claim
    )
    (lane,) = lanes([*earlier, claim_route])
    assert lane.ending == "/claim"
    assert lane.earlier == [earlier[0], earlier[3]]


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ((), 401),
        (((b"authorization", b"Bearer wrong"),), 401),
        (((b"authorization", b"Bearer sesame"),), 200),
    ],
)
def test_the_token_check_is_kept_in_front(
    extra: tuple[tuple[bytes, bytes], ...], status: int
) -> None:
    """Without the right token the request goes to the app, whose token check answers
    the 401 (the hot path answers no 401 of its own); with it the hot path answers."""
    pair = (_app(hot=True, token="sesame"), _app(hot=False, token="sesame"))
    try:
        key = ((b"authorization", b"Bearer sesame"),)
        _both(pair, "/api/tasks", _json({"taskId": "t10", "title": "t"}), extra=key)
        ROUTED.clear()
        answer = _both(pair, "/api/tasks/t10/claim", _json({"sessionId": "a"}), extra=extra)
        assert answer[0] == status
        assert ROUTED[0] is False
    finally:
        for app in pair:
            app.state.runtime.close()


def test_a_declared_length_over_the_limit_is_the_apps_413(
    apps: tuple[LedgerApp, LedgerApp],
) -> None:
    _small_limit(apps)
    _register(apps, "t11")
    body = _json({"sessionId": "a", "metadata": {"note": "x" * 100}})
    length = ((b"content-length", str(len(body[0])).encode()),)
    status, _, answer = _both(apps, "/api/tasks/t11/claim", body, extra=length)
    assert status == 413
    assert msgspec.json.decode(answer)["error"] == "PAYLOAD_TOO_LARGE"


def test_an_unexpected_error_is_the_apps_500_and_is_raised(
    apps: tuple[LedgerApp, LedgerApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server-error layer the hot path skips: the same 500 problem, and the error
    raised on to the server (which logs it)."""
    _register(apps, "t12")

    async def broken(*_: object) -> Any:
        raise RuntimeError("disk on fire")

    hot, plain = apps
    assert hot.front is not None
    for lane in hot.front._by_ending.values():
        object.__setattr__(lane, "answer", broken)
    monkeypatch.setattr(claims, "answer_claim", broken)
    answers: list[Answer] = []
    for app in (hot, plain):
        with pytest.raises(RuntimeError, match="disk on fire"):
            asyncio.run(_call(app, "/api/tasks/t12/claim", _json({"sessionId": "a"}), sent=answers))
    fast, slow = answers
    assert fast == slow
    assert fast[0] == 500
    assert msgspec.json.decode(fast[2])["error"] == "INTERNAL_ERROR"
