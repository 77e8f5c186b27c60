"""The ledger's time on the embedded stores: the host's clock, never behind the log.

A decision made with a clock behind the head's ``recorded_at`` (another process on a
clock ahead, an NTP step back) would judge leases by a time the log has already
passed. ``LogClock`` answers ``max(clock.now(), head's recorded_at)`` instead, the
same rule the stores apply to ``recorded_at`` (``batch.seal_batch``), so the log's
time never runs backwards, for decisions as for records (ADR 0017).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ledger.clock import Clock
from ledger.store.protocol import Head


class _Headed(Protocol):
    def head(self) -> Head: ...


class LogClock:
    """``clock`` held to the head of ``store``'s log."""

    def __init__(self, clock: Clock, store: _Headed) -> None:
        self._clock = clock
        self._store = store

    def now(self) -> datetime:
        now = self._clock.now()
        last = self._store.head().recorded_at
        return last if last is not None and last > now else now
