"""For random histories, the live projections equal every other way of building them.

The live board is a ``ProjectionRunner`` caught up after every step of a history,
with a small ``save_every`` so it snapshots often. It must equal a board folded
from position 0, a runner restarted from each snapshot it saved, and, for every
position and every moment of the ledger clock, the board "as of" it.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from application.bootstrap import wire
from application.service import ClaimService
from application.testing import memory_service
from ledger.clock import FrozenClock
from ledger.config import ClaimConfig
from ledger.store.factory import open_store
from projections.runner import ProjectionRunner, snapshots_for
from projections.snapshots import MemorySnapshots, SnapshotHeader
from tests.conftest import START
from tests.projections.histories import (
    Seen,
    Step,
    assert_same_board,
    board_bytes,
    histories,
    live_claims,
    play,
    rebuilt,
)

SAVE_EVERY = 3
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class KeepingSnapshots(MemorySnapshots):
    """Memory snapshots that also keep a copy of every save, pruned or not."""

    def __init__(self) -> None:
        super().__init__()
        self.saves: list[tuple[SnapshotHeader, bytes]] = []

    def save(self, header: SnapshotHeader, payload: bytes) -> None:
        super().save(header, payload)
        self.saves.append((header, payload))

    def only_at(self, position: int) -> MemorySnapshots:
        """A snapshot store holding just the snapshots saved at ``position``."""
        chosen = MemorySnapshots()
        for header, payload in self.saves:
            if header.position == position:
                chosen.save(header, payload)
        return chosen


def _live_run(history: list[Step]) -> tuple[ClaimService, FrozenClock, ProjectionRunner]:
    """Play ``history`` on a memory service with a live runner caught up after each step."""
    service, clock = memory_service(start=START, config=ClaimConfig())
    live = ProjectionRunner(service.store, KeepingSnapshots(), clock=clock, save_every=SAVE_EVERY)

    def follow(step: Step) -> None:
        live.catch_up()

    play(service, clock, history, follow)
    return service, clock, live


@FAST
@given(history=histories)
def test_live_board_equals_a_rebuild_after_every_step(history: list[Step]) -> None:
    """After each step, the live board equals a board folded from position 0."""
    service, clock = memory_service(start=START)
    live = ProjectionRunner(service.store, KeepingSnapshots(), clock=clock, save_every=SAVE_EVERY)

    def check(step: Step) -> None:
        assert_same_board(live.catch_up(), rebuilt(service))

    play(service, clock, history, check)


@FAST
@given(history=histories)
def test_restart_from_each_saved_snapshot_equals_live(history: list[Step]) -> None:
    """A runner restarted from any one snapshot the live runner saved catches up to it."""
    service, clock, live = _live_run(history)
    snapshots = live.snapshots
    assert isinstance(snapshots, KeepingSnapshots)
    for position in sorted({header.position for header, _ in snapshots.saves}):
        restarted = ProjectionRunner(service.store, snapshots.only_at(position), clock=clock)
        assert {s.snapshot_position for s in restarted.status()} == {position}
        assert_same_board(restarted.catch_up(), live.catch_up())
        assert restarted.notices == []


@FAST
@given(history=histories)
def test_restart_over_the_same_snapshot_store_equals_live(history: list[Step]) -> None:
    """A new runner over the same store and snapshot store equals the live board."""
    service, clock, live = _live_run(history)
    restarted = ProjectionRunner(service.store, live.snapshots, clock=clock)
    assert_same_board(restarted.catch_up(), live.catch_up())
    assert restarted.notices == []


@FAST
@given(history=histories)
def test_board_at_each_position_equals_a_fold_until_it(history: list[Step]) -> None:
    """``board_at(position=p)`` equals a board caught up with ``until=p``, for every p."""
    service, _, live = _live_run(history)
    records = {record.position: record for record in service.store.read_all()}
    for position in range(service.store.head_position() + 1):
        board, at = live.board_at(position=position)
        assert_same_board(board, rebuilt(service, until=position))
        if position:
            assert at == records[position].recorded_at


@FAST
@given(history=histories)
def test_board_at_each_moment_answers_what_live_answered_then(history: list[Step]) -> None:
    """As of any moment of the ledger clock, in-flight and the board read as they did live."""
    service, clock = memory_service(start=START)
    live = ProjectionRunner(service.store, KeepingSnapshots(), clock=clock, save_every=SAVE_EVERY)
    seen: dict[datetime, Seen] = {}

    def look(step: Step) -> None:
        board = live.catch_up()
        flight = service.in_flight(as_of=(board, clock.now()))
        seen[clock.now()] = Seen(
            at=clock.now(),
            position=board.position,
            in_flight=live_claims(flight.entries),
            board=board_bytes(board),
        )

    play(service, clock, history, look)
    for then in seen.values():
        as_of = live.board_at(when=then.at)
        flight = service.in_flight(as_of=as_of)
        assert (as_of[1], as_of[0].position) == (then.at, then.position)
        assert live_claims(flight.entries) == then.in_flight
        assert board_bytes(as_of[0]) == then.board


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories)
def test_sqlite_live_board_equals_rebuild_and_restart_from_files(history: list[Step]) -> None:
    """On SQLite with snapshot files, every save restarts to the live board and a rebuild."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FrozenClock(START)
        store = open_store(f"sqlite://{Path(folder) / 'ledger.db'}", clock=clock)
        try:
            service = wire(store, clock=clock, config=ClaimConfig(), host="test-host").service
            live = ProjectionRunner(store, snapshots_for(store), clock=clock, save_every=SAVE_EVERY)

            def check(step: Step) -> None:
                board = live.catch_up()
                restarted = ProjectionRunner(store, snapshots_for(store), clock=clock)
                assert_same_board(restarted.catch_up(), board)
                assert_same_board(board, rebuilt(service))
                assert restarted.notices == []

            play(service, clock, history, check)
        finally:
            store.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories)
def test_sqlite_board_at_each_position_uses_only_snapshots_before_it(history: list[Step]) -> None:
    """On SQLite with snapshot files, ``board_at(position=p)`` equals a fold until p."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FrozenClock(START)
        store = open_store(f"sqlite://{Path(folder) / 'ledger.db'}", clock=clock)
        try:
            service = wire(store, clock=clock, config=ClaimConfig(), host="test-host").service
            live = ProjectionRunner(store, snapshots_for(store), clock=clock, save_every=SAVE_EVERY)

            def follow(step: Step) -> None:
                live.catch_up()

            play(service, clock, history, follow)
            for position in range(store.head_position() + 1):
                assert_same_board(live.board_at(position=position)[0], rebuilt(service, position))
            assert live.notices == []
        finally:
            store.close()
