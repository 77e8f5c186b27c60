"""Liveness, readiness and the error-code catalogue that problem ``type``s point at."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.models.responses import Alive, ErrorCode, ErrorCodes, Ready
from api.wire import Ledger, answers, send
from ledger.errors import all_error_classes

router = APIRouter(tags=["health"])

EXTRA_CODES = [
    ErrorCode(code="UNAUTHORIZED", title="Unauthorized", http_status=401, exit_code=1),
    ErrorCode(code="NOT_FOUND", title="Not found", http_status=404, exit_code=1),
    ErrorCode(code="METHOD_NOT_ALLOWED", title="Method not allowed", http_status=405, exit_code=1),
    ErrorCode(code="INTERNAL_ERROR", title="Internal error", http_status=500, exit_code=1),
]
"""Codes only the HTTP layer answers with (no exit code of their own)."""


@router.get("/healthz", responses=answers(Alive), summary="The process is up")
async def healthz() -> Response:
    return send(Alive(status="ok"))


@router.get("/readyz", responses=answers(Ready, 503), summary="The store answers")
async def readyz(ledger: Ledger) -> Response:
    """503 STORE_ERROR when the store cannot be read."""
    head = await ledger.read(ledger.service.store.head_position)
    return send(Ready(status="ready", position=head, store=ledger.service.store.url))


@router.get("/api/errors", responses=answers(ErrorCodes), summary="Error codes")
async def error_codes() -> Response:
    """Every error code with its HTTP status and the CLI's exit code."""
    return send(ErrorCodes(codes=_codes()))


@router.get(
    "/api/errors/{code}",
    responses=answers(ErrorCode, 404),
    summary="One error code (a problem's ``type``)",
)
async def error_code(code: str) -> Response:
    for entry in _codes():
        if entry.code == code:
            return send(entry)
    raise HTTPException(404, f"no error code {code!r}")


def _codes() -> list[ErrorCode]:
    codes = [
        ErrorCode(
            code=cls.code, title=cls.title, http_status=cls.http_status, exit_code=cls.exit_code
        )
        for cls in all_error_classes()
    ]
    return sorted(codes + EXTRA_CODES, key=lambda entry: entry.code)
