"""A known history written straight into a CLI test's store, on a frozen clock.

The CLI runs on the wall clock, so a history it wrote itself would have times the
test cannot know. Written through the library on a ``FrozenClock`` instead, every
record's time is fixed, and ``--as-of``/``--from``/``--until`` can name them:

====  =====  ============================================================
pos   time   record
====  =====  ============================================================
1     12:00  task ``a`` registered (ROI 3)
2     12:00  task ``b`` registered (ROI 1)
3     12:00  session ``s1`` started
4     12:00  ``a`` claimed by ``s1`` for 10 minutes
5     12:01  heartbeat on ``a`` by ``s1``
6     12:02  session ``s2`` started
7     12:02  ``b`` claimed by ``s2`` for 5 minutes (expires 12:07)
8     12:04  ``a`` released by ``s1`` as completed
9     12:04  ``a`` done
10    12:20  task ``c`` registered
====  =====  ============================================================

By the wall clock every lease above is long past its expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from application.bootstrap import wire
from ledger.clock import FrozenClock
from ledger.commands import Beat, Claim, RegisterTask, Release
from ledger.config import ClaimConfig
from ledger.records import Record
from ledger.store.factory import open_store
from ledger.terms import LeaseTerms
from tests.e2e.conftest import Claims

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MINUTE = 60_000


def at(minutes: int, seconds: int = 0) -> str:
    """The ISO time ``minutes`` past 12:00 on the history's day, as a user types it."""
    return f"2026-01-01T12:{minutes:02d}:{seconds:02d}Z"


def write_timeline(url: str) -> list[Record]:
    """Write the history above to the store at ``url``; return its records."""
    clock = FrozenClock(START)
    store = open_store(url, clock=clock)
    try:
        service = wire(store, clock=clock, config=ClaimConfig(), host="e2e").service
        service.register_task(RegisterTask(task_id="a", title="Task a", roi=3.0))
        service.register_task(RegisterTask(task_id="b", title="Task b", roi=1.0))
        service.claim("a", Claim(session_id="s1", terms=LeaseTerms(ttl_ms=10 * MINUTE)))
        clock.advance(minutes=1)
        service.heartbeat("a", Beat(session_id="s1"))
        clock.advance(minutes=1)
        service.claim("b", Claim(session_id="s2", terms=LeaseTerms(ttl_ms=5 * MINUTE)))
        clock.advance(minutes=2)
        service.release("a", Release(session_id="s1", reason="completed"))
        clock.advance(minutes=16)
        service.register_task(RegisterTask(task_id="c", title="Task c"))
        return list(store.read_all())
    finally:
        store.close()


def cli_over_timeline(backend: str, folder: Path) -> Claims:
    """The CLI over a ``backend`` store in ``folder`` that holds the timeline."""
    suffix = "db" if backend == "sqlite" else "jsonl"
    claims = Claims(folder, f"{backend}://{folder / ('ledger.' + suffix)}")
    write_timeline(claims.db)
    return claims
