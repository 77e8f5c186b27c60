"""Helpers for testing agent runners against the ledger: a frozen clock and a memory store."""

from __future__ import annotations

from datetime import datetime

from application.bootstrap import wire
from application.service import ClaimService
from ledger.clock import FrozenClock
from ledger.config import ClaimConfig
from ledger.store.memory import MemoryStore

__all__ = ["FrozenClock", "MemoryStore", "memory_service"]


def memory_service(
    *, start: datetime | None = None, config: ClaimConfig | None = None, host: str = "test-host"
) -> tuple[ClaimService, FrozenClock]:
    """A service over a fresh in-memory store, with a clock only the test moves."""
    clock = FrozenClock(start)
    ledger = wire(MemoryStore(clock=clock), clock=clock, config=config or ClaimConfig(), host=host)
    return ledger.service, clock
