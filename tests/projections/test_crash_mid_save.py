"""A process saving projection snapshots is killed with SIGKILL, again and again.

While a ``crash-writer`` claims, heartbeats and releases tasks, a ``save-loop``
worker catches the projections up and saves them over and over; after it has
saved at least once it is killed at a random moment, most likely in the middle of
writing a snapshot file, and a new one is started over the same files. After the
rounds the writer is killed too, and a fresh runner opens the same store and
snapshot folder. Each test checks one property of what it finds.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import msgspec
import pytest

from application.bootstrap import open_ledger
from ledger.commands import RegisterTask
from ledger.store.factory import open_store
from projections.board import PROJECTIONS, Board
from projections.runner import ProjectionRunner, ProjectionStatus, snapshots_for
from projections.snapshots import FileSnapshots
from tests.integration.harness import (
    BACKENDS,
    HANG_GUARD_SECONDS,
    acknowledged,
    start_worker,
    url_for,
)
from tests.projections.histories import board_bytes
from tests.projections.processes import start

ROUNDS = 8
POOL = tuple(f"pool-{n}" for n in range(6))
MAX_KILL_DELAY_SECONDS = 0.03

pytestmark = pytest.mark.slow


class Reopened(msgspec.Struct, frozen=True, kw_only=True):
    """What a fresh runner made of the store and snapshot folder after the crashes."""

    notices: list[str]
    status: list[ProjectionStatus]
    caught_up: bytes
    rebuilt: bytes
    snapshot_files: int
    leftovers_after: list[str]


def _wait_for_ack(proc: subprocess.Popen[bytes], ack: Path, count: int) -> None:
    """Block until ``ack`` holds at least ``count`` complete lines."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while len(acknowledged(ack)) < count:
        assert proc.poll() is None, f"worker {proc.args!r} died on its own"
        assert time.monotonic() < deadline, f"worker {proc.args!r} never got going"
        time.sleep(0.002)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _crash_saves(url: str, folder: Path, rng: random.Random) -> None:
    """Writer running throughout; ``ROUNDS`` save loops, each killed mid-flight."""
    with (folder / "stderr.log").open("ab") as stderr:
        writer_ack = folder / "writer.ack"
        writer = start_worker(
            ["crash-writer", url, "writer", str(writer_ack), str(rng.randrange(1 << 30)), *POOL],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            _wait_for_ack(writer, writer_ack, 1)
            for number in range(ROUNDS):
                ack = folder / f"saver-{number}.ack"
                saver = start(
                    ["save-loop", url, str(ack)], stdout=subprocess.DEVNULL, stderr=stderr
                )
                try:
                    _wait_for_ack(saver, ack, 1)
                    time.sleep(rng.uniform(0, MAX_KILL_DELAY_SECONDS))
                finally:
                    _kill(saver)
        finally:
            _kill(writer)


@pytest.fixture(scope="module", params=BACKENDS)
def reopened(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Reopened:
    """The crash rounds on one backend, then a fresh runner over what they left."""
    backend: str = request.param
    folder = tmp_path_factory.mktemp(f"crash-save-{backend}")
    url, _ = url_for(backend, folder)
    service = open_ledger(url).service
    for task_id in POOL:
        service.register_task(RegisterTask(task_id=task_id, title=f"Task {task_id}"))
    service.store.close()
    _crash_saves(url, folder, random.Random(backend))
    store = open_store(url)
    try:
        snapshots = snapshots_for(store)
        assert isinstance(snapshots, FileSnapshots)
        runner = ProjectionRunner(store, snapshots)
        status = runner.status()
        board = Board()
        board.catch_up(store)
        return Reopened(
            notices=runner.notices,
            status=status,
            caught_up=board_bytes(runner.catch_up()),
            rebuilt=board_bytes(board),
            snapshot_files=len(list(snapshots.folder.glob("*.snap"))),
            leftovers_after=[w for p in PROJECTIONS for w in snapshots.leftovers(p.name)],
        )
    finally:
        store.close()


def test_snapshots_survived_the_kills(reopened: Reopened) -> None:
    """Snapshot files are there to restart from after every save loop was killed."""
    assert reopened.snapshot_files > 0


def test_no_complete_snapshot_file_is_rejected(reopened: Reopened) -> None:
    """A kill mid-save never leaves a damaged snapshot: the only notices are leftovers."""
    assert all("unfinished save" in notice for notice in reopened.notices), reopened.notices


def test_restart_uses_the_last_good_snapshot(reopened: Reopened) -> None:
    """Every projection is restored from a snapshot, not folded from position 0."""
    assert all(status.snapshot_position for status in reopened.status)


def test_catching_up_equals_a_rebuild_from_zero(reopened: Reopened) -> None:
    """The restored projections, caught up, equal a rebuild from position 0 byte for byte."""
    assert reopened.caught_up == reopened.rebuilt


def test_leftover_temp_files_are_set_aside(reopened: Reopened) -> None:
    """After the restart no unfinished save of a killed process is left in the folder."""
    assert reopened.leftovers_after == []
