"""Bodies only the HTTP API answers with: problems, liveness, readiness, error codes.

Every other body is described once in ``application.bodies`` and ``application.views``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from application.bodies import Body


class Problem(Body, kw_only=True):
    """Seed 002's error body and RFC 9457's members in one object."""

    success: Literal[False]
    error: Annotated[str, msgspec.Meta(examples=["TASK_ALREADY_CLAIMED"])]
    message: str
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


class ErrorCode(Body, kw_only=True):
    code: str
    title: str
    http_status: int
    exit_code: int


class ErrorCodes(Body, kw_only=True):
    codes: list[ErrorCode]


class Alive(Body, kw_only=True):
    status: Literal["ok"]


class Ready(Body, kw_only=True):
    status: Literal["ready"]
    position: int
    store: str
