"""The PostgreSQL server's clock: the one clock of a ledger shared by many hosts (ADR 0017).

Hosts' clocks disagree; the database server's is the same for every writer. On
PostgreSQL a decision takes its ``now`` from the server (``ServerClock``, read when
the stream is loaded) and the append, inside its transaction, reads the server's
clock again (``stamp``): it stamps ``recorded_at`` with it and refuses a decision
that no longer holds at that time, so that no writer's clock ever decides.

The ledger's time is ``greatest(clock_timestamp(), the head's recorded_at)``: a
server clock stepped back does not take the log back with it.

A decision does not pay a round trip for its ``now`` when the store has heard the
server's time within ``READING_LASTS`` (``ServerReading``): every append answers the
time it was recorded at, so a busy writer always has one. The time it decides at is
that reading plus the time this host's monotonic clock says has passed since it
arrived, less ``READING_MARGIN``: never later than the server's time then (the reading
was taken before it arrived), so the append's check never finds it ahead, and earlier
by about half a round trip, which grants nothing the server's time would not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from ledger.clock import iso, to_ms
from ledger.codec import micros
from ledger.errors import ClockAhead, ConcurrencyConflict
from ledger.events import Claimed, Expired, Heartbeat, Orphaned, Released, TakenOver
from ledger.records import NewEvent
from ledger.store.protocol import Head
from ledger.store.rows import from_micros

if TYPE_CHECKING:
    from psycopg import Connection

DECISION_WINDOW = timedelta(seconds=1)
"""How long a decision stays good: an append recorded later than this after the time
it was decided at is refused, and the writer loads and decides again."""
_WINDOW_US = DECISION_WINDOW // timedelta(microseconds=1)

SERVER_NOW_US = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
LEDGER_NOW_US = (
    "SELECT greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint,"
    " (SELECT recorded_us FROM events ORDER BY position DESC LIMIT 1))"
)


READING_LASTS = 0.25
"""Seconds a reading of the server's time answers for before it is read again: well
inside ``DECISION_WINDOW``, and short enough that the two clocks' rates (NTP slews a
clock by at most 500 ppm) drift apart by far less than ``READING_MARGIN``."""
READING_MARGIN_US = 1000
"""Microseconds taken off a time derived from a reading, for the clocks' drift."""


class ServerReading:
    """The last reading of the ledger's time on the server, and when it arrived.

    ``note`` is called with a time the server answered (a ``ledger_now`` read, an
    append's ``recorded_at``) and this host's monotonic clock when the answer arrived;
    ``now`` answers a time derived from it while it is fresh, else ``None``. Readings
    from several threads may arrive in any order: each is a lower bound of the server's
    time for as long as it lasts, so the last one noted is as good as any.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._reading: tuple[int, float] | None = None

    def note(self, ledger_us: int, arrived: float) -> None:
        self._reading = (ledger_us, arrived)

    def now(self) -> datetime | None:
        reading = self._reading
        if reading is None:
            return None
        ledger_us, arrived = reading
        passed = self._monotonic() - arrived
        if passed >= READING_LASTS or passed < 0:
            return None
        return from_micros(ledger_us + int(passed * 1_000_000) - READING_MARGIN_US)


class ServerTimed(Protocol):
    """A store that reads the ledger's time from its server (``PostgresStore``)."""

    def ledger_now(self) -> datetime: ...


class ServerClock:
    """The ledger's time on PostgreSQL, from the server (``PostgresStore.ledger_now``)."""

    def __init__(self, store: ServerTimed) -> None:
        self._store = store

    def now(self) -> datetime:
        return self._store.ledger_now()


def ledger_now_us(conn: Connection) -> int:
    """The server's clock, or the head's ``recorded_at`` when the clock is behind it, in
    microseconds since the epoch."""
    row = conn.execute(LEDGER_NOW_US).fetchone()
    assert row is not None  # a SELECT without FROM answers one row
    return int(row[0])


def stamp(conn: Connection, events: Sequence[NewEvent], head: Head) -> datetime:
    """The time to record an append at, read in its transaction, after checking that
    every event was decided at a time that still holds: not in the server's future,
    not older than ``DECISION_WINDOW``, and granting no lease already over."""
    row = conn.execute(SERVER_NOW_US).fetchone()
    assert row is not None
    now = from_micros(int(row[0]))
    if head.recorded_at is not None and head.recorded_at > now:
        now = head.recorded_at
    for event in events:
        check_decided(event, now)
    return now


TIMED = (Claimed, TakenOver, Heartbeat, Released, Expired, Orphaned)
"""The events whose decision rests on the time: whether a lease is live at ``now``."""


def check_decided(event: NewEvent, now: datetime) -> None:
    """Refuse ``event`` if the ledger's time ``now`` no longer bears its decision out.
    Only lease events are judged: others (a registration, a status change, a copied
    record) do not depend on when they were decided."""
    if not isinstance(event.data, TIMED):
        return
    decided = event.occurred_at
    if decided > now:
        raise ClockAhead(
            f"{_kind(event)} was decided at {iso(decided)}, {to_ms(decided - now)} ms"
            f" ahead of the database server's clock ({iso(now)}): on PostgreSQL the"
            " server's clock decides (open the ledger without a clock of its own)",
            decidedAt=iso(decided),
            serverTime=iso(now),
        )
    if now - decided > DECISION_WINDOW:
        raise _outdated(event, now, f"was decided {to_ms(now - decided)} ms ago")
    data = event.data
    if isinstance(data, Claimed | TakenOver | Heartbeat) and data.expires_at <= now:
        raise _outdated(event, now, f"grants a lease that ended at {iso(data.expires_at)}")


def decision_bounds(events: Sequence[NewEvent]) -> tuple[int | None, int | None]:
    """The server times, in microseconds, between which ``check_decided`` passes every
    one of ``events``: not before the latest decision (else ``ClockAhead``), not after
    the earliest decision plus ``DECISION_WINDOW`` nor at or past a granted lease's end
    (else outdated). ``(None, None)`` when no event's decision rests on the time. The
    PostgreSQL append checks them at its stamp, under the lock (ADR 0017)."""
    ahead: int | None = None
    deadline: int | None = None
    for event in events:
        data = event.data
        if not isinstance(data, TIMED):
            continue
        decided = micros(event.occurred_at)
        holds = decided + _WINDOW_US
        if isinstance(data, Claimed | TakenOver | Heartbeat):
            holds = min(holds, micros(data.expires_at) - 1)
        ahead = decided if ahead is None else max(ahead, decided)
        deadline = holds if deadline is None else min(deadline, holds)
    return ahead, deadline


def _outdated(event: NewEvent, now: datetime, why: str) -> ConcurrencyConflict:
    """A conflict with time instead of another writer: the writer decides again."""
    return ConcurrencyConflict(
        f"{_kind(event)} {why}; the server's time is {iso(now)}: decide again",
        reason="decision_outdated",
        decidedAt=iso(event.occurred_at),
        serverTime=iso(now),
    )


def _kind(event: NewEvent) -> str:
    """The event's tag, as records name their type."""
    return str(type(event.data).__struct_config__.tag)
