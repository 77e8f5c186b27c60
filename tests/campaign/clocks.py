"""Writer clocks that disagree: a fixed skew, and one jump back at a chosen moment."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from ledger.clock import SystemClock


class SkewedClock:
    """The system clock plus ``skew_ms``; after ``jump_back()`` it runs ``jump_ms`` behind
    that (a clock stepped back by an NTP correction, say)."""

    def __init__(self, skew_ms: int) -> None:
        self.skew = timedelta(milliseconds=skew_ms)
        self._system = SystemClock()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            skew = self.skew
        return self._system.now() + skew

    def jump_back(self, jump_ms: int) -> None:
        with self._lock:
            self.skew -= timedelta(milliseconds=jump_ms)
