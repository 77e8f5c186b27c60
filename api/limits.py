"""A request body is refused once it passes the limit, before it is read whole.

A declared ``Content-Length`` over the limit is answered 413 at once, without
reading a byte of the body. A body sent without a length (chunked) is counted as
it arrives, and refused the moment the count passes the limit, so no request can
make the server hold more than the limit of it.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem, problem_response

MAX_BODY_BYTES = 16 << 20
"""The largest request body (a tasks.json import, the largest body the API takes)."""


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit; handled as 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware holding every request body to ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > self.limit:
            body = problem(
                "PAYLOAD_TOO_LARGE",
                "Payload too large",
                413,
                f"the request body ({declared} bytes) is larger than {self.limit} bytes",
                instance=scope.get("path"),
            )
            await problem_response(body, headers={"Connection": "close"})(scope, receive, send)
            return
        await self.app(scope, _counted(receive, self.limit), send)


def _counted(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return counted


def content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
