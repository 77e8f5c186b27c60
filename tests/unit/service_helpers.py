"""A service over a memory store, and a check that a refused command wrote nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from application.results import ClaimResult
from application.service import ClaimService
from application.testing import FrozenClock, memory_service
from ledger.commands import Claim, RegisterTask
from ledger.errors import LedgerError
from ledger.events import TaskStatus
from ledger.terms import LeaseTerms
from tests.conftest import START

MINUTE = 60_000


def new_service() -> tuple[ClaimService, FrozenClock]:
    """A fresh service over a memory store, its clock at ``START``."""
    return memory_service(start=START)


def register(
    service: ClaimService,
    task_id: str,
    *,
    roi: float = 0.0,
    priority: str = "medium",
    fingerprint: str | None = None,
    status: TaskStatus = "todo",
) -> None:
    """Register a task titled after its id."""
    service.register_task(
        RegisterTask(
            task_id=task_id,
            title=f"Task {task_id}",
            roi=roi,
            priority=priority,
            fingerprint=fingerprint,
            status=status,
        )
    )


def claim(
    service: ClaimService, task_id: str, session_id: str, *, ttl_ms: int | None = None
) -> ClaimResult:
    """Claim ``task_id`` for ``session_id``."""
    return service.claim(task_id, Claim(session_id=session_id, terms=LeaseTerms(ttl_ms=ttl_ms)))


def advance(service: ClaimService, *, minutes: float = 0, ms: int = 0) -> None:
    """Move the service's frozen clock forward."""
    clock = service.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(minutes=minutes, ms=ms)


@contextmanager
def refused(
    service: ClaimService, error: type[LedgerError]
) -> Iterator[pytest.ExceptionInfo[LedgerError]]:
    """Expect ``error`` from the block, and the log's head exactly as it was before."""
    head = service.store.head()
    with pytest.raises(error) as caught:
        yield caught
    assert service.store.head() == head
