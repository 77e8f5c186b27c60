"""Per-stream snapshots: a process new to a long stream reads only its tail, and a
snapshot that does not match the log is never believed (ADR 0018)."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest

from application.bootstrap import wire
from application.service import ClaimService
from application.stream_cache import SNAPSHOT_EVERY, TASK_STATE_SCHEMA
from ledger.clock import FrozenClock
from ledger.commands import Beat, Claim, RegisterTask
from ledger.config import ClaimConfig
from ledger.events import task_stream
from ledger.records import Record
from ledger.state import TaskState, fold_task
from ledger.store.factory import open_store
from ledger.store.protocol import EventStore
from ledger.store.stream_snapshots import StreamSnapshot, StreamSnapshots, stream_snapshots_for
from ledger.terms import LeaseTerms

TASK = "long-task"
SESSION = "agent-1"
STREAM = task_stream(TASK)


class ReadingStore:
    """A store that notes the ``after_version`` of every stream read (a fake, not a mock)."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.reads: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def read_stream(self, stream: str, *, after_version: int = 0) -> list[Record]:
        self.reads.append(after_version)
        return self.inner.read_stream(stream, after_version=after_version)


class FailingSnapshots:
    """Snapshots that can never be written."""

    def load(self, stream: str) -> StreamSnapshot | None:
        return None

    def save(self, snapshot: StreamSnapshot) -> None:
        raise OSError(28, "No space left on device")


@pytest.fixture
def store(shared_store_url: str, clock: FrozenClock) -> Iterator[EventStore]:
    """A fresh store on each backend whose log outlives one process."""
    opened = open_store(shared_store_url, clock=clock)
    yield opened
    opened.close()


def service_over(store: EventStore, clock: FrozenClock) -> ClaimService:
    """A new service over ``store``, as a fresh process would build it."""
    return wire(store, clock=clock, config=ClaimConfig(), host="test-host").service


def grown(store: EventStore, clock: FrozenClock, beats: int) -> TaskState:
    """Register, claim and heartbeat ``TASK`` ``beats`` times; the state after."""
    service = service_over(store, clock)
    service.register_task(RegisterTask(task_id=TASK, title="A long task"))
    service.claim(TASK, Claim(session_id=SESSION, terms=LeaseTerms()))
    for _ in range(beats):
        clock.advance(ms=1000)
        service.heartbeat(TASK, Beat(session_id=SESSION))
    return service.task(TASK)


def forged(snapshots: StreamSnapshots, **changes: object) -> None:
    """Replace the stream's snapshot with a copy carrying ``changes``."""
    found = snapshots.load(STREAM)
    assert found is not None
    snapshots.save(msgspec.structs.replace(found, **changes))


def test_a_long_stream_leaves_a_snapshot(store: EventStore, clock: FrozenClock) -> None:
    """Once a stream has moved SNAPSHOT_EVERY versions, its snapshot is kept."""
    grown(store, clock, SNAPSHOT_EVERY + 5)
    found = stream_snapshots_for(store).load(STREAM)
    assert found is not None
    assert (found.version, found.schema) == (SNAPSHOT_EVERY, TASK_STATE_SCHEMA)


def test_a_new_process_reads_only_after_the_snapshot(store: EventStore, clock: FrozenClock) -> None:
    """A service new to the stream reads from the snapshot's record on, not from 1."""
    grown(store, clock, SNAPSHOT_EVERY + 5)
    reading = ReadingStore(store)
    service_over(reading, clock).task(TASK)  # type: ignore[arg-type]
    assert reading.reads == [SNAPSHOT_EVERY - 1]


def test_a_state_from_its_snapshot_equals_the_whole_fold(
    store: EventStore, clock: FrozenClock
) -> None:
    """Snapshot plus tail folds to exactly the state of folding every record."""
    grown(store, clock, SNAPSHOT_EVERY * 2 + 3)
    whole = fold_task(TASK, store.read_stream(STREAM))
    assert service_over(store, clock).task(TASK) == whole


def test_a_snapshot_whose_record_hash_differs_is_ignored(
    store: EventStore, clock: FrozenClock
) -> None:
    """A snapshot naming a hash the log does not hold at its version is not believed."""
    truth = grown(store, clock, SNAPSHOT_EVERY + 5)
    snapshots = stream_snapshots_for(store)
    lie = msgspec.msgpack.encode(msgspec.structs.replace(truth, title="forged"))
    forged(snapshots, hash="0" * 64, state=lie)
    assert service_over(store, clock).task(TASK) == truth


def test_a_snapshot_past_the_end_of_the_stream_is_ignored(
    store: EventStore, clock: FrozenClock
) -> None:
    """A snapshot at a version the log does not reach (a truncated log) is not believed."""
    truth = grown(store, clock, SNAPSHOT_EVERY + 5)
    forged(stream_snapshots_for(store), version=truth.version + 100)
    assert service_over(store, clock).task(TASK) == truth


def test_a_snapshot_of_another_state_shape_is_ignored(
    store: EventStore, clock: FrozenClock
) -> None:
    """A snapshot tagged with another shape is folded past, never decoded."""
    truth = grown(store, clock, SNAPSHOT_EVERY + 5)
    forged(stream_snapshots_for(store), schema="task-state/0", state=b"\xc1")
    assert service_over(store, clock).task(TASK) == truth


def test_an_ignored_snapshot_is_replaced(store: EventStore, clock: FrozenClock) -> None:
    """After folding past a bad snapshot, a process writes a good one."""
    truth = grown(store, clock, SNAPSHOT_EVERY + 5)
    snapshots = stream_snapshots_for(store)
    forged(snapshots, hash="0" * 64)
    service_over(store, clock).task(TASK)
    found = snapshots.load(STREAM)
    assert found is not None
    assert (found.version, found.hash) == (truth.version, store.read_stream(STREAM)[-1].hash)


def test_a_failed_snapshot_write_does_not_fail_commands(
    store: EventStore, clock: FrozenClock
) -> None:
    """Heartbeats go on when every snapshot write fails."""
    service = service_over(store, clock)
    service.streams.loader.snapshots = FailingSnapshots()
    service.register_task(RegisterTask(task_id=TASK, title="A long task"))
    service.claim(TASK, Claim(session_id=SESSION, terms=LeaseTerms()))
    for _ in range(SNAPSHOT_EVERY + 1):
        service.heartbeat(TASK, Beat(session_id=SESSION))
    assert service.task(TASK).version == SNAPSHOT_EVERY + 3
