"""claim-ledger: an append-only, event-sourced ledger of task claims with leases.

Names are imported on first use, so that ``import ledger.errors`` (the CLI's hot
path) does not pay for the whole library.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.clock import Clock, FrozenClock, SystemClock
    from ledger.commands import Beat, ChangeStatus, Claim, RegisterTask, Release, Takeover
    from ledger.config import ClaimConfig, load_config
    from ledger.errors import LedgerError
    from ledger.store.factory import open_store
    from ledger.store.protocol import ANY, NO_STREAM, EventStore
    from ledger.terms import LeaseTerms

_EXPORTS = {
    "ANY": "ledger.store.protocol",
    "NO_STREAM": "ledger.store.protocol",
    "EventStore": "ledger.store.protocol",
    "Beat": "ledger.commands",
    "ChangeStatus": "ledger.commands",
    "Claim": "ledger.commands",
    "RegisterTask": "ledger.commands",
    "Release": "ledger.commands",
    "Takeover": "ledger.commands",
    "LeaseTerms": "ledger.terms",
    "ClaimConfig": "ledger.config",
    "load_config": "ledger.config",
    "Clock": "ledger.clock",
    "FrozenClock": "ledger.clock",
    "SystemClock": "ledger.clock",
    "LedgerError": "ledger.errors",
    "open_store": "ledger.store.factory",
}

__all__ = [
    "ANY",
    "NO_STREAM",
    "Beat",
    "ChangeStatus",
    "Claim",
    "ClaimConfig",
    "Clock",
    "EventStore",
    "FrozenClock",
    "LeaseTerms",
    "LedgerError",
    "RegisterTask",
    "Release",
    "SystemClock",
    "Takeover",
    "load_config",
    "open_store",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    return getattr(import_module(module), name)
