"""The clock. Every reader and writer takes its time from one injectable ``Clock``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, overload


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware start time")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, *, ms: int = 0, seconds: float = 0, minutes: float = 0) -> datetime:
        """Move forward (or back, with a negative amount) and return the new time."""
        with self._lock:
            self._now += timedelta(milliseconds=ms, seconds=seconds, minutes=minutes)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


def to_ms(delta: timedelta) -> int:
    """A duration in whole milliseconds, rounded down."""
    return (delta.days * 86_400_000) + (delta.seconds * 1000) + (delta.microseconds // 1000)


def add_ms(when: datetime, ms: int) -> datetime:
    return when + timedelta(milliseconds=ms)


@overload
def iso(when: datetime) -> str: ...
@overload
def iso(when: None) -> None: ...
@overload
def iso(when: datetime | None) -> str | None: ...
def iso(when: datetime | None) -> str | None:
    """RFC 3339 in UTC with milliseconds, as every JSON body shows times."""
    if when is None:
        return None
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
