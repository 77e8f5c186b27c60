"""Current claims: the lease each claimed task has in the log (live or past expiry)."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from ledger.events import task_of
from ledger.records import Record
from ledger.state import Lease, lease_after
from projections.base import Projection


class ClaimsState(msgspec.Struct, gc=False):
    leases: dict[str, Lease] = {}


class CurrentClaims(Projection[ClaimsState]):
    name: ClassVar[str] = "claims"
    schema_version: ClassVar[int] = 3
    """2: a renewal heartbeat sets the lease's ``ttl_ms``."""
    state_type = ClaimsState
    handles: ClassVar[frozenset[str]] = frozenset(
        {"claimed", "heartbeat", "released", "expired", "taken_over", "orphaned"}
    )

    def apply(self, state: ClaimsState, record: Record) -> None:
        task_id = task_of(record.data)
        if task_id is None:
            return
        lease = lease_after(state.leases.get(task_id), record)
        if lease is None:
            state.leases.pop(task_id, None)
        else:
            state.leases[task_id] = lease
