"""JSON answers: bodies encoded once with msgspec, and described by the same classes.

A route names the body it answers with (``answers(ClaimResponse, 404, 409)``); the
OpenAPI document takes that class's schema from msgspec (``api.openapi``), so the
answer, the CLI's ``--json`` and the document cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import Depends, Request
from starlette.responses import Response

from api.runtime import Runtime

_encoder = msgspec.json.Encoder()


REF_TEMPLATE = "#/components/schemas/{name}"
DOCUMENTED: set[type[msgspec.Struct]] = set()
"""Every body class a route answers with; ``api.openapi`` publishes their schemas."""


def send(body: msgspec.Struct | dict[str, Any], status: int = 200) -> Response:
    """A JSON response of ``body`` as ``application.bodies`` built it."""
    return Response(
        content=_encoder.encode(body), status_code=status, media_type="application/json"
    )


async def _runtime(request: Request) -> Runtime:
    """Async, so FastAPI does not hop to a thread pool to call it."""
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


Ledger = Annotated[Runtime, Depends(_runtime)]
"""The server's runtime, as a route parameter."""


def answers(
    body: type[msgspec.Struct], *errors: int, status: int = 200, description: str = "OK"
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of an operation answering ``body`` (and its errors)."""
    DOCUMENTED.add(body)
    schema = {"$ref": REF_TEMPLATE.format(name=body.__name__)}
    return {
        status: {"description": description, "content": {"application/json": {"schema": schema}}},
        **problems(*errors),
    }


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry for the error statuses an operation can answer
    (``api.openapi`` gives each the problem schema)."""
    return {
        status: {"description": _DESCRIPTIONS.get(status, "Error")}
        for status in sorted({*statuses, 400, 500})
    }


_DESCRIPTIONS = {
    400: "Invalid input (VALIDATION_ERROR, INVALID_TTL) or TASK_NOT_CLAIMABLE",
    401: "A bearer token is required (UNAUTHORIZED)",
    403: "NOT_CLAIM_OWNER",
    404: "TASK_NOT_FOUND, SESSION_NOT_FOUND, TASK_NOT_CLAIMED or NO_TASK_AVAILABLE",
    409: "TASK_ALREADY_CLAIMED (with the holder), TASK_ALREADY_EXISTS or STALE_FENCING_TOKEN",
    410: "CLAIM_EXPIRED",
    500: "Unexpected error, or LOG_CORRUPT",
    503: "The store is unavailable (STORE_ERROR)",
}
