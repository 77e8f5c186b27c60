"""The optional bearer token: when ``CLAIMS_API_TOKEN`` is set, every request needs it.

The token comes in ``Authorization: Bearer TOKEN`` or, for the browser's
``EventSource`` and the dashboard link, which cannot set headers, as the
``access_token`` query parameter (RFC 6750, section 2.3). It is compared in
constant time.
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import problem, problem_response

TOKEN_ENV = "CLAIMS_API_TOKEN"


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the presented token with the expected one."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def presented_token(scope: Scope) -> str | None:
    """The bearer token a request carries, in its header or its query string."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return credentials.strip()
    raw_query: bytes = scope.get("query_string", b"")
    query = raw_query.decode("latin-1")
    if "access_token" in query:
        values: list[str] = parse_qs(query).get("access_token", [])
        if values:
            return values[-1]
    return None


class BearerAuth:
    """ASGI middleware that answers 401 UNAUTHORIZED without the right token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or token_matches(presented_token(scope), self.token):
            await self.app(scope, receive, send)
            return
        body = problem(
            "UNAUTHORIZED",
            "Unauthorized",
            401,
            "this server needs a bearer token (Authorization: Bearer TOKEN)",
            instance=scope.get("path"),
        )
        response = problem_response(body, headers={"WWW-Authenticate": 'Bearer realm="claims"'})
        await response(scope, receive, send)
