"""Liveness, readiness and the error-code catalogue that problem ``type``s point at."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.models.responses import Alive, ErrorCode, ErrorCodes, Ready
from api.wire import Ledger, problems, send
from ledger.errors import all_error_classes

router = APIRouter(tags=["health"])

EXTRA_CODES = [
    {"code": "UNAUTHORIZED", "title": "Unauthorized", "httpStatus": 401, "exitCode": 1},
    {"code": "NOT_FOUND", "title": "Not found", "httpStatus": 404, "exitCode": 1},
    {"code": "METHOD_NOT_ALLOWED", "title": "Method not allowed", "httpStatus": 405, "exitCode": 1},
    {"code": "INTERNAL_ERROR", "title": "Internal error", "httpStatus": 500, "exitCode": 1},
]
"""Codes only the HTTP layer answers with (no exit code of their own)."""


@router.get("/healthz", response_model=Alive, responses=problems(), summary="The process is up")
async def healthz() -> Response:
    return send({"status": "ok"})


@router.get("/readyz", response_model=Ready, responses=problems(503), summary="The store answers")
async def readyz(ledger: Ledger) -> Response:
    """503 STORE_ERROR when the store cannot be read."""
    head = await ledger.read(ledger.service.store.head_position)
    return send({"status": "ready", "position": head, "store": ledger.service.store.url})


@router.get("/api/errors", response_model=ErrorCodes, responses=problems(), summary="Error codes")
async def error_codes() -> Response:
    """Every error code with its HTTP status and the CLI's exit code."""
    return send({"codes": _codes()})


@router.get(
    "/api/errors/{code}",
    response_model=ErrorCode,
    responses=problems(404),
    summary="One error code (a problem's ``type``)",
)
async def error_code(code: str) -> Response:
    for entry in _codes():
        if entry["code"] == code:
            return send(entry)
    raise HTTPException(404, f"no error code {code!r}")


def _codes() -> list[dict[str, Any]]:
    codes = [
        {
            "code": cls.code,
            "title": cls.title,
            "httpStatus": cls.http_status,
            "exitCode": cls.exit_code,
        }
        for cls in all_error_classes()
    ]
    return sorted(codes + EXTRA_CODES, key=lambda entry: str(entry["code"]))
