"""Claim, heartbeat, release and takeover answered in front of the app's middleware.

These four POSTs are most of what agents send. FastAPI would pass them through its
middleware stack (the server-error, exception, telemetry and body-limit layers, each
wrapping ``send``), match the route, run its dependencies, parse the body with
``json.loads`` and validate it with pydantic before the route's ``answer_*`` function
runs; here the body is decoded and checked in one step by a msgspec Struct
(``api.models.leases``) and the same ``answer_*`` function answers, so the bytes sent
are the ones the route would send.

``HotPath`` is the outermost ASGI app (``api.app.LedgerApp`` calls it first). It keeps
the checks of the layers it skips: a request without the right bearer token, a
declared ``Content-Length`` over the body limit and a body that passes the limit as it
arrives are handed to the app, whose ``BearerAuth`` and ``BodyLimit`` answer them (the
latter at the same message). An unexpected error is answered as the app's
server-error layer would (the 500 problem) and raised on to the server.

Anything else this path does not take on goes to the app unchanged, with the body it
has read handed on message by message: another method or path, a route declared
earlier that matches the path as well, a body that is not ``application/json`` or that
the Struct refuses (the route's pydantic model then answers the 400
VALIDATION_ERROR), and a client that went away.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import presented_token, token_matches
from api.limits import MAX_BODY_BYTES, content_length
from api.models.leases import ClaimStruct, HeartbeatStruct, ReleaseStruct, TakeoverStruct
from api.problems import ledger_problem, on_unexpected, problem_response
from api.routes import claims
from api.runtime import Runtime
from ledger.errors import LedgerError

Answer = Callable[[Runtime, str, Any], Awaitable[Response]]


@dataclass(frozen=True)
class Lane:
    """One of the four routes: its decoder, its answer, and the routes declared
    before it that would win a POST to the same path."""

    route: BaseRoute
    decoder: msgspec.json.Decoder[Any]
    answer: Answer
    earlier: Sequence[BaseRoute]
    ending: str
    """How every path of the route ends (``/claim``): which lane a path can be for."""


LANES: dict[Callable[..., Any], tuple[type[msgspec.Struct], Answer, str]] = {
    claims.claim: (ClaimStruct, claims.answer_claim, "/claim"),
    claims.heartbeat: (HeartbeatStruct, claims.answer_heartbeat, "/heartbeat"),
    claims.release: (ReleaseStruct, claims.answer_release, "/release"),
    claims.takeover: (TakeoverStruct, claims.answer_takeover, "/takeover"),
}


def lanes(routes: Sequence[BaseRoute]) -> list[Lane]:
    """The four routes in the router's order, each with the earlier routes that could
    take a POST to one of its paths."""
    found: list[Lane] = []
    for index, route in enumerate(routes):
        lane = _lane_of(route)
        if lane is not None:
            struct, answer, ending = lane
            earlier = [r for r in routes[:index] if _takes_post(r) and _may_end(r, ending)]
            found.append(Lane(route, msgspec.json.Decoder(struct), answer, earlier, ending))
    return found


def _lane_of(route: BaseRoute) -> tuple[type[msgspec.Struct], Answer, str] | None:
    return LANES.get(route.endpoint) if isinstance(route, Route) else None


def _may_end(route: BaseRoute, ending: str) -> bool:
    """False for a route that matches no path ending in ``ending``: another lane's
    (its pattern ends in its own ending), or a fixed path that ends otherwise."""
    other = _lane_of(route)
    if other is not None:
        return other[2] == ending
    if isinstance(route, Route) and not route.param_convertors:
        return route.path.endswith(ending)
    return True


def _takes_post(route: BaseRoute) -> bool:
    if isinstance(route, WebSocketRoute):
        return False
    if isinstance(route, Route):
        return route.methods is None or "POST" in route.methods
    return True


class HotPath:
    """The ASGI app in front: the four lease POSTs with msgspec bodies, the rest to
    ``app`` (the FastAPI app's own middleware stack and router).

    ``routes`` are the app's routes in the order its router tries them, flat (the
    routes of each included router in its place); ``token`` is the bearer token the
    server needs (``None``: none), ``limit`` the body limit of its ``BodyLimit``."""

    def __init__(
        self,
        app: ASGIApp,
        api: FastAPI,
        routes: Sequence[BaseRoute],
        *,
        token: str | None = None,
        limit: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.api = api
        self.token = token
        self.limit = limit
        self._by_ending = {lane.ending: lane for lane in lanes(routes)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        found = self._match(scope)
        if found is None or not _json(scope) or not self._admitted(scope):
            await self.app(scope, receive, send)
            return
        lane, task_id = found
        messages: list[Message] = []
        try:
            read = await _read(receive, messages, self.limit)
        except Exception as error:
            await self.app(scope, _replay(messages, receive, error), send)
            return
        body = _decoded(lane, messages) if read is _Read.WHOLE else None
        if body is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        runtime: Runtime = self.api.state.runtime
        try:
            response = await lane.answer(runtime, task_id, body)
        except LedgerError as error:
            response = problem_response(ledger_problem(error, Request(scope).url.path))
        except Exception as error:
            await (await on_unexpected(Request(scope), error))(scope, receive, send)
            raise
        await response(scope, receive, send)

    def _admitted(self, scope: Scope) -> bool:
        """Whether the layers this path skips would let the request through: the bearer
        token (when the server needs one) and a declared length within the limit."""
        if self.token is not None and not token_matches(presented_token(scope), self.token):
            return False
        declared = content_length(scope)
        return declared is None or declared <= self.limit

    def _match(self, scope: Scope) -> tuple[Lane, str] | None:
        """The lane whose route the router would choose for this POST, and its task id."""
        path: str = scope["path"]
        lane = self._by_ending.get(path[path.rfind("/") :])
        if lane is None:
            return None
        match, child = lane.route.matches(scope)
        if match is not Match.FULL:
            return None
        if any(route.matches(scope)[0] is Match.FULL for route in lane.earlier):
            return None
        return lane, child["path_params"]["taskId"]


def _json(scope: Scope) -> bool:
    """Whether the body is declared ``application/json`` (FastAPI parses no other
    body as JSON, and refuses a body with no content type)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            kind: bytes = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json"
    return False


class _Read(enum.Enum):
    """How reading a body ended."""

    WHOLE = "whole"
    GONE = "gone"
    """The client went away first."""
    OVER = "over"
    """The body passed the limit (the app's ``BodyLimit`` refuses it at that message)."""


async def _read(receive: Receive, messages: list[Message], limit: int) -> _Read:
    """Receive the body into ``messages`` until it is whole, the client goes away, or
    it passes ``limit`` bytes."""
    received = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return _Read.GONE
        received += len(message.get("body", b""))
        if received > limit:
            return _Read.OVER
        if not message.get("more_body", False):
            return _Read.WHOLE


def _decoded(lane: Lane, messages: list[Message]) -> msgspec.Struct | None:
    """The body as the lane's Struct, or None when the Struct refuses it."""
    body = b"".join(message.get("body", b"") for message in messages)
    try:
        decoded: msgspec.Struct = lane.decoder.decode(body)
    except Exception:
        return None
    return decoded


def _replay(messages: list[Message], receive: Receive, error: Exception | None = None) -> Receive:
    """``receive`` for the app: the messages already read, then the error reading
    stopped at (if any), then the client's own ``receive``."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        if error is not None:
            raise error
        return await receive()

    return replay
