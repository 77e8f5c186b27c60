"""For random histories, a stream loaded from its snapshot equals the stream folded whole."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from application.streams import Streams
from application.testing import memory_service
from ledger.events import session_stream, task_stream
from ledger.state import fold_session, fold_task
from ledger.store.stream_snapshots import MemoryStreamSnapshots
from tests.conftest import START
from tests.projections.histories import SESSIONS, TASKS, Step, histories, play

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(histories)
def test_every_stream_from_its_snapshot_equals_its_whole_fold(history: list[Step]) -> None:
    """Snapshots taken every two versions, then a new process: each state is the whole fold."""
    service, clock = memory_service(start=START)
    snapshots = MemoryStreamSnapshots()
    service.streams.loader.snapshots = snapshots
    service.streams.loader.every = 2
    play(service, clock, history)
    store = service.store
    fresh = Streams(store, clock, snapshots)
    for task in TASKS:
        assert fresh.task(task) == fold_task(task, store.read_stream(task_stream(task)))
    for session in SESSIONS:
        whole = fold_session(session, store.read_stream(session_stream(session)))
        assert fresh.session(session) == whole
