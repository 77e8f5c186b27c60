"""ROI fingerprints: which tasks carry each fingerprint, in registration order."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from ledger.events import TaskRegistered
from ledger.records import Record
from projections.base import Projection


class FingerprintsState(msgspec.Struct, gc=False):
    tasks: dict[str, list[str]] = {}


class Fingerprints(Projection[FingerprintsState]):
    name: ClassVar[str] = "fingerprints"
    schema_version: ClassVar[int] = 1
    state_type = FingerprintsState
    handles: ClassVar[frozenset[str]] = frozenset({"task_registered"})

    def apply(self, state: FingerprintsState, record: Record) -> None:
        event = record.data
        if isinstance(event, TaskRegistered) and event.fingerprint:
            state.tasks.setdefault(event.fingerprint, []).append(event.task_id)
