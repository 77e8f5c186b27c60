"""Overlapping claims on one task: none from the rules; shown when a log has one."""

from __future__ import annotations

from datetime import timedelta

from ledger.clock import FrozenClock
from ledger.events import Claimed, TaskRegistered, task_stream
from ledger.records import NewEvent
from ledger.store.memory import MemoryStore
from ledger.store.protocol import ANY
from projections.analytics.stats import Overlap
from tests.analytics.helpers import fed
from tests.conftest import START

LEASE = timedelta(minutes=30)


def _raced_log() -> MemoryStore:
    """A log the rules would never write: s2 claims t1 five minutes into s1's lease."""
    clock = FrozenClock(START)
    store = MemoryStore(clock=clock)
    stream = task_stream("t1")
    _append(store, TaskRegistered(task_id="t1", title="one"), stream, clock)
    for token, session in ((2, "s1"), (3, "s2")):
        claim = Claimed(
            task_id="t1",
            session_id=session,
            fencing_token=token,
            ttl_ms=30 * 60_000,
            expires_at=clock.now() + LEASE,
        )
        _append(store, claim, stream, clock)
        clock.advance(minutes=5)
    return store


def _append(store: MemoryStore, event: object, stream: str, clock: FrozenClock) -> None:
    new = NewEvent(data=event, occurred_at=clock.now(), actor="test")  # type: ignore[arg-type]
    store.append(stream, [new], expected_version=ANY)


def test_a_claim_inside_another_is_reported_as_an_overlap() -> None:
    """The second claim started before the first one's lease ran out: one overlap."""
    with fed(_raced_log()) as analytics:
        found = analytics.stats(by="task").overlaps
    assert found == [
        Overlap(
            task_id="t1",
            session_id="s2",
            fencing_token=3,
            started_at=START + timedelta(minutes=5),
            earlier_session="s1",
            earlier_token=2,
            earlier_end=START + LEASE,
        )
    ]


def test_the_earlier_claim_ends_superseded_at_its_lease_expiry() -> None:
    """The claim that was overrun ends as superseded when its lease would have run out."""
    with fed(_raced_log()) as analytics:
        row = analytics.con.execute(
            "SELECT end_reason, iso(ended_at) FROM claim_intervals WHERE session_id = 's1'"
        ).fetchone()
    assert row == ("superseded", "2026-01-01T12:30:00.000Z")
