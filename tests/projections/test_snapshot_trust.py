"""A snapshot file is trusted only when everything about it checks out.

Each test damages the saved snapshots one way, then opens a new runner over the
same files: the bad file is set aside (renamed ``*.rejected``) with a notice that
names it, and the projection is rebuilt from the log. Where a bad file decodes to a
plausible state, that state holds a task the log never had ("ghost"), so trusting
it would show. An intact snapshot is also a witness of the log: a log shorter than
its position, or holding another record there, is refused (LOG_CORRUPT).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from application.bootstrap import wire
from application.service import ClaimService
from ledger.clock import FrozenClock
from ledger.config import ClaimConfig
from ledger.errors import CorruptLog
from ledger.state import TaskState
from ledger.store.factory import open_store
from projections.runner import ProjectionRunner, snapshots_for
from projections.snapshots import FileSnapshots, make_header
from projections.tasks import TaskBoard, TasksState
from tests.conftest import START
from tests.projections.conftest import write_history
from tests.projections.histories import assert_same_board, rebuilt

GHOST = TasksState(tasks={"ghost": TaskState(task_id="ghost", registered=True, title="Ghost")})


def _saved(service: ClaimService) -> tuple[FileSnapshots, Path]:
    """Save every projection at the head; the snapshot folder and the tasks file."""
    snapshots = snapshots_for(service.store)
    assert isinstance(snapshots, FileSnapshots)
    runner = ProjectionRunner(service.store, snapshots, clock=service.clock)
    runner.catch_up()
    runner.save()
    (tasks_file,) = snapshots.folder.glob("tasks-*.snap")
    return snapshots, tasks_file


def _reopened(service: ClaimService) -> ProjectionRunner:
    """A new runner over the same store and snapshot files, caught up."""
    runner = ProjectionRunner(service.store, snapshots_for(service.store), clock=service.clock)
    runner.catch_up()
    return runner


def _write_snapshot(folder: Path, *, schema_version: int, state: object, **at: object) -> Path:
    """A well-formed tasks snapshot file holding ``state``, with a correct checksum."""
    payload = msgspec.msgpack.encode(state)
    header = make_header(
        name="tasks",
        schema_version=schema_version,
        payload=payload,
        saved_at=START,
        **at,  # type: ignore[arg-type]
    )
    FileSnapshots(folder).save(header, payload)
    (written,) = folder.glob(f"tasks-*{header.position}.snap")
    return written


def _set_aside(runner: ProjectionRunner, path: Path, reason: str) -> None:
    """``path`` was renamed aside and a notice names it with ``reason``."""
    assert not path.exists()
    assert path.with_name(path.name + ".rejected").exists()
    assert any(str(path) in notice and reason in notice for notice in runner.notices)


def test_leftover_temp_file_is_set_aside_with_a_notice(service: ClaimService) -> None:
    """A temporary file left by a save that died is named in a notice and set aside."""
    snapshots, tasks_file = _saved(service)
    leftover = snapshots.folder / f".{tasks_file.name}.{_dead_pid()}.1.tmp"
    leftover.write_bytes(tasks_file.read_bytes()[:40])
    runner = _reopened(service)
    _set_aside(runner, leftover, "unfinished save")
    assert_same_board(runner.catch_up(), rebuilt(service))


def test_temp_file_of_a_live_writer_is_left_alone(service: ClaimService) -> None:
    """A temporary file whose writer is still running may be a save in progress: untouched."""
    snapshots, tasks_file = _saved(service)
    in_progress = snapshots.folder / f".{tasks_file.name}.{os.getpid()}.1.tmp"
    in_progress.write_bytes(b"partial")
    runner = _reopened(service)
    assert in_progress.exists()
    assert runner.notices == []


def test_truncated_snapshot_is_set_aside_and_rebuilt(service: ClaimService) -> None:
    """A snapshot cut short is set aside with a notice; the board is folded from the log."""
    _, tasks_file = _saved(service)
    raw = tasks_file.read_bytes()
    tasks_file.write_bytes(raw[: len(raw) - 10])
    runner = _reopened(service)
    _set_aside(runner, tasks_file, "corrupt")
    assert_same_board(runner.catch_up(), rebuilt(service))


def test_snapshot_cut_inside_its_header_is_set_aside(service: ClaimService) -> None:
    """A snapshot cut inside its header line cannot be read: set aside, rebuilt."""
    _, tasks_file = _saved(service)
    tasks_file.write_bytes(tasks_file.read_bytes()[:30])
    runner = _reopened(service)
    _set_aside(runner, tasks_file, "cannot be read")
    assert_same_board(runner.catch_up(), rebuilt(service))


def test_payload_not_matching_its_checksum_is_never_trusted(service: ClaimService) -> None:
    """A payload swapped for another valid state is caught by the checksum and rebuilt."""
    _, tasks_file = _saved(service)
    header, _, payload = tasks_file.read_bytes().partition(b"\n")
    forged = payload.replace(b"Task a", b"Task X")
    assert forged != payload
    tasks_file.write_bytes(header + b"\n" + forged)
    runner = _reopened(service)
    _set_aside(runner, tasks_file, "checksum")
    assert runner.catch_up().tasks["a"].title == "Task a"
    assert_same_board(runner.catch_up(), rebuilt(service))


def test_unknown_schema_version_is_never_trusted(service: ClaimService) -> None:
    """A snapshot of another schema version is set aside, even with a valid checksum."""
    _, tasks_file = _saved(service)
    head = service.store.head()
    ghost = _write_snapshot(
        tasks_file.parent,
        schema_version=TaskBoard.schema_version + 1,
        state=GHOST,
        position=head.position,
        head_hash=head.hash,
        recorded_at=head.recorded_at,
    )
    runner = _reopened(service)
    _set_aside(runner, ghost, "schema version")
    assert "ghost" not in runner.catch_up().tasks
    assert_same_board(runner.catch_up(), rebuilt(service))


def test_unknown_file_format_is_never_trusted(service: ClaimService) -> None:
    """A snapshot written in another file format is set aside, even with a valid checksum."""
    _, tasks_file = _saved(service)
    head = service.store.head()
    payload = msgspec.msgpack.encode(GHOST)
    header = make_header(
        name="tasks",
        schema_version=TaskBoard.schema_version,
        position=head.position,
        head_hash=head.hash,
        recorded_at=head.recorded_at,
        saved_at=START,
        payload=payload,
    )
    tasks_file.write_bytes(
        msgspec.json.encode(msgspec.structs.replace(header, format="claims-projection/99"))
        + b"\n"
        + payload
    )
    runner = _reopened(service)
    _set_aside(runner, tasks_file, "format")
    assert "ghost" not in runner.catch_up().tasks
    assert_same_board(runner.catch_up(), rebuilt(service))


def test_snapshot_of_another_log_refuses_the_log(backend: str, tmp_path: Path) -> None:
    """After the log is replaced by another, its old snapshots refuse it: LOG_CORRUPT."""
    second = _swapped(backend, tmp_path)
    runner = ProjectionRunner(second.store, snapshots_for(second.store), clock=second.clock)
    with pytest.raises(CorruptLog, match="not the one witnessed"):
        runner.catch_up()
    second.store.close()


def test_rebuild_replaces_the_snapshots_of_a_replaced_log(backend: str, tmp_path: Path) -> None:
    """A rebuild drops every old snapshot, so the replaced log is read again."""
    second = _swapped(backend, tmp_path)
    ProjectionRunner(second.store, snapshots_for(second.store), clock=second.clock).rebuild()
    runner = _reopened(second)
    assert sorted(runner.catch_up().tasks) == ["new-a", "new-b"]
    assert_same_board(runner.catch_up(), rebuilt(second))
    second.store.close()


def test_snapshot_past_the_end_of_the_log_refuses_it(backend: str, tmp_path: Path) -> None:
    """Records cut from the end of the log, behind a snapshot, are LOG_CORRUPT."""
    clock = FrozenClock(START)
    url = f"{backend}://{tmp_path / 'cut' / 'ledger'}"
    service = wire(open_store(url, clock=clock), clock=clock, config=ClaimConfig()).service
    write_history(service, clock, prefix="old-")
    _saved(service)
    head = service.store.head_position()
    service.store.close()
    _cut_tail(url, head - 2)
    store = open_store(url, clock=clock)
    runner = ProjectionRunner(store, snapshots_for(store), clock=clock)
    with pytest.raises(CorruptLog, match="removed from its end") as caught:
        runner.catch_up()
    assert caught.value.context["position"] == head - 1
    store.close()


def _swapped(backend: str, tmp_path: Path) -> ClaimService:
    """A log with saved snapshots, replaced by another log; the service over the new one."""
    clock = FrozenClock(START)
    url = f"{backend}://{tmp_path / 'swap' / 'ledger'}"
    first = wire(open_store(url, clock=clock), clock=clock, config=ClaimConfig()).service
    write_history(first, clock, prefix="old-")
    _saved(first)
    first.store.close()
    _remove_log(tmp_path / "swap")
    second = wire(open_store(url, clock=clock), clock=clock, config=ClaimConfig()).service
    write_history(second, clock, prefix="new-")
    return second


def _cut_tail(url: str, keep: int) -> None:
    """Remove every record past position ``keep`` from a SQLite or JSONL log."""
    path = Path(url.split("://", 1)[1])
    if url.startswith("jsonl"):
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(lines[:keep]))
        return
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM events WHERE position > ?", (keep,))


def test_trusted_snapshot_is_used_without_notices(service: ClaimService) -> None:
    """An intact snapshot that matches the log is restored, and nothing is set aside."""
    _, tasks_file = _saved(service)
    runner = _reopened(service)
    assert runner.notices == []
    assert tasks_file.exists()
    assert {s.snapshot_position for s in runner.status()} == {service.store.head_position()}


def _remove_log(folder: Path) -> None:
    """Delete the store's files (the log and SQLite's side files), keep the snapshots."""
    for path in folder.iterdir():
        if path.is_file():
            path.unlink()


def _dead_pid() -> int:
    """The id of a process that has exited."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_tasks_snapshot_from_before_ended_leases_is_rebuilt(service: ClaimService) -> None:
    """A tasks snapshot of schema 1 (no ``ended_lease``) is set aside, not read as empty."""
    _, tasks_file = _saved(service)
    head = service.store.head()
    _, _, payload = tasks_file.read_bytes().partition(b"\n")
    state = msgspec.msgpack.decode(payload)
    for task in state["tasks"].values():
        del task["ended_lease"], task["ended_by"]
    tasks_file.unlink()
    old = _write_snapshot(
        tasks_file.parent,
        schema_version=1,
        state=state,
        position=head.position,
        head_hash=head.hash,
        recorded_at=head.recorded_at,
    )
    runner = _reopened(service)
    _set_aside(runner, old, "schema version 1")
    assert runner.catch_up().tasks["b"].ended_by == "released"
    assert_same_board(runner.catch_up(), rebuilt(service))
