"""The error tree. Every error the ledger raises on purpose is a ``LedgerError``.

Each subclass has a stable ``code`` (seed 002's names where it has one), the HTTP
status the API answers with, and the exit code of the ``claims`` CLI. Errors carry
their context as keyword fields, which end up in the JSON error body::

    LedgerError
    ├── ClaimError                      rules of the claim lifecycle
    │   ├── TaskNotFound                TASK_NOT_FOUND        404  exit 4
    │   ├── SessionNotFound             SESSION_NOT_FOUND     404  exit 5
    │   ├── TaskAlreadyClaimed          TASK_ALREADY_CLAIMED  409  exit 3
    │   ├── TaskNotClaimed              TASK_NOT_CLAIMED      404  exit 6
    │   ├── TaskNotClaimable            TASK_NOT_CLAIMABLE    400  exit 7
    │   ├── NotClaimOwner               NOT_CLAIM_OWNER       403  exit 8
    │   ├── ClaimExpired                CLAIM_EXPIRED         410  exit 9
    │   ├── StaleFencingToken           STALE_FENCING_TOKEN   409  exit 10
    │   ├── TaskAlreadyExists           TASK_ALREADY_EXISTS   409  exit 11
    │   ├── NoTaskAvailable             NO_TASK_AVAILABLE     404  exit 12
    │   ├── TaskAlreadyActive           TASK_ALREADY_ACTIVE   409  exit 15
    │   ├── ClaimSuperseded             CLAIM_SUPERSEDED      409  exit 16
    │   └── TaskLockDelayed             TASK_LOCK_DELAYED     409  exit 17
    ├── InvalidInput                    VALIDATION_ERROR      400  exit 13
    │   └── InvalidTtl                  INVALID_TTL           400  exit 14
    └── StoreError                      STORE_ERROR           503  exit 20
        ├── ConcurrencyConflict         CONCURRENCY_CONFLICT  409  exit 21
        ├── DuplicateEventId            DUPLICATE_EVENT_ID    409  exit 22
        ├── CorruptLog                  LOG_CORRUPT           500  exit 23
        ├── InvalidStoreUrl             INVALID_STORE_URL     400  exit 24
        ├── StoreUnavailable            STORE_UNAVAILABLE     503  exit 25
        ├── StoreTimeout                STORE_TIMEOUT         503  exit 26
        └── ClockAhead                  CLOCK_AHEAD           409  exit 27
"""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    code: ClassVar[str] = "LEDGER_ERROR"
    title: ClassVar[str] = "Ledger error"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"

    def body(self) -> dict[str, Any]:
        """Seed 002's error body: ``{"success": false, "error": CODE, ...}``."""
        return {"success": False, "error": self.code, "message": self.detail, **self.context}


class ClaimError(LedgerError):
    """A rule of the claim lifecycle refused the command; the log is unchanged."""


class TaskNotFound(ClaimError):
    code = "TASK_NOT_FOUND"
    title = "Task not found"
    http_status = 404
    exit_code = 4


class SessionNotFound(ClaimError):
    code = "SESSION_NOT_FOUND"
    title = "Session not found"
    http_status = 404
    exit_code = 5


class TaskAlreadyClaimed(ClaimError):
    code = "TASK_ALREADY_CLAIMED"
    title = "Task already claimed"
    http_status = 409
    exit_code = 3


class TaskNotClaimed(ClaimError):
    code = "TASK_NOT_CLAIMED"
    title = "Task not claimed"
    http_status = 404
    exit_code = 6


class TaskNotClaimable(ClaimError):
    code = "TASK_NOT_CLAIMABLE"
    title = "Task not claimable"
    http_status = 400
    exit_code = 7


class NotClaimOwner(ClaimError):
    code = "NOT_CLAIM_OWNER"
    title = "Not the claim owner"
    http_status = 403
    exit_code = 8


class ClaimExpired(ClaimError):
    code = "CLAIM_EXPIRED"
    title = "Claim expired"
    http_status = 410
    exit_code = 9


class StaleFencingToken(ClaimError):
    code = "STALE_FENCING_TOKEN"
    title = "Stale fencing token"
    http_status = 409
    exit_code = 10


class TaskAlreadyExists(ClaimError):
    code = "TASK_ALREADY_EXISTS"
    title = "Task already exists"
    http_status = 409
    exit_code = 11


class NoTaskAvailable(ClaimError):
    code = "NO_TASK_AVAILABLE"
    title = "No claimable task"
    http_status = 404
    exit_code = 12


class TaskAlreadyActive(ClaimError):
    """Seed 000's ``task_already_active``: a proposal duplicates unfinished work."""

    code = "TASK_ALREADY_ACTIVE"
    title = "Task already active"
    http_status = 409
    exit_code = 15


class ClaimSuperseded(ClaimError):
    """``claims guard``: the claim this working tree recorded is no longer the task's
    current, unexpired claim with the same fencing token (expired, released, taken over)."""

    code = "CLAIM_SUPERSEDED"
    title = "Claim superseded"
    http_status = 409
    exit_code = 16


class TaskLockDelayed(ClaimError):
    """The task's last lease ended without a release (expiry, orphaning) less than the
    lock-delay ago: no claim succeeds before ``retryAfterMs`` (ADR 0017)."""

    code = "TASK_LOCK_DELAYED"
    title = "Task in its lock-delay"
    http_status = 409
    exit_code = 17


class InvalidInput(LedgerError):
    code = "VALIDATION_ERROR"
    title = "Invalid input"
    http_status = 400
    exit_code = 13


class InvalidTtl(InvalidInput):
    code = "INVALID_TTL"
    title = "TTL out of range"
    http_status = 400
    exit_code = 14


class StoreError(LedgerError):
    code = "STORE_ERROR"
    title = "Store error"
    http_status = 503
    exit_code = 20


class ConcurrencyConflict(StoreError):
    code = "CONCURRENCY_CONFLICT"
    title = "Stream moved"
    http_status = 409
    exit_code = 21


class DuplicateEventId(StoreError):
    code = "DUPLICATE_EVENT_ID"
    title = "Event id already used"
    http_status = 409
    exit_code = 22


class CorruptLog(StoreError):
    code = "LOG_CORRUPT"
    title = "Corrupt or tampered log"
    http_status = 500
    exit_code = 23


class InvalidStoreUrl(StoreError):
    code = "INVALID_STORE_URL"
    title = "Invalid store URL"
    http_status = 400
    exit_code = 24


class StoreUnavailable(StoreError):
    """The store's server cannot be reached or refused the connection (down,
    restarting, wrong address or credentials). An append that failed this way may
    be retried with the same event ids: a retry never stores it twice (S5)."""

    code = "STORE_UNAVAILABLE"
    title = "Store unavailable"
    http_status = 503
    exit_code = 25


class StoreTimeout(StoreError):
    """A statement ran past the store's statement timeout and was cancelled;
    nothing it was doing was stored."""

    code = "STORE_TIMEOUT"
    title = "Store timeout"
    http_status = 503
    exit_code = 26


class ClockAhead(StoreError):
    """A decision was made at a time in the database server's future: the writer's
    clock is ahead of the server's, and on PostgreSQL only the server's clock decides."""

    code = "CLOCK_AHEAD"
    title = "Decision time ahead of the server's clock"
    http_status = 409
    exit_code = 27


def all_error_classes() -> list[type[LedgerError]]:
    """Every error class with a code of its own (grouping classes left out), for
    meta-tests and docs."""
    found: list[type[LedgerError]] = []
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        cls = pending.pop(0)
        if "code" in cls.__dict__:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
