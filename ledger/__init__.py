"""claim-ledger: an append-only, event-sourced ledger of task claims with leases."""

from ledger.clock import Clock, FrozenClock, SystemClock
from ledger.commands import Beat, ChangeStatus, Claim, RegisterTask, Release, Takeover
from ledger.config import ClaimConfig, load_config
from ledger.errors import LedgerError
from ledger.service import ClaimService
from ledger.store.factory import open_store
from ledger.store.protocol import ANY, NO_STREAM, EventStore

__all__ = [
    "ANY",
    "NO_STREAM",
    "Beat",
    "ChangeStatus",
    "Claim",
    "ClaimConfig",
    "ClaimService",
    "Clock",
    "EventStore",
    "FrozenClock",
    "LedgerError",
    "RegisterTask",
    "Release",
    "SystemClock",
    "Takeover",
    "load_config",
    "open_store",
]
