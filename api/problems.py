"""Errors as ``application/problem+json`` (RFC 9457) that keep seed 002's body.

Every error answer is one JSON object with seed 002's members (``success``,
``error``, the error's context such as ``claim`` for TASK_ALREADY_CLAIMED) and the
standard problem members ``type``, ``title``, ``status``, ``detail`` and
``instance``. ``type`` points at ``/api/errors/CODE``, which describes the code.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ledger.errors import LedgerError

PROBLEM_JSON = "application/problem+json"
RESERVED = ("type", "title", "status", "detail", "instance")
"""Problem members; a ledger error's context never uses these names (the CLI's bodies
must equal the API's), and any that did would be prefixed with ``error``."""

_encoder = msgspec.json.Encoder()


def problem_type(code: str) -> str:
    return f"/api/errors/{code}"


def problem(
    code: str,
    title: str,
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Seed 002's error body with the problem members added."""
    body: dict[str, Any] = {"success": False, "error": code, "message": detail}
    for key, value in (context or {}).items():
        if key in RESERVED:
            key = f"error{key[:1].upper()}{key[1:]}"
        body[key] = value
    body.update(type=problem_type(code), title=title, status=status, detail=detail)
    if instance is not None:
        body["instance"] = instance
    return body


def problem_response(body: dict[str, Any], *, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=_encoder.encode(body),
        status_code=int(body["status"]),
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def ledger_problem(error: LedgerError, instance: str | None = None) -> dict[str, Any]:
    context = {k: v for k, v in error.body().items() if k not in ("success", "error", "message")}
    return problem(
        error.code,
        error.title,
        error.http_status,
        error.detail,
        instance=instance,
        context=context,
    )


# --- handlers --------------------------------------------------------------------

HTTP_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    413: ("PAYLOAD_TOO_LARGE", "Payload too large"),
}


async def on_ledger_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LedgerError)
    return problem_response(ledger_problem(exc, request.url.path))


async def on_validation_error(request: Request, exc: Exception) -> Response:
    """Bad JSON, wrong types, missing or unknown fields: 400 VALIDATION_ERROR."""
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(error) for error in exc.errors()]
    detail = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
    )
    body = problem(
        "VALIDATION_ERROR",
        "Invalid input",
        400,
        detail or "invalid request",
        instance=request.url.path,
        context={"errors": errors},
    )
    return problem_response(body)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes, wrong methods and the like, as problems too."""
    assert isinstance(exc, HTTPException)
    code, title = HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route for {request.method} {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    body = problem(code, title, exc.status_code, detail, instance=request.url.path)
    return problem_response(body, headers=dict(exc.headers or {}))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """The unexpected: a 500 problem that names no internals."""
    body = problem(
        "INTERNAL_ERROR",
        "Internal error",
        500,
        f"unexpected {type(exc).__name__}; see the server log",
        instance=request.url.path,
    )
    return problem_response(body)


def install(app: FastAPI) -> None:
    """Route every error the app can raise through a problem handler."""
    app.add_exception_handler(LedgerError, on_ledger_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


def _field_error(error: Any) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
    kind = str(error.get("type", ""))
    message = str(error.get("msg", "invalid"))
    if kind == "json_invalid":
        return {"field": "", "message": "the body is not valid JSON", "kind": kind}
    return {"field": ".".join(location), "message": message, "kind": kind}
